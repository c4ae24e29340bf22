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
// The run with ID names.NudgedMergeID (Nudged) is the merger: ingest starts
// it by signal-with-start after committed batches, and it runs one
// MergeUntilIdle activity, which merges whenever RAW has new events until a
// minute passes without any. So fresh events reach PROD within a second or
// two, nudges never start a second merge beside the first, and a steady
// stream costs Temporal one activity every MergerMaxRun, not a workflow per
// merge. It continues as new at MergerMaxRun and before its history reaches
// MergerHistoryBound events.
func MergeOrders(ctx workflow.Context, in params.MergeOrdersInput) (params.MergeOrdersResult, error) {
	markRun(ctx, names.MergeOrders)
	var total params.MergeOrdersResult
	nudges := workflow.GetSignalChannel(ctx, names.SignalNudge)
	// v1: the nudge loop (runs recorded before it merged once and returned).
	// v2: the merger (v1 merged again for every nudge received meanwhile).
	v := workflow.GetVersion(ctx, "merge-nudge-loop", workflow.DefaultVersion, 2)
	if in.Nudged && v >= 2 {
		return merger(ctx, nudges)
	}
	loop := v == 1
	// merge-activity-name v1: the activity is named MergeOrders, like the
	// workflow and the adapter (runs recorded before scheduled MergeRawToProd).
	merge := names.ActivityMergeRawToProd
	if workflow.GetVersion(ctx, "merge-activity-name", workflow.DefaultVersion, 1) == 1 {
		merge = names.ActivityMergeOrders
	}
	for {
		if loop {
			for nudges.ReceiveAsync(nil) { // coalesce nudges already here
			}
		}
		var res params.MergeOrdersResult
		if err := workflow.ExecuteActivity(steadyActivity(ctx, 10*time.Minute), merge, in).Get(ctx, &res); err != nil {
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

// merger runs MergeUntilIdle until it ends idle with no recent nudge, then
// returns; or continues as new at the activity's MaxRun or when nudges have
// grown the history to MergerHistoryBound.
func merger(ctx workflow.Context, nudges workflow.ReceiveChannel) (params.MergeOrdersResult, error) {
	var total params.MergeOrdersResult
	actCtx, cancel := workflow.WithCancel(ctx)
	actCtx = workflow.WithActivityOptions(actCtx, workflow.ActivityOptions{
		StartToCloseTimeout: params.MergerMaxRun + 5*time.Minute,
		HeartbeatTimeout:    15 * time.Second,
		RetryPolicy:         retry,
	})
	continueAsNew := func() error {
		for nudges.ReceiveAsync(nil) { // the new run merges first anyway
		}
		return workflow.NewContinueAsNewError(ctx, names.MergeOrders, params.MergeOrdersInput{Nudged: true})
	}
	for {
		var lastNudge time.Time
		fut := workflow.ExecuteActivity(actCtx, names.ActivityMergeUntilIdle, params.MergeUntilIdleInput{})
		var res params.MergeUntilIdleResult
		var err error
		finished := false
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(fut, func(f workflow.Future) { err = f.Get(ctx, &res); finished = true })
		sel.AddReceive(nudges, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); lastNudge = workflow.Now(ctx) })
		for !finished {
			sel.Select(ctx)
			for nudges.ReceiveAsync(nil) {
				lastNudge = workflow.Now(ctx)
			}
			if !finished && workflow.GetInfo(ctx).GetCurrentHistoryLength() >= params.MergerHistoryBound {
				// The activity sees the cancellation at its next heartbeat and
				// stops; merges are serialised, so the next run may start now.
				cancel()
				return total, continueAsNew()
			}
		}
		if err != nil {
			return total, err
		}
		total.Add(res.MergeOrdersResult)
		switch {
		case !res.Idle || workflow.GetInfo(ctx).GetCurrentHistoryLength() >= params.MergerHistoryBound:
			return total, continueAsNew()
		case !lastNudge.IsZero() && workflow.Now(ctx).Sub(lastNudge) < params.MergerIdle/2:
			// Idle means no new RAW for MergerIdle, and nudges follow commits:
			// a recent one is for a commit after the activity looked last.
			continue
		default:
			return total, nil
		}
	}
}
