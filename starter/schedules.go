package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

const schedulesUsage = `usage: starter schedules <action> [flags]

  apply       create or update the schedules that replace cron (idempotent):
              --merge-every 1m --validate-every 15m [--stream-rate N] [--follow-ingest]
              schedules not asked for (stream, follow) are removed
  list        every schedule with its interval, state and next run
  describe    ID   spec, state, recent and running actions
  pause       ID [--note text]
  unpause     ID [--note text]
  trigger     ID   run its action now
  backfill    ID --start RFC3339 --end RFC3339   run the actions of a past window
  delete      ID

IDs: dropflow-merge, dropflow-validate, dropflow-stream, dropflow-follow-ingest
(or their short names merge, validate, stream, follow).
`

// desiredSchedule is one schedule apply manages.
type desiredSchedule struct {
	id       string
	every    time.Duration
	workflow string
	actionID string
	input    any
	note     string
}

func scheduleID(s string) string {
	switch s {
	case "merge":
		return names.ScheduleMerge
	case "validate":
		return names.ScheduleValidate
	case "stream":
		return names.ScheduleStream
	case "follow":
		return names.ScheduleFollow
	}
	return s
}

func cmdSchedules(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, schedulesUsage)
		if len(args) == 0 {
			return usageError{errors.New("schedules: want an action")}
		}
		return nil
	}
	action, rest := args[0], args[1:]
	if action == "apply" {
		return schedulesApply(ctx, rest, out)
	}
	if action == "list" {
		return schedulesList(ctx, out)
	}
	fs := flag.NewFlagSet("schedules "+action, flag.ContinueOnError)
	note := fs.String("note", "", "note shown in the Web UI (pause, unpause)")
	start := fs.String("start", "", "backfill: window start, RFC 3339")
	end := fs.String("end", "", "backfill: window end, RFC 3339")
	var id string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		id, rest = scheduleID(rest[0]), rest[1:]
	}
	if err := parse(fs, rest, out); err != nil {
		return err
	}
	switch action {
	case "describe", "pause", "unpause", "trigger", "delete", "backfill":
	default: // refused before any connection
		return usageError{fmt.Errorf("schedules: unknown action %q\n\n%s", action, schedulesUsage)}
	}
	if id == "" {
		return usageError{fmt.Errorf("schedules %s: want a schedule ID\n\n%s", action, schedulesUsage)}
	}
	var backfill client.ScheduleBackfill
	if action == "backfill" {
		s, e1 := time.Parse(time.RFC3339, *start)
		e, e2 := time.Parse(time.RFC3339, *end)
		if e1 != nil || e2 != nil || !e.After(s) {
			return usageError{errors.New("schedules backfill: want --start and --end in RFC 3339, end after start")}
		}
		backfill = client.ScheduleBackfill{Start: s, End: e, Overlap: enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL}
	}
	tc, err := dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	h := tc.ScheduleClient().GetHandle(ctx, id)
	switch action {
	case "describe":
		d, err := h.Describe(ctx)
		if err != nil {
			return fmt.Errorf("describe %s: %w", id, err)
		}
		printSchedule(out, id, d)
		return nil
	case "pause":
		err = h.Pause(ctx, client.SchedulePauseOptions{Note: *note})
	case "unpause":
		err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: *note})
	case "trigger":
		err = h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL})
	case "delete":
		err = h.Delete(ctx)
	case "backfill":
		err = h.Backfill(ctx, client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{backfill}})
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, id, err)
	}
	fmt.Fprintf(out, "%s: %s done\n", id, action)
	return nil
}

