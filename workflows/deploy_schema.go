package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// DeploySchema applies the warehouse migrations not applied yet (or, with
// dry_run, returns their SQL). A migration edited after it was applied stops
// the deploy with a SchemaChecksumMismatch error.
func DeploySchema(ctx workflow.Context, in params.DeploySchemaInput) (params.DeploySchemaResult, error) {
	markRun(ctx, names.DeploySchema)
	var res params.DeploySchemaResult
	err := workflow.ExecuteActivity(steadyActivity(ctx, 5*time.Minute), names.ActivityApplyMigrations, in).Get(ctx, &res)
	return res, err
}
