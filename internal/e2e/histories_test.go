package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

var record = flag.Bool("record", false, "record workflows/testdata/"+recordedDir+" histories from a real run of today's code")

// recordedDir holds the histories recorded from the current code (version
// markers, search attributes, the merger); the older ones in testdata/ stay
// as they were recorded, so replay covers both branches of every gate.
const recordedDir = "recorded-2026-12-03"

// TestReplayHistoriesCoverEveryWorkflow checks that workflows/testdata holds
// recorded histories of every workflow type, from the first code and from
// today's (with GetVersion markers and search-attribute upserts); the replay
// test in workflows/ replays them all. With -record it records today's anew:
//
//	go test ./internal/e2e -run 'TestReplayHistoriesCoverEveryWorkflow|TestUnboundedRunsContinueAsNew' -record
func TestReplayHistoriesCoverEveryWorkflow(t *testing.T) {
	root, err := devstack.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "workflows", "testdata")
	if *record {
		recordHistories(t, filepath.Join(dir, recordedDir))
	}
	for _, d := range []string{dir, filepath.Join(dir, recordedDir)} {
		for _, wt := range names.AllWorkflows() {
			matches, _ := filepath.Glob(filepath.Join(d, wt+"*.json"))
			if len(matches) == 0 {
				t.Errorf("no recorded history of %s in %s (run this test with -record)", wt, d)
			}
		}
	}
	// Today's histories exercise today's branches.
	for file, wants := range map[string][]string{
		names.Pipeline + ".json":                       {"marker:search-attributes", "UpsertWorkflowSearchAttributes"},
		names.MergeOrders + ".json":                    {"marker:merge-activity-name", "activity:" + names.ActivityMergeOrders},
		names.MergeOrders + "-merger-continued.json":   {"marker:merge-nudge-loop", "activity:MergeUntilIdle", "WorkflowExecutionSignaled", "WorkflowExecutionContinuedAsNew"},
		names.IngestOrders + "-follow-stop.json":       {"marker:follow-wait-for-loaders"},
		names.ProduceOrders + "-stream-continued.json": {"WorkflowExecutionContinuedAsNew"},
		names.IngestOrders + "-follow-continued.json":  {"WorkflowExecutionContinuedAsNew"},
	} {
		facts := historyFacts(t, filepath.Join(dir, recordedDir, file))
		for _, w := range wants {
			if !facts[w] {
				t.Errorf("%s/%s has no %s: not recorded from today's code", recordedDir, file, w)
			}
		}
	}
}

// historyFacts lists what a recorded history holds: its event types, its
// version markers' change IDs ("marker:ID") and its activity types ("activity:T").
func historyFacts(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -record)", err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	facts := map[string]bool{}
	for _, ev := range h.GetEvents() {
		facts[ev.GetEventType().String()] = true
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			var id string
			if p := m.GetDetails()["change-id"]; p != nil && len(p.GetPayloads()) > 0 {
				_ = converter.GetDefaultDataConverter().FromPayload(p.GetPayloads()[0], &id)
			}
			facts["marker:"+id] = true
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			facts["activity:"+a.GetActivityType().GetName()] = true
		}
	}
	return facts
}

// saveHistory writes one run's history as `temporal workflow show` prints it.
func (s *stack) saveHistory(dir, id, runID, file string) {
	s.t.Helper()
	args := []string{"workflow", "show", "--workflow-id", id, "--output", "json"}
	if runID != "" {
		args = append(args, "--run-id", runID)
	}
	out, err := s.temporalCLI(args...)
	if err != nil {
		s.t.Fatalf("show %s: %v\n%s", id, err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(out), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func recordHistories(t *testing.T, dir string) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var pr params.PipelineResult
	if err := execute(t, s.client, "rec", names.Pipeline, params.PipelineInput{Customers: 20, Products: 5, Orders: 300}).Get(ctx, &pr); err != nil {
		t.Fatal(err)
	}
	// A stream steered by signals and an update, and a follower stopped by its signal.
	stream := execute(t, s.client, "rec-stream", names.ProduceOrders, params.ProduceOrdersInput{Mode: params.ModeStream, Rate: 200, Limit: 600})
	time.Sleep(time.Second)
	h, err := s.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: "rec-stream", UpdateName: names.UpdateSetRate, Args: []any{400.0}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.client.SignalWorkflow(ctx, "rec-stream", "", names.SignalPause, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(params.ProduceChunkTime + time.Second)
	if err := s.client.SignalWorkflow(ctx, "rec-stream", "", names.SignalResume, nil); err != nil {
		t.Fatal(err)
	}
	follow := execute(t, s.client, "rec-follow", names.IngestOrders, params.IngestOrdersInput{Mode: params.ModeFollow})
	if err := stream.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := s.client.SignalWorkflow(ctx, "rec-follow", "", names.SignalStop, nil); err != nil {
		t.Fatal(err)
	}
	if err := follow.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The merger (started by the ingests above) continued as new by nudges.
	for i := 0; i < 200; i++ {
		if _, err := s.client.SignalWithStartWorkflow(ctx, names.NudgedMergeID, names.SignalNudge, nil,
			client.StartWorkflowOptions{ID: names.NudgedMergeID, TaskQueue: names.TaskQueue}, names.MergeOrders, params.MergeOrdersInput{Nudged: true}); err != nil {
			t.Fatal(err)
		}
	}
	var mergerRun string
	waitFor(t, "a merger run continued as new", time.Minute, func() bool {
		c, _, run := s.continuedRuns(ctx, names.NudgedMergeID)
		mergerRun = run
		return c > 0
	})

	s.saveHistory(dir, "rec", "", names.Pipeline+".json")
	for _, wt := range []string{names.DeploySchema, names.SeedData, names.ProduceOrders, names.IngestOrders, names.MergeOrders, names.ValidatePipeline} {
		s.saveHistory(dir, names.ChildID("rec", wt), "", wt+".json")
	}
	s.saveHistory(dir, "rec-stream", "", names.ProduceOrders+"-stream-signals.json")
	s.saveHistory(dir, "rec-follow", "", names.IngestOrders+"-follow-stop.json")
	s.saveHistory(dir, names.NudgedMergeID, mergerRun, names.MergeOrders+"-merger-continued.json")
	t.Logf("recorded %s", fmt.Sprint(dir))
}
