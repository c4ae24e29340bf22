package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

type seedData struct {
	in params.SeedDataInput
}

// SeedData generates the CSVs (deterministic for a seed and as_of) and
// upserts PROD.customers and PROD.inventory from them.
func SeedData(ctx workflow.Context, in params.SeedDataInput) (params.SeedDataResult, error) {
	var w seedData
	if err := w.setup(ctx, in); err != nil {
		return params.SeedDataResult{}, err
	}
	return w.run(ctx)
}

func (w *seedData) setup(ctx workflow.Context, in params.SeedDataInput) error {
	in, err := in.WithDefaults()
	if err != nil {
		return invalidInput(err)
	}
	markRun(ctx, names.SeedData)
	if in.AsOf == "" {
		// Midnight of the run's day: deterministic within a day and replay-safe.
		in.AsOf = workflow.Now(ctx).UTC().Truncate(24 * time.Hour).Format(time.RFC3339)
	}
	w.in = in
	return nil
}

func (w *seedData) run(ctx workflow.Context) (params.SeedDataResult, error) {
	var res params.SeedDataResult
	if err := workflow.ExecuteActivity(steadyActivity(ctx, 10*time.Minute), names.ActivityGenerateCSVs, w.in).Get(ctx, &res); err != nil {
		return res, err
	}
	if w.in.SkipProdLoad {
		return res, nil
	}
	err := workflow.ExecuteActivity(steadyActivity(ctx, 10*time.Minute), names.ActivityLoadReferenceData, res).Get(ctx, &res)
	return res, err
}
