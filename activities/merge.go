package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/params"
)

// MergeRawToProd merges RAW events not merged yet into PROD.orders.
//
// It heartbeats while it waits and merges, so that a merge whose worker died
// is retried elsewhere within the heartbeat timeout, not the StartToClose.
func (a *Activities) MergeRawToProd(ctx context.Context, _ params.MergeOrdersInput) (params.MergeOrdersResult, error) {
	stop := heartbeatEvery(ctx, 2*time.Second)
	defer stop()
	a.merging.Lock()
	defer a.merging.Unlock()
	began := time.Now()
	res, err := a.WH.MergeOrders(ctx)
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
