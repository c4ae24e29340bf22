package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// QueryTagInterceptor tags every warehouse statement an activity runs with
// its workflow type, workflow ID and activity type, so that Dropflow's
// queries are found by workflow in Snowflake's QUERY_HISTORY.
func QueryTagInterceptor() interceptor.WorkerInterceptor { return &queryTagWorker{} }

type queryTagWorker struct {
	interceptor.WorkerInterceptorBase
}

func (*queryTagWorker) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &queryTagActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type queryTagActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *queryTagActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	ctx = warehouse.WithQueryTag(ctx, warehouse.QueryTag{
		Workflow:   info.WorkflowType.Name,
		WorkflowID: info.WorkflowExecution.ID,
		Activity:   info.ActivityType.Name,
	})
	sum := sha256.Sum256([]byte(info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + info.ActivityID))
	ctx = warehouse.WithAttempt(ctx, warehouse.Attempt{Key: hex.EncodeToString(sum[:8]), N: int(info.Attempt)})
	return a.Next.ExecuteActivity(ctx, in)
}
