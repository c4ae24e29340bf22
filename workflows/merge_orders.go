package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// MergeOrders merges the RAW events not merged yet into PROD.orders: newest
// event per order, only newer versions overwrite, position advanced in the
// same transaction. A run with nothing new is a cheap, successful skip.
//
// Ingest nudges the run with ID names.NudgedMergeID by signal-with-start
// after committed batches; nudges that arrive while it merges make it merge
// once more, then it returns. So fresh events reach PROD in seconds, and
// nudges never start a second merge beside the first.
func MergeOrders(ctx workflow.Context, in params.MergeOrdersInput) (params.MergeOrdersResult, error) {
	markRun(ctx, names.MergeOrders)
	var total params.MergeOrdersResult
	nudges := workflow.GetSignalChannel(ctx, names.SignalNudge)
	// v1: the nudge loop (runs recorded before it merged once and returned).
	loop := workflow.GetVersion(ctx, "merge-nudge-loop", workflow.DefaultVersion, 1) == 1
	for {
		if loop {
			for nudges.ReceiveAsync(nil) { // coalesce nudges already here
			}
		}
		var res params.MergeOrdersResult
		if err := workflow.ExecuteActivity(steadyActivity(ctx, 10*time.Minute), acts.MergeRawToProd, in).Get(ctx, &res); err != nil {
			return total, err
		}
		total.Add(res)
		// A nudge that arrived during the merge may have missed it: merge again.
		// (One arriving as the run completes makes the server hand the
		// workflow a new task, so this check sees it.)
		if !loop || !in.Nudged || !nudges.ReceiveAsync(nil) {
			break
		}
	}
	return total, nil
}
