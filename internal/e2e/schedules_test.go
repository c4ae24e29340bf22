package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
)

// TestSchedulesReplaceCron applies the schedules from the starter, sees them
// run, and drives them the way an operator would.
func TestSchedulesReplaceCron(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s.deploySchema(ctx)
	out, code := s.starter("schedules", "apply", "--merge-every", "2s", "--validate-every", "3s")
	if code != 0 || !strings.Contains(out, "dropflow-merge") || !strings.Contains(out, "created") {
		t.Fatalf("apply: %d %s", code, out)
	}
	out, code = s.starter("schedules", "apply", "--merge-every", "2s", "--validate-every", "3s")
	if code != 0 || strings.Contains(out, "created") || !strings.Contains(out, "updated") {
		t.Fatalf("a second apply must update, not create: %d %s", code, out)
	}
	if out, code = s.starter("schedules", "list"); code != 0 || !strings.Contains(out, "dropflow-validate") || !strings.Contains(out, "2s") {
		t.Fatalf("list: %d %s", code, out)
	}
	// Scheduled merges run, named by the schedule and its time, and an empty
	// RAW is a skip, not a failure.
	waitFor(t, "scheduled merges to complete", time.Minute, func() bool {
		resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: `WorkflowType = "MergeOrders" AND TemporalScheduledById = "dropflow-merge" AND ExecutionStatus = "Completed" AND DropflowSource = "schedule"`})
		if err != nil || len(resp.Executions) < 2 {
			return false
		}
		return strings.HasPrefix(resp.Executions[0].Execution.WorkflowId, "MergeOrders-scheduled-")
	})
	// The scheduled validation on an empty warehouse warns (no events), it does not fail.
	waitFor(t, "a scheduled validation", time.Minute, func() bool {
		resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: `WorkflowType = "ValidatePipeline" AND TemporalScheduledById = "dropflow-validate" AND ExecutionStatus = "Completed"`})
		return err == nil && len(resp.Executions) > 0
	})
	if out, code = s.starter("schedules", "pause", "merge", "--note", "maintenance"); code != 0 {
		t.Fatalf("pause: %d %s", code, out)
	}
	if out, code = s.starter("schedules", "describe", "merge"); code != 0 || !strings.Contains(out, "paused     true maintenance") || !strings.Contains(out, "overlap    Skip") {
		t.Fatalf("describe after pause: %d %s", code, out)
	}
	if out, code = s.starter("schedules", "trigger", "merge"); code != 0 {
		t.Fatalf("trigger: %d %s", code, out)
	}
	if out, code = s.starter("schedules", "unpause", "merge"); code != 0 {
		t.Fatalf("unpause: %d %s", code, out)
	}
	now := time.Now().UTC()
	if out, code = s.starter("schedules", "backfill", "validate", "--start", now.Add(-10*time.Second).Format(time.RFC3339), "--end", now.Format(time.RFC3339)); code != 0 {
		t.Fatalf("backfill: %d %s", code, out)
	}
	for _, id := range []string{"merge", "validate"} {
		if out, code = s.starter("schedules", "delete", id); code != 0 {
			t.Fatalf("delete %s: %d %s", id, code, out)
		}
	}
	if out, _ = s.starter("schedules", "list"); strings.Contains(out, "dropflow-merge") {
		t.Fatalf("deleted schedule still listed:\n%s", out)
	}
}
