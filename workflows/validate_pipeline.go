package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// ValidatePipeline runs the checks, stores the report, and fails the run
// (so that the Web UI shows it failed, naming the failing checks) when any
// check fails, unless allow_fail is set.
func ValidatePipeline(ctx workflow.Context, in params.ValidatePipelineInput) (params.ValidationReport, error) {
	markRun(ctx, names.ValidatePipeline)
	var rep params.ValidationReport
	if err := workflow.ExecuteActivity(steadyActivity(ctx, 10*time.Minute), names.ActivityRunValidation, in).Get(ctx, &rep); err != nil {
		return rep, err
	}
	if rep.Status == params.StatusFail && !in.AllowFail {
		return rep, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("validation FAIL: %s (report %s)", strings.Join(rep.FailingChecks(), ", "), rep.ReportPath),
			names.ErrValidationFailed, nil, rep)
	}
	return rep, nil
}
