package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// describeSchedule returns the schedule's description through the client.
func (s *stack) describeSchedule(ctx context.Context, id string) *client.ScheduleDescription {
	s.t.Helper()
	d, err := s.client.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		s.t.Fatalf("describe schedule %s: %v", id, err)
	}
	return d
}

// scheduleGone reports whether the schedule no longer exists.
func (s *stack) scheduleGone(ctx context.Context, id string) bool {
	_, err := s.client.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// countRuns counts the workflow runs matching a visibility query.
func (s *stack) countRuns(ctx context.Context, query string) int64 {
	s.t.Helper()
	resp, err := s.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		s.t.Fatalf("count %q: %v", query, err)
	}
	return resp.Count
}

// workflowStatus is the status of a workflow's latest run, or
// UNSPECIFIED when no workflow has that ID.
func (s *stack) workflowStatus(ctx context.Context, id string) (enums.WorkflowExecutionStatus, string) {
	s.t.Helper()
	d, err := s.client.DescribeWorkflow(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return enums.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED, ""
	}
	if err != nil {
		s.t.Fatalf("describe workflow %s: %v", id, err)
	}
	info := d.RawResponse.GetWorkflowExecutionInfo()
	return info.GetStatus(), info.GetType().GetName()
}

// TestSchedulesReplaceCron applies the schedules from the starter, sees them
// run, and drives them the way an operator would, checking each action's
// effect on the schedule and its runs through the Temporal client.
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
	created := time.Now().UTC()
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

	// pause: the schedule is paused with its note and takes no scheduled action.
	if out, code = s.starter("schedules", "pause", "merge", "--note", "maintenance"); code != 0 {
		t.Fatalf("pause: %d %s", code, out)
	}
	if out, code = s.starter("schedules", "describe", "merge"); code != 0 || !strings.Contains(out, "paused     true maintenance") || !strings.Contains(out, "overlap    Skip") {
		t.Fatalf("describe after pause: %d %s", code, out)
	}
	d := s.describeSchedule(ctx, names.ScheduleMerge)
	if !d.Schedule.State.Paused || d.Schedule.State.Note != "maintenance" {
		t.Fatalf("after pause: paused=%v note=%q", d.Schedule.State.Paused, d.Schedule.State.Note)
	}
	paused := d.Info.NumActions
	time.Sleep(3 * time.Second) // more than one 2s interval
	if n := s.describeSchedule(ctx, names.ScheduleMerge).Info.NumActions; n != paused {
		t.Fatalf("a paused schedule took %d actions", n-paused)
	}

	// trigger: one MergeOrders run now, although the schedule is paused.
	runsBefore := s.countRuns(ctx, `WorkflowType = "MergeOrders" AND TemporalScheduledById = "dropflow-merge"`)
	triggered := time.Now().UTC().Truncate(time.Second)
	if out, code = s.starter("schedules", "trigger", "merge"); code != 0 || !strings.Contains(out, "dropflow-merge: trigger done") {
		t.Fatalf("trigger: %d %s", code, out)
	}
	var triggeredID string
	waitFor(t, "the triggered action", 20*time.Second, func() bool {
		d = s.describeSchedule(ctx, names.ScheduleMerge)
		if d.Info.NumActions != paused+1 || len(d.Info.RecentActions) == 0 {
			return false
		}
		last := d.Info.RecentActions[len(d.Info.RecentActions)-1]
		if last.StartWorkflowResult == nil || last.ScheduleTime.Before(triggered) {
			return false
		}
		triggeredID = last.StartWorkflowResult.WorkflowID
		return true
	})
	if !d.Schedule.State.Paused {
		t.Fatal("trigger unpaused the schedule")
	}
	if !strings.HasPrefix(triggeredID, "MergeOrders-scheduled-") {
		t.Fatalf("triggered run %q is not named by the schedule's action ID", triggeredID)
	}
	waitFor(t, "the triggered merge to complete", 30*time.Second, func() bool {
		st, typ := s.workflowStatus(ctx, triggeredID)
		if typ != "" && typ != names.MergeOrders {
			t.Fatalf("triggered run %s is a %s", triggeredID, typ)
		}
		return st == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	waitFor(t, "the triggered run in visibility", 20*time.Second, func() bool {
		return s.countRuns(ctx, `WorkflowType = "MergeOrders" AND TemporalScheduledById = "dropflow-merge"`) == runsBefore+1
	})

	// unpause: not paused any more, and scheduled actions resume.
	if out, code = s.starter("schedules", "unpause", "merge"); code != 0 || !strings.Contains(out, "dropflow-merge: unpause done") {
		t.Fatalf("unpause: %d %s", code, out)
	}
	waitFor(t, "the schedule to be unpaused", 10*time.Second, func() bool {
		return !s.describeSchedule(ctx, names.ScheduleMerge).Schedule.State.Paused
	})
	waitFor(t, "scheduled merges to resume", 20*time.Second, func() bool {
		return s.describeSchedule(ctx, names.ScheduleMerge).Info.NumActions >= paused+3
	})
	if out, code = s.starter("schedules", "describe", "merge"); code != 0 || !strings.Contains(out, "paused     false") {
		t.Fatalf("describe after unpause: %d %s", code, out)
	}

	// backfill: a past window of 6 s at one run every 3 s, start and end
	// included, starts exactly the three runs of its scheduled times. A second
	// backfill of one run is the sentinel: buffered backfill runs start one
	// after the other, in order, so once it is done the first one is too.
	start := created.Add(-time.Hour).Truncate(time.Minute) // on the 3 s grid
	end := start.Add(6 * time.Second)
	sentinel := start.Add(30 * time.Second)
	for _, w := range [][2]time.Time{{start, end}, {sentinel, sentinel.Add(time.Second)}} {
		if out, code = s.starter("schedules", "backfill", "validate", "--start", w[0].Format(time.RFC3339), "--end", w[1].Format(time.RFC3339)); code != 0 || !strings.Contains(out, "dropflow-validate: backfill done") {
			t.Fatalf("backfill: %d %s", code, out)
		}
	}
	for _, at := range []time.Time{start, start.Add(3 * time.Second), end, sentinel} {
		id := "ValidatePipeline-scheduled-" + at.Format(time.RFC3339)
		waitFor(t, "backfilled run "+id, 45*time.Second, func() bool {
			st, typ := s.workflowStatus(ctx, id)
			if typ != "" && typ != names.ValidatePipeline {
				t.Fatalf("backfilled run %s is a %s", id, typ)
			}
			if st != enums.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED && st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING && st != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				t.Fatalf("backfilled run %s: %s", id, st)
			}
			return st == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
		})
	}
	inWindow := fmt.Sprintf(`WorkflowType = "ValidatePipeline" AND TemporalScheduledById = "dropflow-validate" AND TemporalScheduledStartTime >= %q AND TemporalScheduledStartTime < %q`,
		start.Add(-time.Minute).Format(time.RFC3339), sentinel.Format(time.RFC3339))
	waitFor(t, "the backfilled runs in visibility", 20*time.Second, func() bool { return s.countRuns(ctx, inWindow) >= 3 })
	if n := s.countRuns(ctx, inWindow); n != 3 {
		t.Fatalf("backfill of [%s, %s] started %d runs, want 3", start.Format(time.RFC3339), end.Format(time.RFC3339), n)
	}

	for _, id := range []string{"merge", "validate"} {
		if out, code = s.starter("schedules", "delete", id); code != 0 {
			t.Fatalf("delete %s: %d %s", id, code, out)
		}
	}
	for _, id := range []string{names.ScheduleMerge, names.ScheduleValidate} {
		if !s.scheduleGone(ctx, id) {
			t.Fatalf("schedule %s still exists after delete", id)
		}
	}
	if out, _ = s.starter("schedules", "list"); strings.Contains(out, "dropflow-merge") {
		t.Fatalf("deleted schedule still listed:\n%s", out)
	}
}

