package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

type produceOrders struct {
	in       params.ProduceOrdersInput
	progress params.ProduceProgress
	deadline time.Time
	start    time.Time
}

// ProduceOrders sends order events to Kafka in chunks: a replay of
// orders.csv, or a synthetic stream (new orders plus updates of orders
// already sent). Each chunk is a heartbeating activity bounded in count and
// time that resumes after the last acknowledged write. While it runs, the
// pause/resume signals and the set_rate update steer it, and the progress
// query reports it. An unbounded stream continues as new to keep its history
// small.
func ProduceOrders(ctx workflow.Context, in params.ProduceOrdersInput) (params.ProduceOrdersResult, error) {
	var w produceOrders
	if err := w.setup(ctx, in); err != nil {
		return params.ProduceOrdersResult{}, err
	}
	return w.run(ctx)
}

func (w *produceOrders) setup(ctx workflow.Context, in params.ProduceOrdersInput) error {
	in, err := in.WithDefaults()
	if err != nil {
		return invalidInput(err)
	}
	w.in = in
	markRun(ctx, names.ProduceOrders)
	now := workflow.Now(ctx).UTC()
	if in.Carry != nil {
		w.progress = *in.Carry
		w.in.Carry = nil
	} else {
		w.progress = params.ProduceProgress{Rate: in.Rate, StartedAt: now.Format(time.RFC3339Nano),
			Customers: in.Customers, FirstOrderID: in.FirstOrderID, Spacing: params.Duration(streamSpacing(in.Rate)), Dataset: in.Dataset}
		if in.Duration > 0 {
			w.progress.Deadline = now.Add(in.Duration.D()).Format(time.RFC3339Nano)
		}
	}
	w.start, _ = time.Parse(time.RFC3339Nano, w.progress.StartedAt)
	if w.progress.Deadline != "" {
		w.deadline, _ = time.Parse(time.RFC3339Nano, w.progress.Deadline)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		pause := workflow.GetSignalChannel(ctx, names.SignalPause)
		resume := workflow.GetSignalChannel(ctx, names.SignalResume)
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(pause, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); w.progress.Paused = true })
			sel.AddReceive(resume, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); w.progress.Paused = false })
			sel.Select(ctx)
		}
	})
	if err := workflow.SetUpdateHandlerWithOptions(ctx, names.UpdateSetRate,
		func(ctx workflow.Context, rate float64) (params.ProduceProgress, error) {
			w.progress.Rate = rate
			return w.progress, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, rate float64) error { return params.ValidRate(rate) }},
	); err != nil {
		return err
	}
	return workflow.SetQueryHandler(ctx, names.QueryProgress, func() (params.ProduceProgress, error) { return w.progress, nil })
}

// streamSpacing spaces synthetic orders' sold_at so that a stream at its
// starting rate keeps them in the past.
func streamSpacing(rate float64) time.Duration {
	if rate <= 0 {
		return 10 * time.Microsecond
	}
	return time.Duration(float64(time.Second) / rate)
}

func (w *produceOrders) run(ctx workflow.Context) (params.ProduceOrdersResult, error) {
	for {
		if w.progress.Paused {
			if err := workflow.Await(ctx, func() bool { return !w.progress.Paused }); err != nil {
				return w.result(), err
			}
		}
		count := w.in.ChunkSize
		if w.in.Limit > 0 {
			count = min(count, w.in.Limit-w.progress.Sent)
		}
		maxDur := params.ProduceChunkTime
		if !w.deadline.IsZero() {
			left := w.deadline.Sub(workflow.Now(ctx))
			maxDur = min(maxDur, left)
		}
		if count <= 0 || maxDur <= 0 {
			break
		}
		var r params.ProduceChunkResult
		err := workflow.ExecuteActivity(longActivity(ctx, maxDur+2*time.Minute), names.ActivityProduceChunk, params.ProduceChunkParams{
			Mode: w.in.Mode, Dataset: w.progress.Dataset, SourceSHA256: w.progress.SourceSHA256, OrdersCSV: w.in.OrdersCSV, InventoryCSV: w.in.InventoryCSV,
			Customers: w.progress.Customers, FirstOrderID: w.progress.FirstOrderID, Seed: w.in.Seed,
			StreamStart: w.progress.StartedAt, Spacing: w.progress.Spacing,
			Topic: w.in.Topic, Position: w.progress.Position, ByteOffset: w.progress.ByteOffset, Count: count, Rate: w.progress.Rate,
			MaxDuration: params.Duration(maxDur),
		}).Get(ctx, &r)
		if err != nil {
			return w.result(), err
		}
		w.progress.Chunks++
		w.progress.Errors += r.Attempt - 1
		w.progress.Topic = r.Topic
		w.progress.Sent += r.Sent
		w.progress.Position += int64(r.Sent)
		w.progress.ByteOffset = r.NextByteOffset
		if r.Customers > 0 {
			w.progress.Customers, w.progress.FirstOrderID = r.Customers, r.FirstOrderID
		}
		// Every later chunk, on whichever worker, reads what the first one did.
		if r.Dataset != nil && w.progress.Dataset == nil {
			w.progress.Dataset = r.Dataset
		}
		if r.SourceSHA256 != "" && w.progress.SourceSHA256 == "" {
			w.progress.SourceSHA256 = r.SourceSHA256
		}
		if r.EOF {
			break
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// Let a set_rate in flight finish before handing over the state.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return w.result(), err
			}
			in := w.in
			carry := w.progress
			in.Carry = &carry
			return w.result(), workflow.NewContinueAsNewError(ctx, ProduceOrders, in)
		}
	}
	w.progress.Done = true
	return w.result(), nil
}

func (w *produceOrders) result() params.ProduceOrdersResult {
	return params.ProduceOrdersResult{Topic: w.progress.Topic, Mode: w.in.Mode, Sent: w.progress.Sent, Chunks: w.progress.Chunks, Position: w.progress.Position}
}
