package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// killWorker ends the worker with SIGKILL: no shutdown, no flush.
func (s *stack) killWorker() {
	s.worker.Kill()
	s.worker = nil
}

// deploySchema runs DeploySchema on the stack and waits for it.
func (s *stack) deploySchema(ctx context.Context) {
	s.t.Helper()
	if err := execute(s.t, s.client, "schema", names.DeploySchema, params.DeploySchemaInput{}).Get(ctx, nil); err != nil {
		s.t.Fatalf("deploy schema: %v", err)
	}
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", limit, what)
}

func execute(t *testing.T, c client.Client, id, workflowType string, in any) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: names.TaskQueue}, workflowType, in)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestKillWorkerMidReplayAndMidDrain kills the worker with SIGKILL in the
// middle of a replay and again in the middle of a drain; a new worker
// finishes each job, and RAW and PROD hold every event exactly once.
func TestKillWorkerMidReplayAndMidDrain(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const orders = 20000

	s.deploySchema(ctx)
	var seed params.SeedDataResult
	if err := execute(t, s.client, "seed", names.SeedData, params.SeedDataInput{Orders: orders}).Get(ctx, &seed); err != nil {
		t.Fatal(err)
	}

	// Replay at 4000 events/s; kill once about 4000 are acknowledged.
	produce := execute(t, s.client, "produce", names.ProduceOrders, params.ProduceOrdersInput{Rate: 4000})
	waitFor(t, "the replay to be under way", time.Minute, func() bool {
		v, err := s.client.QueryWorkflow(ctx, "produce", "", names.QueryProgress)
		if err != nil {
			return false
		}
		var p params.ProduceProgress
		return v.Get(&p) == nil && p.Sent >= 4000 // a finished chunk: the next one is in flight
	})
	time.Sleep(300 * time.Millisecond)
	s.killWorker()
	s.startWorker()
	var pr params.ProduceOrdersResult
	if err := produce.Get(ctx, &pr); err != nil {
		t.Fatalf("replay did not finish after the kill: %v\n%s", err, s.logs())
	}
	if pr.Sent != orders {
		t.Fatalf("replay sent %d, want %d", pr.Sent, orders)
	}

	// Drain in small batches; kill once some batches are committed.
	kc, err := kafka.NewClient(s.brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	ingest := execute(t, s.client, "ingest", names.IngestOrders, params.IngestOrdersInput{BatchRecords: 100, BatchWait: params.Duration(time.Second)})
	waitFor(t, "the drain to be under way", time.Minute, func() bool {
		offs, err := kc.GroupOffsets(ctx, "dropflow-ingest", topic, []int{0, 1, 2})
		if err != nil {
			return false
		}
		total := int64(0)
		for _, p := range []int{0, 1, 2} {
			if offs[p] > 0 {
				total += offs[p]
			}
		}
		return total >= 2000
	})
	s.killWorker()
	s.startWorker()
	var ir params.IngestOrdersResult
	if err := ingest.Get(ctx, &ir); err != nil {
		t.Fatalf("drain did not finish after the kill: %v\n%s", err, s.logs())
	}
	var mr params.MergeOrdersResult
	if err := execute(t, s.client, "merge", names.MergeOrders, params.MergeOrdersInput{}).Get(ctx, &mr); err != nil {
		t.Fatal(err)
	}
	var rep params.ValidationReport
	if err := execute(t, s.client, "validate", names.ValidatePipeline, params.ValidatePipelineInput{}).Get(ctx, &rep); err != nil {
		t.Fatalf("validation after the kills: %v", err)
	}
	s.stopWorker()

	snap := inspect(t, s)
	if snap.rawEvents != orders || snap.rawDistinctIDs != orders || snap.rejects != 0 {
		t.Fatalf("RAW after kills: %d rows, %d distinct events, %d rejects; want %d once each", snap.rawEvents, snap.rawDistinctIDs, snap.rejects, orders)
	}
	want := csvLines(t, filepath.Join(s.dir, "data", "seed", "orders.csv"))
	if len(snap.orders) != len(want) {
		t.Fatalf("PROD has %d orders, CSV %d", len(snap.orders), len(want))
	}
	for i := range want {
		if snap.orders[i] != want[i] {
			t.Fatalf("PROD row %d: %s, CSV %s", i, snap.orders[i], want[i])
		}
	}
	// The resumed replay resends what its last recorded heartbeat did not
	// cover: at most one chunk, recognised downstream by event_id.
	if chunk := int64(4000 * params.ProduceChunkTime.Seconds()); ir.Duplicates > chunk {
		t.Fatalf("%d resent events: more than one chunk", ir.Duplicates)
	}
	t.Logf("after the kills, ingest skipped %d duplicate events resent by the resumed replay", ir.Duplicates)
}

// TestIngestWaitsForTheBroker starts ingest while the broker is down; it
// retries with backoff and loads everything once the broker is back.
func TestIngestWaitsForTheBroker(t *testing.T) {
	s := newStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	kc, err := kafka.NewClient(s.brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	prod := kc.NewProducer(topic)
	var msgs []kafka.Message
	for i := int64(1); i <= 300; i++ {
		msgs = append(msgs, event(t, i))
	}
	if err := prod.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	s.broker.Close() // its log stays in the data dir

	s.startWorker()
	s.deploySchema(ctx)
	ingest := execute(t, s.client, "ingest-no-broker", names.IngestOrders, params.IngestOrdersInput{})
	time.Sleep(3 * time.Second)
	select {
	case <-done(ingest):
		t.Fatal("ingest finished while the broker was down")
	default:
	}
	s.startBroker()
	var ir params.IngestOrdersResult
	if err := ingest.Get(ctx, &ir); err != nil {
		t.Fatalf("ingest failed instead of waiting for the broker: %v\n%s", err, s.logs())
	}
	if ir.Loaded != 300 {
		t.Fatalf("loaded %d, want 300", ir.Loaded)
	}
}

func done(run client.WorkflowRun) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		_ = run.Get(context.Background(), nil)
		close(ch)
	}()
	return ch
}
