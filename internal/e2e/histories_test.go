package e2e

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

var record = flag.Bool("record", false, "re-record workflows/testdata histories from a real run")

// TestReplayHistoriesCoverEveryWorkflow checks that workflows/testdata holds a
// recorded history of every workflow type (the replay test in workflows/
// replays them). With -record it records them anew from a real run:
//
//	go test ./internal/e2e -run TestReplayHistoriesCoverEveryWorkflow -record
func TestReplayHistoriesCoverEveryWorkflow(t *testing.T) {
	root, err := devstack.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "workflows", "testdata")
	if *record {
		recordHistories(t, dir)
	}
	for _, wt := range names.AllWorkflows() {
		matches, _ := filepath.Glob(filepath.Join(dir, wt+"*.json"))
		if len(matches) == 0 {
			t.Errorf("no recorded history of %s in %s (run this test with -record)", wt, dir)
		}
	}
}

func recordHistories(t *testing.T, dir string) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	save := func(id, file string) {
		out, err := s.temporalCLI("workflow", "show", "--workflow-id", id, "--output", "json")
		if err != nil {
			t.Fatalf("show %s: %v\n%s", id, err, out)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	save("rec", names.Pipeline+".json")
	for _, wt := range []string{names.DeploySchema, names.SeedData, names.ProduceOrders, names.IngestOrders, names.MergeOrders, names.ValidatePipeline} {
		save(names.ChildID("rec", wt), wt+".json")
	}
	save("rec-stream", names.ProduceOrders+"-stream-signals.json")
	save("rec-follow", names.IngestOrders+"-follow-stop.json")
}
