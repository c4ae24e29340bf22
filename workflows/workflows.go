// Package workflows holds Dropflow's deterministic workflow code: one file per
// workflow type, each an exported function over a private struct with setup
// and run. No I/O, clocks, goroutines or map iteration here: activities do the
// work, and workflowcheck verifies it in CI.
package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// Registry is what Register needs: a worker or a test environment.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every workflow type under its public name.
func Register(r Registry) {
	for _, w := range []struct {
		name string
		fn   any
	}{
		{names.Pipeline, Pipeline},
		{names.DeploySchema, DeploySchema},
		{names.SeedData, SeedData},
		{names.ProduceOrders, ProduceOrders},
		{names.IngestOrders, IngestOrders},
		{names.MergeOrders, MergeOrders},
		{names.ValidatePipeline, ValidatePipeline},
	} {
		r.RegisterWorkflowWithOptions(w.fn, workflow.RegisterOptions{Name: w.name})
	}
}

// retry is the default policy: exponential backoff, bounded so that a stuck
// dependency fails the run visibly within minutes instead of hanging forever.
var retry = &temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    30 * time.Second,
	MaximumAttempts:    12,
}

// shortActivity suits one-statement warehouse work.
func shortActivity(ctx workflow.Context, startToClose time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: startToClose, RetryPolicy: retry})
}

// steadyActivity suits one long call that heartbeats on a timer while it
// runs (a merge, a deploy, a seed load, the validation): a worker that dies
// under it is noticed within 15 s, not at StartToClose.
func steadyActivity(ctx workflow.Context, startToClose time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: startToClose,
		HeartbeatTimeout:    15 * time.Second,
		RetryPolicy:         retry,
	})
}

// longActivity suits heartbeating activities.
func longActivity(ctx workflow.Context, startToClose time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: startToClose,
		// Loaders and producers heartbeat after every write (well under a
		// second); a killed worker's activity is retried elsewhere within this.
		HeartbeatTimeout: 10 * time.Second,
		RetryPolicy:      retry,
	})
}

// invalidInput turns an input error into a non-retryable failure naming the field.
func invalidInput(err error) error {
	var inv *params.InvalidInputError
	if errors.As(err, &inv) {
		return temporal.NewNonRetryableApplicationError(err.Error(), names.ErrInvalidInput, nil, inv.Field)
	}
	return err
}

// Search attributes the workflows set (registered by the worker at start).
var (
	stageKey  = temporal.NewSearchAttributeKeyKeyword(names.SearchAttrStage)
	sourceKey = temporal.NewSearchAttributeKeyKeyword(names.SearchAttrSource)
	// TemporalScheduledById is set by Temporal on runs a schedule started.
	scheduledByKey = temporal.NewSearchAttributeKeyKeyword("TemporalScheduledById")
)

// markRun sets DropflowStage and DropflowSource (pipeline, schedule or
// manual) so that runs can be filtered in the Web UI, for example
// `DropflowStage = "IngestOrders" AND DropflowSource = "schedule"`.
func markRun(ctx workflow.Context, stage string) {
	// v1: search attributes (runs recorded before them set none).
	if workflow.GetVersion(ctx, "search-attributes", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	info := workflow.GetInfo(ctx)
	source := "manual"
	if info.ParentWorkflowExecution != nil {
		source = "pipeline"
	} else if _, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(scheduledByKey); ok {
		source = "schedule"
	}
	// Best effort: a failed upsert must not fail the run.
	_ = workflow.UpsertTypedSearchAttributes(ctx, stageKey.ValueSet(stage), sourceKey.ValueSet(source))
}

// markStage updates DropflowStage as a Pipeline moves through its steps.
func markStage(ctx workflow.Context, stage string) {
	if workflow.GetVersion(ctx, "search-attributes", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, stageKey.ValueSet(stage))
}
