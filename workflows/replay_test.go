package workflows

import (
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// recordedIDs are the workflow IDs of the recorded runs whose logic depends
// on their own ID (Pipeline names its children after it).
var recordedIDs = map[string]string{"Pipeline.json": "rec", "recorded-2026-12/Pipeline.json": "rec"}

// TestReplayRecordedHistories replays histories recorded from real runs
// (temporal workflow show --output json) against the current code: a change
// that is not deterministic for running workflows, and not guarded by
// workflow.GetVersion, fails here.
func TestReplayRecordedHistories(t *testing.T) {
	// testdata/*.json were recorded from the first code (DefaultVersion
	// branches); testdata/recorded-2026-12 from today's (every version gate,
	// search attributes, the merger, continue-as-new).
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	today, _ := filepath.Glob(filepath.Join("testdata", "recorded-2026-12", "*.json"))
	if len(files) < 7 || len(today) < 11 {
		t.Fatalf("want recorded histories of each of the 7 workflow types from both codes, found %d and %d files", len(files), len(today))
	}
	files = append(files, today...)
	for _, f := range files {
		rel, _ := filepath.Rel("testdata", f)
		t.Run(rel, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			Register(r)
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			h, err := client.HistoryFromJSON(fh, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			id := recordedIDs[filepath.ToSlash(rel)]
			if id == "" {
				id = "replay"
			}
			opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id, RunID: "replay-run"}}
			if err := r.ReplayWorkflowHistoryWithOptions(nil, h, opts); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
