package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/params"
)

// MergeRawToProd merges RAW events not merged yet into PROD.orders.
func (a *Activities) MergeRawToProd(ctx context.Context, _ params.MergeOrdersInput) (params.MergeOrdersResult, error) {
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
