package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/params"
)

// MergeOrders merges RAW events not merged yet into PROD.orders.
//
// It heartbeats while it waits and merges, so that a merge whose worker died
// is retried elsewhere within the heartbeat timeout, not the StartToClose.
func (a *Activities) MergeOrders(ctx context.Context, _ params.MergeOrdersInput) (params.MergeOrdersResult, error) {
	stop := heartbeatEvery(ctx, 2*time.Second)
	defer stop()
	return a.merge(ctx)
}

// merge runs one MergeOrders of the warehouse, serialised in this process,
// and records its metrics.
func (a *Activities) merge(ctx context.Context) (params.MergeOrdersResult, error) {
	a.merging.Lock()
	defer a.merging.Unlock()
	began := time.Now()
	wr, err := a.WH.MergeOrders(ctx)
	res := params.MergeOrdersResult(wr)
	if err != nil {
		return res, classify(err)
	}
	m := a.Metrics
	m.MergeDuration.Observe(time.Since(began).Seconds())
	m.MergeLastRun.SetToCurrentTime()
	m.MergeRows.WithLabelValues("inserted").Add(float64(res.Inserted))
	m.MergeRows.WithLabelValues("updated").Add(float64(res.Updated))
	m.MergeRows.WithLabelValues("unchanged").Add(float64(res.Unchanged))
	for _, s := range res.LagSample {
		m.ProdFreshness.Observe(s)
	}
	activity.GetLogger(ctx).Info("merge done", "source_events", res.SourceEvents, "inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged, "nothing_new", res.NothingNew)
	return res, nil
}

// MergeUntilIdle is the merger's one activity: it merges whenever RAW has
// events not merged yet, polling the warehouse every in.Poll (a batch
// committed on this host wakes it at once), and returns after in.Idle
// without new events, or at in.MaxRun. Merges and polls add no history
// events: the cost of a steady stream to Temporal is this activity's
// start and end, not a workflow per merge.
//
// The heartbeat carries the result so far; a retried attempt starts from
// it, so the run's totals count each merge once.
func (a *Activities) MergeUntilIdle(ctx context.Context, in params.MergeUntilIdleInput) (params.MergeUntilIdleResult, error) {
	poll, idle, maxRun := in.Poll.D(), in.Idle.D(), in.MaxRun.D()
	if poll <= 0 {
		poll = params.MergerPoll
	}
	if idle <= 0 {
		idle = params.MergerIdle
	}
	if maxRun <= 0 {
		maxRun = params.MergerMaxRun
	}
	var total params.MergeUntilIdleResult
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &total) // best effort: totals only
	}
	began, lastNew := time.Now(), time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-a.mergeWake():
		case <-timer.C:
		}
		has, err := a.WH.HasUnmerged(ctx)
		if err != nil {
			return total, classify(err)
		}
		if has {
			stop := heartbeatEvery(ctx, 2*time.Second, total)
			merging := time.Now()
			res, err := a.merge(ctx)
			stop()
			if err != nil {
				return total, err
			}
			total.Add(res)
			lastNew = time.Now()
			if err := a.restAfterMerge(ctx, params.MergerRest*time.Since(merging), poll, total); err != nil {
				return total, err
			}
		}
		switch {
		case !has && time.Since(lastNew) >= idle:
			total.Idle = true
			return total, nil
		case time.Since(began) >= maxRun:
			return total, nil
		}
		activity.RecordHeartbeat(ctx, total)
		// Look again at the poll, or sooner when the idle or run limit falls due.
		timer.Reset(max(0, min(poll, idle-time.Since(lastNew), maxRun-time.Since(began))))
	}
}

// restAfterMerge rests rest (MergerRest times the merge's duration) while
// this host's loaders are behind their partitions (a backlog: merges are
// large and, on DuckDB, take the cores ingest needs), and ends the rest as
// soon as they have caught up, but never before min(rest, MergerSteadyRest):
// a steady stream's merges of milliseconds rest as little, and one merge
// after a large one leaves the lock free for a moment (a scheduled or manual
// MergeOrders gets in), without holding fresh events back for long. It
// heartbeats; a wake meanwhile waits in its channel and starts the next merge.
func (a *Activities) restAfterMerge(ctx context.Context, rest, poll time.Duration, details any) error {
	began := time.Now()
	steady := min(rest, params.MergerSteadyRest)
	for {
		since := time.Since(began)
		if since >= rest || (since >= steady && !a.ingestBehind()) {
			return nil
		}
		next := rest - since
		if !a.ingestBehind() {
			next = steady - since
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(poll, next)):
		}
		activity.RecordHeartbeat(ctx, details)
	}
}

// ingestBehind reports whether a loader here was behind in the last 2 s.
func (a *Activities) ingestBehind() bool {
	at := a.behindAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < 2*time.Second
}

// mergeWake is how LoadPartition wakes this host's merger after a commit
// (wakeMerger, never blocking); MergeUntilIdle receives from it.
func (a *Activities) mergeWake() chan struct{} {
	a.wakeOnce.Do(func() { a.wake = make(chan struct{}, 1) })
	return a.wake
}

// wakeMerger wakes this host's merger, if it runs here, without waiting.
func (a *Activities) wakeMerger() {
	select {
	case a.mergeWake() <- struct{}{}:
	default:
	}
}

// heartbeatEvery records a heartbeat every interval until stop is called: for
// activities whose one long call (a MERGE, a lock wait) has no progress of its own.
// Details, if any, are repeated each time (a heartbeat replaces the last
// one's details, and resuming activities read them).
func heartbeatEvery(ctx context.Context, interval time.Duration, details ...any) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details...)
			}
		}
	}()
	return func() { close(done) }
}

// mergeRawToProd is MergeOrders under names.ActivityMergeRawToProd, its name
// in runs recorded before the rename (see Register).
func (a *Activities) mergeRawToProd(ctx context.Context, in params.MergeOrdersInput) (params.MergeOrdersResult, error) {
	return a.MergeOrders(ctx, in)
}
