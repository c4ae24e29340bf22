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
	markRun(ctx, names.IngestOrders)
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
		if err := w.round(ctx); err != nil {
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

// follow runs one following LoadPartition per partition for FollowChunk,
// starting loaders for partitions that appear meanwhile (checked every
// partition_watch), then continues as
// new. The stop signal cancels the loaders, which finish their batch first.
func (w *ingestOrders) follow(ctx workflow.Context) (params.IngestOrdersResult, error) {
	cctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	workflow.Go(ctx, func(ctx workflow.Context) {
		_ = workflow.Await(ctx, func() bool { return w.stop })
		cancel()
	})
	chunkEnd := workflow.Now(ctx).Add(w.in.FollowChunk.D())
	// v1: a stop waits for the loaders' last batch and totals (runs recorded
	// before returned at once and lost the counts of their last chunk).
	waitLoaders := workflow.GetVersion(ctx, "follow-wait-for-loaders", workflow.DefaultVersion, 1) == 1
	sel := workflow.NewSelector(ctx)
	running := map[int]bool{} // lookups only: never iterated
	pending := 0
	var firstErr error
	start := func(p int) {
		left := chunkEnd.Sub(workflow.Now(ctx))
		if left <= 0 {
			return
		}
		running[p] = true
		pending++
		actx := workflow.WithWaitForCancellation(longActivity(cctx, left+5*time.Minute), waitLoaders)
		f := workflow.ExecuteActivity(actx, names.ActivityLoadPartition, w.loadParams(p, true, left))
		sel.AddFuture(f, func(f workflow.Future) {
			pending--
			var pr params.PartitionResult
			if err := f.Get(ctx, &pr); err != nil {
				if !w.stop && firstErr == nil {
					firstErr = err
					cancel() // one partition failing stops the run visibly
				}
				return
			}
			w.res.Add(pr)
		})
	}
	for _, p := range w.partsOf {
		start(p)
	}
	watching := false
	for pending > 0 {
		if !watching && !w.stop && firstErr == nil {
			watching = true
			sel.AddFuture(workflow.NewTimer(cctx, w.in.PartitionWatch.D()), func(f workflow.Future) {
				watching = false
				if f.Get(ctx, nil) != nil || w.stop {
					return
				}
				if err := w.listPartitions(cctx); err != nil {
					return // retried at the next tick; the loaders keep going
				}
				for _, p := range w.partsOf {
					if !running[p] {
						start(p)
					}
				}
			})
		}
		sel.Select(ctx)
	}
	w.res.Rounds++
	if firstErr != nil {
		return w.res, firstErr
	}
	if w.stop {
		return w.res, nil
	}
	return w.res, w.continueAsNew(ctx)
}

func (w *ingestOrders) loadParams(p int, follow bool, maxDur time.Duration) params.LoadPartitionParams {
	return params.LoadPartitionParams{
		Topic: w.in.Topic, Partition: p, BatchRecords: w.in.BatchRecords, BatchBytes: w.in.BatchBytes,
		BatchWait: w.in.BatchWait, Follow: follow, MaxDuration: params.Duration(maxDur), OffsetReset: w.in.OffsetReset,
	}
}

func (w *ingestOrders) continueAsNew(ctx workflow.Context) error {
	in := w.in
	carry := w.res
	in.Carry = &carry
	return workflow.NewContinueAsNewError(ctx, IngestOrders, in)
}

func (w *ingestOrders) listPartitions(ctx workflow.Context) error {
	var parts []int
	if err := workflow.ExecuteActivity(shortActivity(ctx, time.Minute), names.ActivityListPartitions, w.in.Topic).Get(ctx, &parts); err != nil {
		return err
	}
	w.partsOf = parts
	w.res.Partitions = len(parts)
	return nil
}

// round runs one draining LoadPartition per partition in parallel and folds results.
func (w *ingestOrders) round(ctx workflow.Context) error {
	actx := longActivity(ctx, time.Hour)
	futures := make([]workflow.Future, len(w.partsOf))
	for i, p := range w.partsOf {
		futures[i] = workflow.ExecuteActivity(actx, names.ActivityLoadPartition, w.loadParams(p, false, 0))
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
