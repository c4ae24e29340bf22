package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// host is one worker on a host of its own: its own working directory, data
// directory and HTTP port; it shares only Temporal, the broker and the warehouse.
type host struct {
	name, dir, httpAddr string
	worker              *devstack.Worker
}

func (s *stack) newHost(name string) *host {
	s.t.Helper()
	port, err := devstack.FreePort()
	if err != nil {
		s.t.Fatal(err)
	}
	h := &host{name: name, dir: filepath.Join(s.dir, name), httpAddr: fmt.Sprintf("127.0.0.1:%d", port)}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		if h.worker != nil {
			h.worker.Stop(20 * time.Second)
		}
	})
	return h
}

// hostEnv is the stack's environment with this host's own relative paths
// (resolved in its working directory) and port.
func (s *stack) hostEnv(h *host, extra ...string) []string {
	return append(append(s.env(), "DATA_DIR=data", "REPORTS_DIR=reports", "HTTP_ADDR="+h.httpAddr, "DUCKDB_PATH=data/warehouse.duckdb"), extra...)
}

func (s *stack) startHost(h *host) {
	s.t.Helper()
	w, err := devstack.StartWorkerIn(context.Background(), h.dir, s.workerBin, s.hostEnv(h), h.httpAddr, filepath.Join(h.dir, "worker.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	h.worker = w
}

// forgetSeed deletes every CSV on the host, as a host that never saw them.
func (h *host) forgetSeed(t *testing.T) {
	t.Helper()
	for _, d := range []string{"seed", "datasets"} {
		if err := os.RemoveAll(filepath.Join(h.dir, "data", d)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitPollers waits until the task queue's activity pollers include n
// distinct worker processes.
func waitPollers(t *testing.T, c client.Client, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d workers polling", n), time.Minute, func() bool {
		resp, err := c.DescribeTaskQueue(context.Background(), names.TaskQueue, enums.TASK_QUEUE_TYPE_ACTIVITY)
		if err != nil {
			return false
		}
		ids := map[string]bool{}
		for _, p := range resp.GetPollers() {
			if time.Since(p.GetLastAccessTime().AsTime()) < 30*time.Second {
				ids[p.GetIdentity()] = true
			}
		}
		return len(ids) >= n
	})
}

// refused runs a worker that must refuse to start and returns its one
// "worker:" line.
func refused(t *testing.T, bin, dir string, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "worker:") {
			lines = append(lines, l)
		}
	}
	if err == nil || len(lines) != 1 {
		t.Fatalf("the worker must refuse to start with one worker: line; got %v:\n%s", err, out)
	}
	return lines[0]
}

// TestFleetOfThreeWorkersOnSnowflake runs three worker processes, each on a
// "host" of its own (working directory, DATA_DIR, port), against one
// Snowflake (the emulator), one broker and one Temporal. Before every run the
// seed CSVs are deleted on every host, so each activity that needs them
// regenerates and verifies them wherever it lands. Ten pipelines in a row,
// the first with one worker SIGKILLed mid-produce, then a 20-second stream:
// every run succeeds, PROD equals orders.csv row for row, RAW holds every
// event_id once. A worker on another database is refused.
func TestFleetOfThreeWorkersOnSnowflake(t *testing.T) {
	s := newStack(t)
	withEmulator(t, s, false)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	hosts := []*host{s.newHost("host1"), s.newHost("host2"), s.newHost("host3")}
	for _, h := range hosts {
		s.startHost(h)
	}
	waitPollers(t, s.client, 3)

	// A worker of another database would load part of the data elsewhere.
	other := s.newHost("host4")
	line := refused(t, s.workerBin, other.dir, s.hostEnv(other, "SNOW_DATABASE=OTHER_DB"))
	if !strings.Contains(line, "refusing to join task queue dropflow") || !strings.Contains(line, "database DROPSHIPPING_DB") || !strings.Contains(line, "database OTHER_DB") {
		t.Fatalf("refusal line: %s", line)
	}

	const orders = 10000
	in := params.PipelineInput{Seed: 101, Orders: orders, AsOf: "2026-11-01T00:00:00Z"}
	pipeline := func(i int, in params.PipelineInput, during func(id string)) params.PipelineResult {
		t.Helper()
		for _, h := range hosts {
			h.forgetSeed(t)
		}
		id := fmt.Sprintf("fleet-pipeline-%d", i)
		run, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: names.TaskQueue}, names.Pipeline, in)
		if err != nil {
			t.Fatal(err)
		}
		if during != nil {
			during(id)
		}
		var res params.PipelineResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatalf("pipeline %d failed: %v", i, err)
		}
		if res.Validation.Status != params.StatusPass || res.Ingest.Rejected != 0 || res.Produce.Sent != orders {
			t.Fatalf("pipeline %d: validation %s, produce %+v, ingest %+v", i, res.Validation.Status, res.Produce, res.Ingest)
		}
		return res
	}

	// Run 1, rate-limited: SIGKILL the worker that runs ProduceChunk once it
	// has sent part of the CSV; another worker resumes the chunk.
	in1 := in
	in1.Rate = 2000
	var killedAt time.Time
	var killed *host
	first := pipeline(1, in1, func(id string) {
		produceID := names.ChildID(id, names.ProduceOrders)
		waitFor(t, "a ProduceChunk under way", time.Minute, func() bool {
			desc, err := s.client.DescribeWorkflow(ctx, produceID, "")
			if err != nil {
				return false
			}
			for _, a := range desc.RawResponse.GetPendingActivities() {
				if a.GetActivityType().GetName() != "ProduceChunk" || a.GetHeartbeatDetails() == nil {
					continue
				}
				pid, _, _ := strings.Cut(a.GetLastWorkerIdentity(), "@")
				for _, h := range hosts {
					if strconv.Itoa(h.worker.Pid()) == pid {
						killed = h
					}
				}
				return killed != nil
			}
			return false
		})
		killed.worker.Kill()
		killed.worker, killedAt = nil, time.Now()
		t.Logf("SIGKILLed the worker of %s mid-chunk", killed.name)
	})
	// The kill landed mid-work: the chunk was retried, and resumed on
	// another worker within the heartbeat timeout (10 s) plus 5 s.
	resumed := retriedChunkStart(t, s.client, names.ChildID("fleet-pipeline-1", names.ProduceOrders))
	if resumed.IsZero() {
		t.Fatal("no ProduceChunk attempt > 1: the kill did not land mid-chunk")
	}
	if d := resumed.Sub(killedAt); d > 15*time.Second {
		t.Fatalf("chunk resumed %s after the kill, want <= 15s", d)
	} else {
		t.Logf("chunk resumed on another worker %s after the kill", d.Round(100*time.Millisecond))
	}
	if first.Ingest.Loaded != orders {
		t.Fatalf("run 1 loaded %d new events, want %d", first.Ingest.Loaded, orders)
	}
	s.startHost(killed)

	for i := 2; i <= 10; i++ {
		res := pipeline(i, in, nil)
		if res.Ingest.Loaded != 0 || res.Ingest.Duplicates != orders {
			t.Fatalf("run %d: %d new, %d duplicates; want 0 and %d", i, res.Ingest.Loaded, res.Ingest.Duplicates, orders)
		}
	}

	// PROD row for row against the CSV, generated here from the data set.
	csvDir := filepath.Join(s.dir, "expected")
	asOf, _ := time.Parse(time.RFC3339, in.AsOf)
	if _, err := datagen.Generate(csvDir, datagen.Spec{Seed: in.Seed, Customers: params.DefaultCustomers, Products: params.DefaultProducts, Orders: orders, AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
	if sum, _ := datagen.Checksum(filepath.Join(csvDir, datagen.OrdersFile)); sum != first.Seed.Dataset.OrdersSHA256 {
		t.Fatalf("orders.csv here %s, data set %s", sum, first.Seed.Dataset.OrdersSHA256)
	}
	want := csvLines(t, filepath.Join(csvDir, datagen.OrdersFile))
	snap := inspect(t, s)
	if len(snap.orders) != len(want) || snap.rawEvents != orders || snap.rawDistinctIDs != snap.rawEvents {
		t.Fatalf("PROD %d orders (CSV %d); RAW %d events, %d distinct ids", len(snap.orders), len(want), snap.rawEvents, snap.rawDistinctIDs)
	}
	for i := range want {
		if snap.orders[i] != want[i] {
			t.Fatalf("PROD row %d differs from orders.csv:\n prod %s\n csv  %s", i, snap.orders[i], want[i])
		}
	}

	// A 20-second stream with no data set named: the producer takes the
	// warehouse's current one and regenerates its inventory where it runs.
	for _, h := range hosts {
		h.forgetSeed(t)
	}
	var st params.ProduceOrdersResult
	if err := execute(t, s.client, "fleet-stream", names.ProduceOrders, params.ProduceOrdersInput{Mode: params.ModeStream, Rate: 500, Duration: params.Duration(20 * time.Second)}).Get(ctx, &st); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if st.Sent < 5000 {
		t.Fatalf("stream sent %d events in 20 s at 500/s", st.Sent)
	}
	var ing params.IngestOrdersResult
	if err := execute(t, s.client, "fleet-stream-ingest", names.IngestOrders, params.IngestOrdersInput{}).Get(ctx, &ing); err != nil {
		t.Fatal(err)
	}
	if err := execute(t, s.client, "fleet-stream-merge", names.MergeOrders, params.MergeOrdersInput{}).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	after := inspect(t, s)
	if ing.Loaded != int64(st.Sent) || after.rawEvents != int64(orders+st.Sent) || after.rawDistinctIDs != after.rawEvents || after.rejects != 0 {
		t.Fatalf("stream: sent %d, loaded %d; RAW %d events, %d distinct, %d rejects", st.Sent, ing.Loaded, after.rawEvents, after.rawDistinctIDs, after.rejects)
	}
	for i := range want { // the stream creates and updates its own orders only
		if after.orders[i] != want[i] {
			t.Fatalf("the stream changed PROD row %d: %s", i, after.orders[i])
		}
	}
}

// retriedChunkStart returns when the first ProduceChunk attempt > 1 of a
// ProduceOrders run started (zero if none did).
func retriedChunkStart(t *testing.T, c client.Client, workflowID string) time.Time {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > 1 {
			return ev.GetEventTime().AsTime()
		}
	}
	return time.Time{}
}

// TestSecondDuckDBFileIsRefused: a worker with another DuckDB file cannot
// join the queue of a running one (one line naming both files); the same
// file's worker, restarted after a SIGKILL, starts.
func TestSecondDuckDBFileIsRefused(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	waitPollers(t, s.client, 1)
	other := s.newHost("other")
	line := refused(t, s.workerBin, other.dir, s.hostEnv(other))
	first, _ := filepath.Abs(s.duckdb)
	second := filepath.Join(other.dir, "data", "warehouse.duckdb")
	if !strings.Contains(line, first) || !strings.Contains(line, second) || !strings.Contains(line, "WAREHOUSE=snowflake") || !strings.Contains(line, "TEMPORAL_NAMESPACE") {
		t.Fatalf("refusal line must name both files (%s, %s) and what to do: %s", first, second, line)
	}
	s.killWorker()
	s.startWorker() // same file after a crash: its own pollers are no obstacle
	waitPollers(t, s.client, 1)
}