func schedulesApply(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("schedules apply", flag.ContinueOnError)
	mergeEvery := fs.Duration("merge-every", params.DefaultMergeEvery, "MergeOrders interval")
	validateEvery := fs.Duration("validate-every", params.DefaultValidateEvery, "ValidatePipeline interval")
	streamRate := fs.Float64("stream-rate", 0, "also keep a ProduceOrders stream at this rate running (0 = none)")
	follow := fs.Bool("follow-ingest", false, "also keep a following IngestOrders running")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if *mergeEvery < time.Second || *validateEvery < time.Second {
		return usageError{errors.New("schedules apply: intervals must be at least 1s")}
	}
	want := []desiredSchedule{
		{names.ScheduleMerge, *mergeEvery, names.MergeOrders, "MergeOrders-scheduled", params.MergeOrdersInput{}, "RAW to PROD merge (replaces the Snowflake task's cron)"},
		{names.ScheduleValidate, *validateEvery, names.ValidatePipeline, "ValidatePipeline-scheduled", params.ValidatePipelineInput{}, "pipeline validation"},
	}
	// Long runs: the schedule restarts them if they end; overlap skip keeps one.
	optional := []struct {
		on bool
		d  desiredSchedule
	}{
		{*streamRate > 0, desiredSchedule{names.ScheduleStream, time.Minute, names.ProduceOrders, "ProduceOrders-scheduled-stream", params.ProduceOrdersInput{Mode: params.ModeStream, Rate: *streamRate}, "continuous synthetic order stream"}},
		{*follow, desiredSchedule{names.ScheduleFollow, time.Minute, names.IngestOrders, "IngestOrders-scheduled-follow", params.IngestOrdersInput{Mode: params.ModeFollow}, "continuous ingest"}},
	}
	tc, err := dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	sc := tc.ScheduleClient()
	for _, o := range optional {
		if o.on {
			want = append(want, o.d)
			continue
		}
		if err := sc.GetHandle(ctx, o.d.id).Delete(ctx); err == nil {
			fmt.Fprintf(out, "%-24s deleted (not asked for)\n", o.d.id)
		}
	}
	for _, d := range want {
		spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: d.every}}}
		act := &client.ScheduleWorkflowAction{ID: d.actionID, Workflow: d.workflow, Args: []any{d.input}, TaskQueue: names.TaskQueue}
		_, err := sc.Create(ctx, client.ScheduleOptions{ID: d.id, Spec: spec, Action: act, Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP, Note: d.note})
		switch {
		case err == nil:
			fmt.Fprintf(out, "%-24s created: %s every %s\n", d.id, d.workflow, d.every)
		case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
			err = sc.GetHandle(ctx, d.id).Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				s := in.Description.Schedule
				s.Spec = &spec
				s.Action = act
				if s.Policy == nil {
					s.Policy = &client.SchedulePolicies{}
				}
				s.Policy.Overlap = enums.SCHEDULE_OVERLAP_POLICY_SKIP
				return &client.ScheduleUpdate{Schedule: &s}, nil
			}})
			if err != nil {
				return fmt.Errorf("update schedule %s: %w", d.id, err)
			}
			fmt.Fprintf(out, "%-24s updated: %s every %s\n", d.id, d.workflow, d.every)
		default:
			return fmt.Errorf("create schedule %s: %w", d.id, err)
		}
	}
	return nil
}

func schedulesList(ctx context.Context, out io.Writer) error {
	tc, err := dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	it, err := tc.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return fmt.Errorf("list schedules: %w", err)
	}
	fmt.Fprintf(out, "%-24s %-18s %-10s %-7s %s\n", "ID", "WORKFLOW", "EVERY", "PAUSED", "NEXT RUN")
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return fmt.Errorf("list schedules: %w", err)
		}
		every := ""
		if e.Spec != nil && len(e.Spec.Intervals) > 0 {
			every = e.Spec.Intervals[0].Every.String()
		}
		next := ""
		if len(e.NextActionTimes) > 0 {
			next = e.NextActionTimes[0].UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(out, "%-24s %-18s %-10s %-7v %s\n", e.ID, e.WorkflowType.Name, every, e.Paused, next)
	}
	return nil
}

func printSchedule(out io.Writer, id string, d *client.ScheduleDescription) {
	s := d.Schedule
	fmt.Fprintf(out, "schedule   %s\n", id)
	if a, ok := s.Action.(*client.ScheduleWorkflowAction); ok {
		fmt.Fprintf(out, "action     start %s (workflow ID %s-<scheduled time>)\n", a.Workflow, a.ID)
	}
	if s.Spec != nil {
		for _, iv := range s.Spec.Intervals {
			fmt.Fprintf(out, "every      %s\n", iv.Every)
		}
	}
	if s.Policy != nil {
		fmt.Fprintf(out, "overlap    %s\n", s.Policy.Overlap)
	}
	if s.State != nil {
		fmt.Fprintf(out, "paused     %v %s\n", s.State.Paused, s.State.Note)
	}
	fmt.Fprintf(out, "actions    %d taken, %d skipped (overlap), %d missed\n", d.Info.NumActions, d.Info.NumActionsSkippedOverlap, d.Info.NumActionsMissedCatchupWindow)
	for _, r := range d.Info.RunningWorkflows {
		fmt.Fprintf(out, "running    %s\n", r.WorkflowID)
	}
	for _, r := range d.Info.RecentActions {
		if r.StartWorkflowResult != nil {
			fmt.Fprintf(out, "recent     %s %s\n", r.ScheduleTime.UTC().Format(time.RFC3339), r.StartWorkflowResult.WorkflowID)
		}
	}
	for _, t := range d.Info.NextActionTimes {
		fmt.Fprintf(out, "next       %s\n", t.UTC().Format(time.RFC3339))
	}
}
