// Package bench measures Dropflow's produce and ingest paths against plain
// baselines in the same run, on the real local stack (Temporal dev server,
// in-process broker, worker process, DuckDB). `make bench` runs it and
// writes reports/bench.json plus a table. Nothing here is a pass/fail test.
package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	kafkago "github.com/segmentio/kafka-go"
	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// Result is one measured figure.
type Result struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target,omitempty"`
	Met    *bool   `json:"met,omitempty"`
	Note   string  `json:"note,omitempty"`
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func met(ok bool) *bool { return &ok }

func BenchmarkPipeline(b *testing.B) {
	if b.N > 1 {
		b.Skip("run with -benchtime 1x: each phase is a whole measurement")
	}
	events := envInt("BENCH_EVENTS", 1_000_000)
	originalSample := envInt("BENCH_ORIGINAL_EVENTS", 5_000)
	ctx := context.Background()
	dir := b.TempDir()
	root, err := devstack.ModuleRoot(".")
	if err != nil {
		b.Fatal(err)
	}
	workerBin := filepath.Join(dir, "worker")
	if out, err := exec.Command("go", "build", "-o", workerBin, filepath.Join(root, "worker")).CombinedOutput(); err != nil {
		b.Fatalf("build worker: %v\n%s", err, out)
	}
	cli, _ := devstack.TemporalCLI()
	tport, _ := devstack.FreePort()
	srv, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{CLIPath: cli, HostPort: fmt.Sprintf("127.0.0.1:%d", tport), Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	tc := srv.Client()
	broker, err := devstack.StartBroker(0, "", "dropflow", 3)
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	kc, _ := kafka.NewClient(broker.Addr)
	for _, t := range []string{"plain", "fresh"} {
		if err := kc.EnsureTopic(ctx, t, 3); err != nil {
			b.Fatal(err)
		}
	}
	hport, _ := devstack.FreePort()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", hport)
	whPath := filepath.Join(dir, "warehouse.duckdb")
	env := append(os.Environ(), "TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "KAFKA_BOOTSTRAP_SERVERS="+broker.Addr,
		"KAFKA_TOPIC=dropflow", "DUCKDB_PATH="+whPath, "DATA_DIR="+filepath.Join(dir, "data"),
		"REPORTS_DIR="+filepath.Join(dir, "reports"), "HTTP_ADDR="+httpAddr, "LOG_FORMAT=json", "LOG_LEVEL=warn")
	worker, err := devstack.StartWorker(ctx, workerBin, env, httpAddr, filepath.Join(dir, "worker.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer worker.Stop(20 * time.Second)
	run := func(id, wt string, in, out any) time.Duration {
		b.Helper()
		began := time.Now()
		r, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: names.TaskQueue}, wt, in)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Get(ctx, out); err != nil {
			b.Fatalf("%s: %v\n%s", id, err, worker.Tail(20))
		}
		return time.Since(began)
	}
	var results []Result
	add := func(r Result) {
		results = append(results, r)
		b.Logf("%-48s %12.1f %s %s", r.Name, r.Value, r.Unit, r.Note)
	}

	run("schema", names.DeploySchema, params.DeploySchemaInput{}, new(params.DeploySchemaResult))
	var seed params.SeedDataResult
	run("seed", names.SeedData, params.SeedDataInput{Orders: events}, &seed)

	// Produce: ProduceOrders (replay, unlimited) vs a plain kafka-go writer loop.
	var pr params.ProduceOrdersResult
	took := run("produce", names.ProduceOrders, params.ProduceOrdersInput{OrdersCSV: seed.OrdersCSV}, &pr)
	dropProduce := float64(pr.Sent) / took.Seconds()
	plainProduce := plainWriter(b, broker.Addr, seed.OrdersCSV)
	add(Result{Name: "produce: ProduceOrders replay", Value: dropProduce, Unit: "events/s", Target: ">= 100000", Met: met(dropProduce >= 100_000)})
	add(Result{Name: "produce: plain kafka-go writer loop", Value: plainProduce, Unit: "events/s"})
	add(Result{Name: "produce: ratio to plain writer", Value: dropProduce / plainProduce, Unit: "x", Target: ">= 0.7", Met: met(dropProduce/plainProduce >= 0.7)})

	// Ingest: IngestOrders drain vs plain reader+Appender vs the original design's approach.
	var ir params.IngestOrdersResult
	if path := os.Getenv("BENCH_PROFILE"); path != "" {
		go func() { // a CPU profile of the worker during the drain
			resp, err := http.Get("http://" + httpAddr + "/debug/pprof/profile?seconds=5")
			if err != nil {
				return
			}
			defer resp.Body.Close()
			f, _ := os.Create(path)
			_, _ = io.Copy(f, resp.Body)
			f.Close()
		}()
	}
	took = run("ingest", names.IngestOrders, params.IngestOrdersInput{}, &ir)
	dropIngest := float64(ir.Loaded+ir.Duplicates+ir.Rejected) / took.Seconds()
	rss, _ := worker.PeakRSS()
	if path := os.Getenv("BENCH_PROFILE"); path != "" {
		if resp, err := http.Get("http://" + httpAddr + "/debug/pprof/heap?debug=1"); err == nil {
			f, _ := os.Create(path + ".heap")
			_, _ = io.Copy(f, resp.Body)
			f.Close()
			resp.Body.Close()
		}
	}
	plainIngest := plainReaderAppender(b, broker.Addr, filepath.Join(dir, "plain.duckdb"))
	original := originalConsumer(b, broker.Addr, filepath.Join(dir, "original.duckdb"), originalSample)
	add(Result{Name: "ingest: IngestOrders drain, 3 partitions", Value: dropIngest, Unit: "events/s", Target: ">= 100000", Met: met(dropIngest >= 100_000), Note: fmt.Sprintf("%d events", ir.Loaded)})
	add(Result{Name: "ingest: plain reader + Appender loop", Value: plainIngest, Unit: "events/s"})
	add(Result{Name: "ingest: original design (10/batch, row INSERTs)", Value: original, Unit: "events/s", Note: fmt.Sprintf("sample of %d events", originalSample)})
	add(Result{Name: "ingest: ratio to plain reader+Appender", Value: dropIngest / plainIngest, Unit: "x", Target: ">= 0.6", Met: met(dropIngest/plainIngest >= 0.6)})
	add(Result{Name: "ingest: ratio to original design", Value: dropIngest / original, Unit: "x", Target: ">= 50", Met: met(dropIngest/original >= 50)})
	add(Result{Name: "worker peak RSS while draining", Value: float64(rss) / (1 << 20), Unit: "MiB", Target: "< 300", Met: met(rss < 300<<20)})

	// Freshness: follow ingest + stream at 1000 events/s + merge every second.
	// The backlog is merged first so that the measure is of the stream only.
	run("merge-backlog", names.MergeOrders, params.MergeOrdersInput{}, new(params.MergeOrdersResult))
	p50, p95, n := freshness(b, ctx, tc, worker, whPath)
	add(Result{Name: "freshness p50, produced_at to PROD", Value: p50, Unit: "s", Note: fmt.Sprintf("%d orders at 1000 events/s, merge every 1 s", n)})
	add(Result{Name: "freshness p95, produced_at to PROD", Value: p95, Unit: "s", Target: "<= 5", Met: met(p95 <= 5)})

	out := filepath.Join(root, "reports", "bench.json")
	_ = os.MkdirAll(filepath.Dir(out), 0o755)
	body, _ := json.MarshalIndent(map[string]any{"at": time.Now().UTC().Format(time.RFC3339), "events": events, "results": results}, "", "  ")
	if err := os.WriteFile(out, append(body, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\n%-50s %14s  %-10s %s\n", "measure", "value", "target", "met")
	for _, r := range results {
		m := ""
		if r.Met != nil {
			m = map[bool]string{true: "yes", false: "NO"}[*r.Met]
		}
		fmt.Printf("%-50s %14.2f %-9s %-10s %s %s\n", r.Name, r.Value, r.Unit, r.Target, m, r.Note)
	}
	fmt.Printf("written to %s\n", out)
}

// plainWriter sends the same CSV as events with a bare kafka-go Writer.
func plainWriter(b *testing.B, addr, csvPath string) float64 {
	r, err := datagen.OpenOrders(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	w := &kafkago.Writer{Addr: kafkago.TCP(addr), Topic: "plain", Balancer: &kafkago.Murmur2Balancer{}, RequiredAcks: kafkago.RequireAll,
		BatchSize: 1000, BatchBytes: kafka.MaxBatchBytes, BatchTimeout: 5 * time.Millisecond, Compression: kafkago.Snappy}
	defer w.Close()
	began := time.Now()
	n := 0
	msgs := make([]kafkago.Message, 0, 1000)
	flush := func() {
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			b.Fatal(err)
		}
		n += len(msgs)
		msgs = msgs[:0]
	}
	for {
		o, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		ev := events.NewOrderCreated(o, events.SourceReplay, time.Now())
		v, _ := json.Marshal(ev)
		msgs = append(msgs, kafkago.Message{Key: ev.Key(), Value: v})
		if len(msgs) == cap(msgs) {
			flush()
		}
	}
	if len(msgs) > 0 {
		flush()
	}
	return float64(n) / time.Since(began).Seconds()
}

// openPlain creates the schema with Dropflow's migrations, then hands the
// file to a bare database/sql handle: the baselines use nothing else of ours.
func openPlain(b *testing.B, path string) *sql.DB {
	wh, err := warehouse.OpenDuckDB(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := wh.Migrate(context.Background(), false); err != nil {
		b.Fatal(err)
	}
	wh.Close()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// plainReaderAppender drains topic "plain" with one kafka-go reader per
// partition and the DuckDB Appender, a transaction per 5000 rows with the
// offset row, no Temporal, no decoding, no dedupe.
func plainReaderAppender(b *testing.B, addr, path string) float64 {
	db := openPlain(b, path)
	defer db.Close()
	kc, _ := kafka.NewClient(addr)
	began := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := int64(0)
	for p := 0; p < 3; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			_, end, err := kc.Bounds(context.Background(), "plain", p)
			if err != nil {
				b.Error(err)
				return
			}
			rd := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: "plain", Partition: p, MinBytes: 1, MaxBytes: kafka.MaxBatchBytes, MaxWait: 250 * time.Millisecond})
			defer rd.Close()
			conn, err := db.Conn(context.Background())
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			for n := int64(0); n < end; {
				var batch []kafkago.Message
				for len(batch) < 5000 && n < end {
					m, err := rd.FetchMessage(context.Background())
					if err != nil {
						b.Error(err)
						return
					}
					batch = append(batch, m)
					n = m.Offset + 1
				}
				if err := appendPlain(conn, p, batch, n); err != nil {
					b.Error(err)
					return
				}
			}
			mu.Lock()
			total += end
			mu.Unlock()
		}(p)
	}
	wg.Wait()
	return float64(total) / time.Since(began).Seconds()
}

func appendPlain(conn *sql.Conn, partition int, batch []kafkago.Message, next int64) error {
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	err := conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "", "raw", "orders_events")
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, m := range batch {
			if err := a.AppendRow(fmt.Sprintf("%d/%d", partition, m.Offset), "order_created", json.RawMessage(m.Value), "plain", int32(partition), m.Offset, m.Time.UTC(), now, nil); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err == nil {
		_, err = conn.ExecContext(ctx, `INSERT OR REPLACE INTO ops.kafka_offsets VALUES ('plain', ?, ?, now())`, partition, next)
	}
	if err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// originalConsumer reproduces the original design's consumer on a sample:
// batches of 10 messages, one INSERT per row, a commit per batch.
func originalConsumer(b *testing.B, addr, path string, sample int) float64 {
	db := openPlain(b, path)
	defer db.Close()
	rd := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: "plain", Partition: 0, MinBytes: 1, MaxBytes: kafka.MaxBatchBytes})
	defer rd.Close()
	ctx := context.Background()
	began := time.Now()
	for n := 0; n < sample; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 10 && n < sample; i++ {
			m, err := rd.FetchMessage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO raw.orders_events VALUES (?, 'order_created', ?, 'plain', ?, ?, ?, now(), NULL)`,
				fmt.Sprintf("orig-%d", m.Offset), string(m.Value), m.Partition, m.Offset, m.Time.UTC()); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(sample) / time.Since(began).Seconds()
}

// freshness streams at 1000 events/s for 30 s into a following ingest, merges
// every second, and measures produced_at → merged into PROD per order.
func freshness(b *testing.B, ctx context.Context, tc client.Client, worker *devstack.Worker, whPath string) (p50, p95 float64, n int64) {
	_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "follow", TaskQueue: names.TaskQueue}, names.IngestOrders,
		params.IngestOrdersInput{Mode: params.ModeFollow, Topic: "fresh", BatchWait: params.Duration(200 * time.Millisecond)})
	if err != nil {
		b.Fatal(err)
	}
	prod, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "stream", TaskQueue: names.TaskQueue}, names.ProduceOrders,
		params.ProduceOrdersInput{Mode: params.ModeStream, Topic: "fresh", Rate: 1000, Duration: params.Duration(30 * time.Second)})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- prod.Get(ctx, nil) }()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err != nil {
				b.Fatal(err)
			}
			time.Sleep(2 * time.Second)
			var m params.MergeOrdersResult
			r, _ := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "merge-last", TaskQueue: names.TaskQueue}, names.MergeOrders, params.MergeOrdersInput{})
			_ = r.Get(ctx, &m)
			_ = tc.SignalWorkflow(ctx, "follow", "", names.SignalStop, nil)
			time.Sleep(2 * time.Second)
			worker.Stop(20 * time.Second)
			return freshnessFromFile(b, whPath)
		case <-time.After(time.Second):
			r, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("merge-%d", i), TaskQueue: names.TaskQueue}, names.MergeOrders, params.MergeOrdersInput{})
			if err == nil {
				_ = r.Get(ctx, nil)
			}
		}
	}
}

func freshnessFromFile(b *testing.B, path string) (p50, p95 float64, n int64) {
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRow(`
SELECT quantile_cont(lag_s, 0.5), quantile_cont(lag_s, 0.95), count(*) FROM (
  SELECT epoch(p.merged_at) - epoch(r.produced_at) AS lag_s
  FROM prod.orders p JOIN raw.orders_events r ON r.event_id = p.event_id
  WHERE r.kafka_topic = 'fresh')`).Scan(&p50, &p95, &n)
	if err != nil {
		b.Fatal(err)
	}
	return p50, p95, n
}
