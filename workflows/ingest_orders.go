package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// drainPoll is how long a drain round waits for the drain signal before
// loading again (Pipeline runs ingest alongside the producer).
const drainPoll = 2 * time.Second

type ingestOrders struct {
	in      params.IngestOrdersInput
	res     params.IngestOrdersResult
	drain   bool // drain signal received
	stop    bool // stop signal received
	partsOf []int
}

// IngestOrders runs one heartbeating LoadPartition activity per partition of
// the topic. In drain mode it returns when every partition is loaded up to
// its end offset; in follow mode it keeps loading (continuing as new after
// each follow_chunk) until the stop signal, which ends it after the current
// batch.
func IngestOrders(ctx workflow.Context, in params.IngestOrdersInput) (params.IngestOrdersResult, error) {
	var w ingestOrders
	if err := w.setup(ctx, in); err != nil {
		return params.IngestOrdersResult{}, err
	}
	return w.run(ctx)
}

func (w *ingestOrders) setup(ctx workflow.Context, in params.IngestOrdersInput) error {
	in, err := in.WithDefaults()
	if err != nil {
		return invalidInput(err)
	}
	w.in = in
	if in.Carry != nil {
		w.res = *in.Carry
		w.in.Carry = nil
	}
	drainCh := workflow.GetSignalChannel(ctx, names.SignalDrain)
	stopCh := workflow.GetSignalChannel(ctx, names.SignalStop)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(drainCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); w.drain = true })
			sel.AddReceive(stopCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); w.stop = true })
			sel.Select(ctx)
		}
	})
	return workflow.SetQueryHandler(ctx, names.QueryProgress, func() (params.IngestOrdersResult, error) { return w.res, nil })
}

func (w *ingestOrders) run(ctx workflow.Context) (params.IngestOrdersResult, error) {
	if err := w.listPartitions(ctx); err != nil {
		return w.res, err
	}
	if w.in.Mode == params.ModeFollow {
		return w.follow(ctx)
	}
	for {
		final := !w.in.AwaitDrainSignal || w.drain
		if err := w.round(ctx, false); err != nil {
			return w.res, err
		}
		if final {
			return w.res, nil
		}
		if _, err := workflow.AwaitWithTimeout(ctx, drainPoll, func() bool { return w.drain }); err != nil {
			return w.res, err
		}
		if err := w.listPartitions(ctx); err != nil { // picks up new partitions
			return w.res, err
		}
		if !w.drain && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return w.res, w.continueAsNew(ctx)
		}
	}
}

func (w *ingestOrders) follow(ctx workflow.Context) (params.IngestOrdersResult, error) {
	cctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	workflow.Go(ctx, func(ctx workflow.Context) {
		_ = workflow.Await(ctx, func() bool { return w.stop })
		cancel() // loaders finish their current batch and return
	})
	if err := w.round(cctx, true); err != nil && !w.stop {
		return w.res, err
	}
	if w.stop {
		return w.res, nil
	}
	return w.res, w.continueAsNew(ctx)
}

func (w *ingestOrders) continueAsNew(ctx workflow.Context) error {
	in := w.in
	carry := w.res
	in.Carry = &carry
	return workflow.NewContinueAsNewError(ctx, IngestOrders, in)
}

func (w *ingestOrders) listPartitions(ctx workflow.Context) error {
	var parts []int
	if err := workflow.ExecuteActivity(shortActivity(ctx, time.Minute), acts.ListPartitions, w.in.Topic).Get(ctx, &parts); err != nil {
		return err
	}
	w.partsOf = parts
	w.res.Partitions = len(parts)
	return nil
}

// round runs one LoadPartition per partition in parallel and folds results.
func (w *ingestOrders) round(ctx workflow.Context, follow bool) error {
	timeout := time.Hour
	if follow {
		timeout = w.in.FollowChunk.D() + 5*time.Minute
	}
	actx := longActivity(ctx, timeout)
	futures := make([]workflow.Future, len(w.partsOf))
	for i, p := range w.partsOf {
		futures[i] = workflow.ExecuteActivity(actx, acts.LoadPartition, params.LoadPartitionParams{
			Topic: w.in.Topic, Partition: p, BatchRecords: w.in.BatchRecords, BatchBytes: w.in.BatchBytes,
			BatchWait: w.in.BatchWait, Follow: follow, MaxDuration: w.in.FollowChunk,
		})
	}
	var firstErr error
	for _, f := range futures {
		var pr params.PartitionResult
		if err := f.Get(ctx, &pr); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		w.res.Add(pr)
	}
	w.res.Rounds++
	return firstErr
}
