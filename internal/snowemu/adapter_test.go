package snowemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/snowflake"
	"github.com/dropflow/dropflow/internal/warehouse/warehousetest"
	"github.com/dropflow/dropflow/sql/migrations"
)

func startTest(t *testing.T, users ...User) *Server {
	t.Helper()
	if len(users) == 0 {
		users = []User{{Name: "dropflow", Password: "pw"}}
	}
	s, err := Start(Options{Dir: t.TempDir(), Account: "local", Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openAdapter(t *testing.T, s *Server, o snowflake.Options) *snowflake.Warehouse {
	t.Helper()
	if o.Account == "" {
		o.Account, o.User, o.Password = "local", "dropflow", "pw"
	}
	o.Host, o.Port, o.Protocol = "127.0.0.1", s.Port(), "http"
	if o.Database == "" {
		o.Database, o.Warehouse, o.Schema = "DROPSHIPPING_DB", "COMPUTE_WH", "RAW"
	}
	o.TempDir = t.TempDir()
	wh, err := snowflake.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh
}

func ev(t *testing.T, order, version int, status string, offset int64) warehouse.Event {
	t.Helper()
	id := fmt.Sprintf("e-%d-%d", order, version)
	p, _ := json.Marshal(map[string]any{"event_id": id, "event_type": "order_created", "event_version": version,
		"order": map[string]any{"order_id": order, "customer_id": 1, "product_id": 2, "quantity": 3, "unit_price": 12.5, "status": status, "sold_at": "2026-01-31T12:00:00Z"}})
	return warehouse.Event{EventID: id, EventType: "order_created", Payload: p, Offset: offset, ProducedAt: time.Now().UTC()}
}

// TestSnowflakeAdapterMergeSemantics runs the Snowflake adapter's real
// statements (both load paths, the stream-driven merge) through gosnowflake:
// duplicates inside a batch, an update before its creation, an older version
// after a newer one and a merge with nothing new all leave PROD right.
func TestSnowflakeAdapterMergeSemantics(t *testing.T) {
	for _, threshold := range []int{1000, 2} { // INSERT … SELECT, then PUT + COPY
		t.Run(fmt.Sprintf("stage_threshold_%d", threshold), func(t *testing.T) {
			s := startTest(t)
			wh := openAdapter(t, s, snowflake.Options{StageThreshold: threshold})
			ctx := context.Background()
			migs, _ := warehouse.Migrations(warehouse.DialectSnowflake)
			if res, err := wh.Migrate(ctx, false); err != nil || len(res.Applied) != len(migs) {
				t.Fatalf("%+v %v", res, err)
			}
			if res, err := wh.Migrate(ctx, false); err != nil || len(res.Applied) != 0 || len(res.Already) != len(migs) {
				t.Fatalf("second deploy must change nothing: %+v %v", res, err)
			}
			for p := 0; p < 2; p++ {
				if _, err := wh.InitOffset(ctx, "orders_topic", p, 0); err != nil {
					t.Fatal(err)
				}
			}
			load := func(p int, from, next int64, evs []warehouse.Event, rejects ...warehouse.Reject) warehouse.LoadResult {
				t.Helper()
				r, err := wh.LoadBatch(ctx, warehouse.Batch{Topic: "orders_topic", Partition: p, FromOffset: from, NextOffset: next, Events: evs, Rejects: rejects})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			status := func(order int) string {
				var st string
				if err := wh.QueryRow(ctx, "SELECT status FROM prod.orders WHERE order_id = ?", order).Scan(&st); err != nil {
					t.Fatal(err)
				}
				return st
			}
			// Duplicates inside one batch; two versions of order 2 in one window.
			r := load(0, 0, 4, []warehouse.Event{ev(t, 1, 1, "paid", 0), ev(t, 1, 1, "paid", 1), ev(t, 2, 1, "paid", 2), ev(t, 2, 2, "shipped", 3)})
			if r.Inserted != 3 || r.Duplicates != 1 {
				t.Fatalf("batch 1 %+v", r)
			}
			// The update of order 3 arrives before its creation, with a poison record.
			r = load(1, 0, 2, []warehouse.Event{ev(t, 3, 2, "delivered", 0)}, warehouse.Reject{Offset: 1, Value: []byte("{"), Reason: "invalid_json", Error: "bad"})
			if r.Inserted != 1 || r.Rejected != 1 {
				t.Fatalf("batch 2 %+v", r)
			}
			// A resend of the same batch offsets is fenced.
			if _, err := wh.LoadBatch(ctx, warehouse.Batch{Topic: "orders_topic", Partition: 0, FromOffset: 0, NextOffset: 4, Events: []warehouse.Event{ev(t, 9, 1, "paid", 0)}}); err != warehouse.ErrFenced {
				t.Fatalf("stale batch: %v", err)
			}
			m, err := wh.MergeOrders(ctx)
			if err != nil || m.Inserted != 3 || m.Updated != 0 || m.SourceEvents != 4 {
				t.Fatalf("first merge %+v %v", m, err)
			}
			if status(2) != "shipped" || status(3) != "delivered" {
				t.Fatalf("newest version must win: %s %s", status(2), status(3))
			}
			// An older version arriving later never overwrites; a newer one updates; a resent event is a duplicate.
			r = load(1, 2, 5, []warehouse.Event{ev(t, 3, 1, "paid", 2), ev(t, 2, 3, "delivered", 3), ev(t, 1, 1, "paid", 4)})
			if r.Inserted != 2 || r.Duplicates != 1 {
				t.Fatalf("batch 3 %+v", r)
			}
			m, err = wh.MergeOrders(ctx)
			if err != nil || m.Inserted != 0 || m.Updated != 1 || m.Unchanged != 1 {
				t.Fatalf("second merge %+v %v", m, err)
			}
			if status(3) != "delivered" || status(2) != "delivered" {
				t.Fatalf("after a late old version: %s %s", status(3), status(2))
			}
			if m, err = wh.MergeOrders(ctx); err != nil || !m.NothingNew {
				t.Fatalf("nothing new must be a cheap skip: %+v %v", m, err)
			}
			l, err := warehouse.Layers(ctx, wh)
			if err != nil || l.RawEvents != 6 || l.RawRejected != 1 || l.ProdOrders != 3 {
				t.Fatalf("layers %+v %v", l, err)
			}
			var bad int64
			if err := wh.QueryRow(ctx, "SELECT count(*) FROM prod.orders WHERE total_amount <> quantity * unit_price").Scan(&bad); err != nil || bad != 0 {
				t.Fatalf("total_amount: %d %v", bad, err)
			}
		})
	}
}

// TestSnowflakeDeploySchema: a dry run on a fresh account prints the SQL in
// order and creates nothing; a deploy records versions and checksums; an
// applied migration whose checksum changed stops the next deploy.
func TestSnowflakeDeploySchema(t *testing.T) {
	s := startTest(t)
	wh := openAdapter(t, s, snowflake.Options{})
	ctx := context.Background()
	dry, err := wh.Migrate(ctx, true)
	files, _ := fs.Glob(migrations.FS, "snowflake/*.sql")
	if err != nil || len(dry.Applied) != len(files) || !strings.Contains(dry.SQL, "CREATE DATABASE IF NOT EXISTS DROPSHIPPING_DB") || !strings.Contains(dry.SQL, "ALTER TASK DROPSHIPPING_DB.PROD.MERGE_ORDERS_TASK SUSPEND") {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if strings.Index(dry.SQL, "CREATE WAREHOUSE") > strings.Index(dry.SQL, "CREATE STREAM") {
		t.Fatal("dry run must print the statements in order")
	}
	db := connect(t, s, func(c *gosnowflake.Config) { c.Database = "DROPSHIPPING_DB" })
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY()) WHERE query_text LIKE 'CREATE%'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("a dry run ran %d CREATE statements (%v)", n, err)
	}
	if _, err := wh.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	if tasks, err := s.Tasks(ctx); err != nil || len(tasks) != 1 || tasks[0].State != "suspended" || tasks[0].Name != "DROPSHIPPING_DB.PROD.MERGE_ORDERS_TASK" {
		t.Fatalf("the native task must exist, suspended, under its one name: %+v %v", tasks, err)
	}
	exec(t, db, "UPDATE DROPSHIPPING_DB.OPS.SCHEMA_MIGRATIONS SET CHECKSUM = 'edited' WHERE VERSION = '0001_init'")
	_, err = wh.Migrate(ctx, false)
	var cm *warehouse.ChecksumMismatchError
	if !errors.As(err, &cm) || cm.File != "sql/migrations/snowflake/0001_init.sql" || cm.Applied != "edited" {
		t.Fatalf("want a checksum mismatch naming the file, got %v", err)
	}
}

// TestSnowflakeTaskDriver: SNOW_MERGE_DRIVER=task resumes the native task at
// deploy, and MergeOrders then leaves the stream to it.
func TestSnowflakeTaskDriver(t *testing.T) {
	s := startTest(t)
	wh := openAdapter(t, s, snowflake.Options{MergeDriver: snowflake.MergeDriverTask})
	ctx := context.Background()
	if _, err := wh.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	if tasks, _ := s.Tasks(ctx); len(tasks) != 1 || tasks[0].State != "started" {
		t.Fatalf("task driver must resume the task: %+v", tasks)
	}
	if _, err := wh.InitOffset(ctx, "t", 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := wh.LoadBatch(ctx, warehouse.Batch{Topic: "t", Partition: 0, FromOffset: 0, NextOffset: 1, Events: []warehouse.Event{ev(t, 1, 1, "paid", 0)}}); err != nil {
		t.Fatal(err)
	}
	m, err := wh.MergeOrders(ctx)
	if err != nil || !m.DelegatedToTask {
		t.Fatalf("%+v %v", m, err)
	}
	var has bool
	if err := wh.QueryRow(ctx, "SELECT SYSTEM$STREAM_HAS_DATA('DROPSHIPPING_DB.RAW.ORDERS_STREAM')").Scan(&has); err != nil || !has {
		t.Fatalf("the stream must be left to the task: %v %v", has, err)
	}
	// Back to Temporal: the next deploy suspends the task again.
	wh2 := openAdapter(t, s, snowflake.Options{})
	if _, err := wh2.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	if tasks, _ := s.Tasks(ctx); tasks[0].State != "suspended" {
		t.Fatalf("temporal driver must suspend the task: %+v", tasks)
	}
}

// mergeFixture deploys the schema through adapter a and loads 300 new
// orders, all in the stream.
func mergeFixture(t *testing.T, a *snowflake.Warehouse) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.InitOffset(ctx, "t", 0, 0); err != nil {
		t.Fatal(err)
	}
	evs := make([]warehouse.Event, 300)
	for i := range evs {
		evs[i] = ev(t, i+1, 1, "paid", int64(i))
	}
	if _, err := a.LoadBatch(ctx, warehouse.Batch{Topic: "t", Partition: 0, FromOffset: 0, NextOffset: 300, Events: evs}); err != nil {
		t.Fatal(err)
	}
}

// permanent reports a warehouse error no retry fixes.
func permanent(err error) bool {
	var qe *warehouse.QueryError
	return !errors.As(err, &qe) || qe.Permanent()
}

func prodOrders(t *testing.T, wh *snowflake.Warehouse) (rows, distinct int64) {
	t.Helper()
	if err := wh.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT order_id) FROM prod.orders").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

// TestConcurrentMergesMergeOnce: two workers' merges (two adapters, so two
// sessions) released at the same instant both succeed and PROD holds every
// order once. OPS.MERGE_LOCK serialises them: Snowflake makes the second
// wait; the emulator aborts it at the lock (000625, retryable), so here it is
// retried as the activity's retry policy would, and must then succeed.
func TestConcurrentMergesMergeOnce(t *testing.T) {
	s := startTest(t)
	a, b := openAdapter(t, s, snowflake.Options{}), openAdapter(t, s, snowflake.Options{})
	mergeFixture(t, a)
	type out struct {
		r   warehouse.MergeResult
		err error
	}
	results := make(chan out, 2)
	var ready, start sync.WaitGroup
	start.Add(1)
	for _, wh := range []*snowflake.Warehouse{a, b} {
		ready.Add(1)
		go func() {
			ready.Done()
			start.Wait()
			r, err := wh.MergeOrders(context.Background())
			for i := 0; i < 5 && err != nil && !permanent(err); i++ {
				time.Sleep(100 * time.Millisecond)
				r, err = wh.MergeOrders(context.Background())
			}
			results <- out{r, err}
		}()
	}
	ready.Wait()
	start.Done() // the barrier: both merges start together
	var inserted int64
	for range 2 {
		o := <-results
		if o.err != nil {
			t.Fatalf("both merges must succeed: %v", o.err)
		}
		if o.r.Updated != 0 {
			t.Fatalf("a merge updated %d orders that had one version: %+v", o.r.Updated, o.r)
		}
		inserted += o.r.Inserted
	}
	if rows, distinct := prodOrders(t, a); inserted != 300 || rows != 300 || distinct != 300 {
		t.Fatalf("inserted %d, PROD %d rows, %d orders; want 300 each", inserted, rows, distinct)
	}
}

// TestMergeFindingMergeLockHeldFailsRetryably: while another session holds
// OPS.MERGE_LOCK the emulator aborts a merge at its lock statement (where
// Snowflake would make it wait): the merge fails retryably, naming that
// statement, and leaves the stream and PROD as they were; its retry, once
// the lock is free, merges every order once.
func TestMergeFindingMergeLockHeldFailsRetryably(t *testing.T) {
	s := startTest(t)
	a := openAdapter(t, s, snowflake.Options{})
	mergeFixture(t, a)
	ctx := context.Background()
	holder := connect(t, s, func(c *gosnowflake.Config) { c.Database, c.Schema = "DROPSHIPPING_DB", "OPS" })
	exec(t, holder, "BEGIN")
	exec(t, holder, "UPDATE DROPSHIPPING_DB.OPS.MERGE_LOCK SET LOCKED_AT = ?, LOCKED_BY = 'another worker' WHERE ID = 1", time.Now().UTC())
	_, err := a.MergeOrders(ctx)
	var qe *warehouse.QueryError
	if !errors.As(err, &qe) || qe.Statement != "merge_lock" || qe.Permanent() {
		t.Fatalf("want a retryable failure of merge_lock, got %v", err)
	}
	var has bool
	if err := a.QueryRow(ctx, "SELECT SYSTEM$STREAM_HAS_DATA('DROPSHIPPING_DB.RAW.ORDERS_STREAM')").Scan(&has); err != nil || !has {
		t.Fatalf("the failed merge must leave the stream unread: %v %v", has, err)
	}
	if rows, _ := prodOrders(t, a); rows != 0 {
		t.Fatalf("the failed merge left %d PROD rows", rows)
	}
	exec(t, holder, "COMMIT")
	r, err := a.MergeOrders(ctx) // the activity's retry
	if err != nil || r.Inserted != 300 || r.SourceEvents != 300 {
		t.Fatalf("retry: %+v %v, want 300 inserted", r, err)
	}
	if rows, distinct := prodOrders(t, a); rows != 300 || distinct != 300 {
		t.Fatalf("PROD %d rows, %d orders; want 300", rows, distinct)
	}
}

// TestSnowflakeEventIDConflicts: the DuckDB adapter's conflict behaviour,
// through gosnowflake, on both load paths.
func TestSnowflakeEventIDConflicts(t *testing.T) {
	for _, threshold := range []int{1000, 2} {
		t.Run(fmt.Sprintf("stage_threshold_%d", threshold), func(t *testing.T) {
			wh := openAdapter(t, startTest(t), snowflake.Options{StageThreshold: threshold})
			if _, err := wh.Migrate(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			warehousetest.Conflicts(t, wh)
		})
	}
}
