package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// continuedRuns counts a workflow ID's runs and those that continued as new.
func (s *stack) continuedRuns(ctx context.Context, id string) (continued, total int, firstContinued string) {
	s.t.Helper()
	resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = %q", id)})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, e := range resp.Executions {
		total++
		if e.Status == enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
			continued++
			firstContinued = e.Execution.RunId
		}
	}
	return continued, total, firstContinued
}

// TestUnboundedRunsContinueAsNew: a stream without a limit continues as new
// when the server suggests it (here after 40 history events), a follower at
// every follow_chunk, and both carry their totals across runs. With -record
// it also records one continued run of each for the replay test.
func TestUnboundedRunsContinueAsNew(t *testing.T) {
	s := newStackWith(t, "limit.historyCount.suggestContinueAsNew=40")
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s.deploySchema(ctx)
	if err := execute(t, s.client, "can-seed", names.SeedData, params.SeedDataInput{Orders: 100}).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	follow := execute(t, s.client, "can-follow", names.IngestOrders, params.IngestOrdersInput{Mode: params.ModeFollow, FollowChunk: params.Duration(3 * time.Second)})
	var st params.ProduceOrdersResult
	if err := execute(t, s.client, "can-stream", names.ProduceOrders, params.ProduceOrdersInput{Mode: params.ModeStream, Rate: 100, Duration: params.Duration(36 * time.Second)}).Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	sc, sn, streamRun := s.continuedRuns(ctx, "can-stream")
	if sc < 1 {
		t.Fatalf("a 36 s stream with the server suggesting continue-as-new at 40 events ran as %d run(s), none continued", sn)
	}
	// Totals carried: the last run alone sent a fraction of it.
	if st.Sent < 3000 {
		t.Fatalf("stream over %d runs reports %d sent: totals not carried across runs", sn, st.Sent)
	}
	kc, err := kafka.NewClient(s.brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follower to load the stream", time.Minute, func() bool {
		end, committed := topicTotals(ctx, kc)
		return end > 0 && committed == end
	})
	if err := s.client.SignalWorkflow(ctx, "can-follow", "", names.SignalStop, nil); err != nil {
		t.Fatal(err)
	}
	var ir params.IngestOrdersResult
	if err := follow.Get(ctx, &ir); err != nil {
		t.Fatal(err)
	}
	fc, fn, followRun := s.continuedRuns(ctx, "can-follow")
	if fc < 5 || ir.Loaded != int64(st.Sent) || ir.Rounds < fc {
		t.Fatalf("follower: %d runs (%d continued), loaded %d of %d, %d rounds: want a run per 3 s chunk and every event counted once", fn, fc, ir.Loaded, st.Sent, ir.Rounds)
	}
	t.Logf("stream: %d runs, %d sent; follower: %d runs, %d loaded in %d rounds", sn, st.Sent, fn, ir.Loaded, ir.Rounds)

	if *record {
		root, err := devstack.ModuleRoot(".")
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, "workflows", "testdata", recordedDir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s.saveHistory(dir, "can-stream", streamRun, names.ProduceOrders+"-stream-continued.json")
		s.saveHistory(dir, "can-follow", followRun, names.IngestOrders+"-follow-continued.json")
	}
}
