package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/params"
)

// MergeRawToProd merges RAW events not merged yet into PROD.orders.
func (a *Activities) MergeRawToProd(ctx context.Context, _ params.MergeOrdersInput) (params.MergeOrdersResult, error) {
	a.merging.Lock()
	defer a.merging.Unlock()
	res, err := a.WH.MergeOrders(ctx)
	if err != nil {
		return res, classify(err)
	}
	activity.GetLogger(ctx).Info("merge done", "source_events", res.SourceEvents, "inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged, "nothing_new", res.NothingNew)
	return res, nil
}
