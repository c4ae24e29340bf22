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
var recordedIDs = map[string]string{"Pipeline.json": "rec", "recorded-2026-12/Pipeline.json": "rec", "recorded-2026-12-03/Pipeline.json": "rec"}

// TestReplayRecordedHistories replays histories recorded from real runs
// (temporal workflow show --output json) against the current code: a change
// that is not deterministic for running workflows, and not guarded by
// workflow.GetVersion, fails here.
func TestReplayRecordedHistories(t *testing.T) {
	// testdata/*.json were recorded from the first code (DefaultVersion
	// branches); testdata/recorded-2026-12 from the code with every gate up to
	// the merger; testdata/recorded-2026-12-03 from today's (the merge
	// activity's new name too).
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"recorded-2026-12", "recorded-2026-12-03"} {
		recent, _ := filepath.Glob(filepath.Join("testdata", set, "*.json"))
		if len(recent) < 11 {
			t.Fatalf("want the 11 recorded histories of %s, found %d", set, len(recent))
		}
		files = append(files, recent...)
	}
	if len(files) < 7+22 {
		t.Fatalf("want recorded histories of each of the 7 workflow types from the first code, found %d files in all", len(files))
	}
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