// scheduleInput decodes the first argument of the schedule's workflow action.
func scheduleInput(t *testing.T, d *client.ScheduleDescription, want string, into any) {
	t.Helper()
	a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || a.Workflow != want || len(a.Args) != 1 {
		t.Fatalf("schedule action %+v, want one %s with one argument", d.Schedule.Action, want)
	}
	p, ok := a.Args[0].(*commonpb.Payload)
	if !ok {
		t.Fatalf("schedule argument is a %T", a.Args[0])
	}
	if err := converter.GetDefaultDataConverter().FromPayload(p, into); err != nil {
		t.Fatal(err)
	}
}

// outputRow returns the fields of the first line of out whose first field is
// id, or nil.
func outputRow(out, id string) []string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == id {
			return f
		}
	}
	return nil
}

// hasOutputRow reports whether out has a line that starts with the given fields.
func hasOutputRow(out string, fields ...string) bool {
	f := outputRow(out, fields[0])
	if len(f) < len(fields) {
		return false
	}
	for i := range fields {
		if f[i] != fields[i] {
			return false
		}
	}
	return true
}

// TestOptionalSchedules applies the optional schedules (a continuous stream
// and a following ingest), sees them created and listed, their action run,
// and removed again when the option is dropped or by delete.
func TestOptionalSchedules(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.deploySchema(ctx)

	out, code := s.starter("schedules", "apply", "--stream-rate", "50", "--follow-ingest")
	if code != 0 {
		t.Fatalf("apply with the options: %d %s", code, out)
	}
	for _, want := range [][]string{
		{names.ScheduleMerge, "created:", names.MergeOrders, "every", "1m0s"},
		{names.ScheduleValidate, "created:", names.ValidatePipeline, "every", "15m0s"},
		{names.ScheduleStream, "created:", names.ProduceOrders, "every", "1m0s"},
		{names.ScheduleFollow, "created:", names.IngestOrders, "every", "1m0s"},
	} {
		if !hasOutputRow(out, want...) {
			t.Fatalf("apply output lacks %q:\n%s", strings.Join(want, " "), out)
		}
	}
	if strings.Contains(out, "deleted") {
		t.Fatalf("apply with every option deleted a schedule:\n%s", out)
	}
	var stream params.ProduceOrdersInput
	scheduleInput(t, s.describeSchedule(ctx, names.ScheduleStream), names.ProduceOrders, &stream)
	if stream.Mode != params.ModeStream || stream.Rate != 50 {
		t.Fatalf("stream schedule input %+v, want mode stream at rate 50", stream)
	}
	var follow params.IngestOrdersInput
	d := s.describeSchedule(ctx, names.ScheduleFollow)
	scheduleInput(t, d, names.IngestOrders, &follow)
	if follow.Mode != params.ModeFollow || d.Schedule.Policy.Overlap != enums.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Fatalf("follow schedule: input %+v overlap %s, want mode follow, overlap skip", follow, d.Schedule.Policy.Overlap)
	}
	out, code = s.starter("schedules", "list")
	if code != 0 {
		t.Fatalf("list: %d %s", code, out)
	}
	for _, want := range [][]string{
		{names.ScheduleStream, names.ProduceOrders, "1m0s", "false"},
		{names.ScheduleFollow, names.IngestOrders, "1m0s", "false"},
	} {
		if !hasOutputRow(out, want...) {
			t.Fatalf("list lacks %q:\n%s", strings.Join(want, " "), out)
		}
	}

	// A new rate is an update of the same schedule.
	out, code = s.starter("schedules", "apply", "--stream-rate", "80", "--follow-ingest")
	if code != 0 || !hasOutputRow(out, names.ScheduleStream, "updated:") || strings.Contains(out, "created") {
		t.Fatalf("re-apply with another rate: %d %s", code, out)
	}
	scheduleInput(t, s.describeSchedule(ctx, names.ScheduleStream), names.ProduceOrders, &stream)
	if stream.Rate != 80 {
		t.Fatalf("stream schedule rate %v after re-apply, want 80", stream.Rate)
	}

	// The follow schedule's action is a following ingest that keeps running.
	// Paused first, so that only the trigger starts one.
	if out, code = s.starter("schedules", "pause", "follow"); code != 0 {
		t.Fatalf("pause follow: %d %s", code, out)
	}
	// A triggered run (overlap allow-all) is not among RunningWorkflows:
	// find it among the recent actions.
	seen := func() map[string]bool {
		m := map[string]bool{}
		d := s.describeSchedule(ctx, names.ScheduleFollow)
		for _, r := range d.Info.RunningWorkflows {
			m[r.WorkflowID] = true
		}
		for _, a := range d.Info.RecentActions {
			if a.StartWorkflowResult != nil {
				m[a.StartWorkflowResult.WorkflowID] = true
			}
		}
		return m
	}
	before := seen()
	if out, code = s.starter("schedules", "trigger", "follow"); code != 0 {
		t.Fatalf("trigger follow: %d %s", code, out)
	}
	var followers []string // every run of the schedule, to stop at the end
	followID := ""
	waitFor(t, "the triggered follower to start", 20*time.Second, func() bool {
		followers = followers[:0]
		for id := range seen() {
			followers = append(followers, id)
			if !before[id] {
				followID = id
			}
		}
		return followID != ""
	})
	if !strings.HasPrefix(followID, "IngestOrders-scheduled-follow-") {
		t.Fatalf("scheduled follower %q is not named by its action ID", followID)
	}
	time.Sleep(2 * time.Second)
	if st, typ := s.workflowStatus(ctx, followID); st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING || typ != names.IngestOrders {
		t.Fatalf("scheduled follower %s: %s %s, want a running IngestOrders", followID, typ, st)
	}

	// Dropping --follow-ingest removes its schedule; the stream stays.
	out, code = s.starter("schedules", "apply", "--stream-rate", "80")
	if code != 0 || !hasOutputRow(out, names.ScheduleFollow, "deleted", "(not", "asked", "for)") || !hasOutputRow(out, names.ScheduleStream, "updated:") {
		t.Fatalf("apply without --follow-ingest: %d %s", code, out)
	}
	if !s.scheduleGone(ctx, names.ScheduleFollow) || s.scheduleGone(ctx, names.ScheduleStream) {
		t.Fatalf("after dropping --follow-ingest: follow gone=%v, stream gone=%v; want true, false",
			s.scheduleGone(ctx, names.ScheduleFollow), s.scheduleGone(ctx, names.ScheduleStream))
	}
	// Removing a schedule leaves the runs it started: stop them here.
	for _, id := range followers {
		if st, _ := s.workflowStatus(ctx, id); st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			continue
		}
		if err := s.client.TerminateWorkflow(ctx, id, "", "schedule removed"); err != nil {
			t.Fatal(err)
		}
	}
	// Dropping every option removes the stream too; nothing left to remove after.
	out, code = s.starter("schedules", "apply")
	if code != 0 || !hasOutputRow(out, names.ScheduleStream, "deleted", "(not", "asked", "for)") || strings.Contains(out, names.ScheduleFollow) {
		t.Fatalf("apply without options: %d %s", code, out)
	}
	if !s.scheduleGone(ctx, names.ScheduleStream) {
		t.Fatal("stream schedule still exists after apply without --stream-rate")
	}
	out, code = s.starter("schedules", "list")
	if code != 0 || outputRow(out, names.ScheduleStream) != nil || outputRow(out, names.ScheduleFollow) != nil || outputRow(out, names.ScheduleMerge) == nil {
		t.Fatalf("list after dropping the options: %d %s", code, out)
	}

	// delete by short name removes an optional schedule as well.
	if out, code = s.starter("schedules", "apply", "--follow-ingest"); code != 0 || !hasOutputRow(out, names.ScheduleFollow, "created:") {
		t.Fatalf("apply --follow-ingest again: %d %s", code, out)
	}
	if out, code = s.starter("schedules", "delete", "follow"); code != 0 || !strings.Contains(out, "dropflow-follow-ingest: delete done") {
		t.Fatalf("delete follow: %d %s", code, out)
	}
	if !s.scheduleGone(ctx, names.ScheduleFollow) {
		t.Fatal("follow schedule still exists after delete")
	}
	if out, _ = s.starter("schedules", "list"); outputRow(out, names.ScheduleFollow) != nil {
		t.Fatalf("deleted follow schedule still listed:\n%s", out)
	}
}
