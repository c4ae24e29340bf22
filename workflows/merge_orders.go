package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/params"
)

// MergeOrders merges the RAW events not merged yet into PROD.orders: newest
// event per order, only newer versions overwrite, position advanced in the
// same transaction. A run with nothing new is a cheap, successful skip.
func MergeOrders(ctx workflow.Context, in params.MergeOrdersInput) (params.MergeOrdersResult, error) {
	var res params.MergeOrdersResult
	err := workflow.ExecuteActivity(shortActivity(ctx, 10*time.Minute), acts.MergeRawToProd, in).Get(ctx, &res)
	return res, err
}
