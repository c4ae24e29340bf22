package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

func idle(inserted int64) params.MergeUntilIdleResult {
	return params.MergeUntilIdleResult{Idle: true, MergeOrdersResult: params.MergeOrdersResult{Inserted: inserted, Merges: 2}}
}

// An idle merger with no recent nudge ends, with the merges' totals.
func TestMergerEndsWhenIdle(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityMergeUntilIdle, mock.Anything, mock.Anything).Return(idle(5), nil).Once()
	env.ExecuteWorkflow(MergeOrders, params.MergeOrdersInput{Nudged: true})
	require.True(t, env.IsWorkflowCompleted())
	var res params.MergeOrdersResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, int64(5), res.Inserted)
	require.Equal(t, 2, res.Merges, "Add keeps the merges a result folds in")
	env.AssertExpectations(t)
}

// At MaxRun (not idle) the merger continues as new instead of looping in
// one ever-growing history.
func TestMergerContinuesAsNewAtMaxRun(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityMergeUntilIdle, mock.Anything, mock.Anything).Return(params.MergeUntilIdleResult{}, nil).Once()
	env.ExecuteWorkflow(MergeOrders, params.MergeOrdersInput{Nudged: true})
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	require.Equal(t, names.MergeOrders, can.WorkflowType.Name)
}

// A nudge shortly before the activity ended idle is for a commit it may not
// have seen: the merger looks again. An old nudge does not keep it alive.
func TestMergerLooksAgainAfterALateNudge(t *testing.T) {
	for _, c := range []struct {
		nudgeAt time.Duration
		calls   int
	}{{85 * time.Second, 2}, {10 * time.Second, 1}} {
		env := newEnv(t)
		calls := 0
		env.OnActivity(names.ActivityMergeUntilIdle, mock.Anything, mock.Anything).After(90 * time.Second).Return(
			func(_ context.Context, _ params.MergeUntilIdleInput) (params.MergeUntilIdleResult, error) {
				calls++
				return idle(1), nil
			})
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(names.SignalNudge, nil) }, c.nudgeAt)
		env.ExecuteWorkflow(MergeOrders, params.MergeOrdersInput{Nudged: true})
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, c.calls, calls, "nudge at %s", c.nudgeAt)
	}
}

// A merger activity that fails for good fails the run (the next nudge
// starts a new one).
func TestMergerFailsWithItsActivity(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityMergeUntilIdle, mock.Anything, mock.Anything).Return(params.MergeUntilIdleResult{}, errors.New("warehouse gone"))
	env.ExecuteWorkflow(MergeOrders, params.MergeOrdersInput{Nudged: true})
	require.Error(t, env.GetWorkflowError())
}
