package e2e

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
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

// TestKillWorkerMidDrain SIGKILLs the worker while a drain is loading in
// small batches: the kill lands with committed offsets below the end, the
// loaders' next attempts (attempt > 1) resume from the warehouse's offsets on
// a new worker within the heartbeat timeout + 5 s, and RAW holds every event
// once. (Kills mid-replay, of the broker and of Temporal: chaos_test.go.)
func TestKillWorkerMidDrain(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const events = 20000
	s.deploySchema(ctx)
	s.sendEvents(ctx, 1, events+1)
	kc, err := kafka.NewClient(s.brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	committed := func() int64 {
		_, c := topicTotals(ctx, kc)
		return c
	}
	ingest := execute(t, s.client, "drain", names.IngestOrders, params.IngestOrdersInput{BatchRecords: 50, BatchWait: params.Duration(time.Second)})
	waitFor(t, "the drain to be under way", time.Minute, func() bool { return committed() >= 1000 })
	s.killWorker()
	killed := time.Now()
	atKill := committed()
	if atKill <= 0 || atKill >= events {
		t.Fatalf("the kill landed with %d of %d committed: not mid-drain", atKill, events)
	}
	s.startWorker()
	waitFor(t, "loading to resume", time.Minute, func() bool { return committed() > atKill })
	resumed := time.Since(killed)
	var ir params.IngestOrdersResult
	if err := ingest.Get(ctx, &ir); err != nil {
		t.Fatalf("drain did not finish after the kill: %v\n%s", err, s.logs())
	}
	retried := 0
	it := s.client.GetWorkflowHistory(ctx, "drain", "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > 1 {
			retried++
		}
	}
	s.stopWorker()
	snap := inspect(t, s)
	if snap.rawEvents != events || snap.rawDistinctIDs != events || snap.rejects != 0 {
		t.Fatalf("RAW after the kill: %d rows, %d distinct, %d rejects; want %d once each", snap.rawEvents, snap.rawDistinctIDs, snap.rejects, events)
	}
	if retried == 0 {
		t.Fatal("no activity attempt > 1: the kill did not interrupt a loader")
	}
	// The retried loaders started from the warehouse's offsets: they loaded
	// what was not committed at the kill. The group offsets read at the kill
	// trail the warehouse's by at most the batch each loader had committed
	// but not yet published (50 records per partition).
	if uncommitted := events - atKill; ir.Loaded > uncommitted || ir.Loaded < uncommitted-3*50 || ir.Duplicates != 0 {
		t.Fatalf("after the kill the loaders loaded %d new and %d duplicates; %d were uncommitted at the kill (group offsets)", ir.Loaded, ir.Duplicates, uncommitted)
	}
	if resumed > 15*time.Second {
		t.Fatalf("loading resumed %s after the kill, want <= heartbeat timeout (10 s) + 5 s", resumed)
	}
	t.Logf("killed at %d/%d committed; %d loader attempts > 1; loading again %s after the kill; the retried loaders loaded %d (no duplicates: %d)",
		atKill, events, retried, resumed.Round(100*time.Millisecond), ir.Loaded, ir.Duplicates)
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
