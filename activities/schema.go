package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/params"
)

// ApplyMigrations applies (or with DryRun lists) the warehouse migrations.
func (a *Activities) ApplyMigrations(ctx context.Context, in params.DeploySchemaInput) (params.DeploySchemaResult, error) {
	defer heartbeatEvery(ctx, 2*time.Second)()
	wr, err := a.WH.Migrate(ctx, in.DryRun)
	res := params.DeploySchemaResult(wr)
	if err != nil {
		return res, classify(err)
	}
	activity.GetLogger(ctx).Info("schema deployed", "dialect", a.WH.Dialect(), "applied", res.Applied, "already", len(res.Already), "dry_run", in.DryRun)
	return res, nil
}
