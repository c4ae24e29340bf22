package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/warehouse"
)

func openTest(t *testing.T) *Warehouse {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	return d
}

func event(t testing.TB, orderID int64, version int, status string, offset int64) warehouse.Event {
	t.Helper()
	o := events.Order{OrderID: orderID, CustomerID: 1, ProductID: 1000, Quantity: 2, UnitPrice: 1250, Status: status,
		SoldAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	ev := events.NewOrderCreated(o, events.SourceStream, time.Now())
	if version > 1 {
		ev.EventType, ev.EventVersion, ev.EventID = events.TypeOrderUpdated, version, events.EventID(orderID, version)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return warehouse.Event{EventID: ev.EventID, EventType: ev.EventType, Payload: b, Offset: offset, ProducedAt: ev.ProducedAt}
}

func count(t *testing.T, d *Warehouse, q string) int64 {
	t.Helper()
	n, err := warehouse.CountInt(context.Background(), d, q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func load(t *testing.T, d *Warehouse, partition int, evs ...warehouse.Event) warehouse.LoadResult {
	t.Helper()
	ctx := context.Background()
	from, err := d.InitOffset(ctx, "t", partition, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.LoadBatch(ctx, warehouse.Batch{Topic: "t", Partition: partition, FromOffset: from, NextOffset: from + int64(len(evs)), Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestMigrateIdempotentAndDryRun(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	dry, err := d.Migrate(ctx, true)
	if err != nil || len(dry.Applied) == 0 || !strings.Contains(dry.SQL, "CREATE TABLE raw.orders_events") {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if n := count(t, d, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'"); n != 0 {
		t.Fatalf("dry run created %d tables", n)
	}
	first, err := d.Migrate(ctx, false)
	if err != nil || len(first.Applied) != len(dry.Applied) {
		t.Fatalf("first deploy: %+v %v", first, err)
	}
	second, err := d.Migrate(ctx, false)
	if err != nil || len(second.Applied) != 0 || len(second.Already) != len(first.Applied) {
		t.Fatalf("second deploy must apply nothing: %+v %v", second, err)
	}
}

func TestChangedMigrationStopsDeploy(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	if _, err := d.db.ExecContext(ctx, "UPDATE ops.schema_migrations SET checksum = 'abc' WHERE version = '0001_init'"); err != nil {
		t.Fatal(err)
	}
	_, err := d.Migrate(ctx, false)
	var ce *warehouse.ChecksumMismatchError
	if !errors.As(err, &ce) || ce.File != "sql/migrations/duckdb/0001_init.sql" || ce.Applied != "abc" {
		t.Fatalf("want a checksum mismatch naming the file, got %v", err)
	}
}

func TestLoadBatchExactlyOnce(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	res := load(t, d, 0, event(t, 1, 1, "paid", 0), event(t, 2, 1, "paid", 1), event(t, 1, 1, "paid", 2))
	if res.Inserted != 2 || res.Duplicates != 1 {
		t.Fatalf("in-batch duplicate: %+v", res)
	}
	// A resend in a later batch is a duplicate too.
	res = load(t, d, 0, event(t, 2, 1, "paid", 3), event(t, 3, 1, "paid", 4))
	if res.Inserted != 1 || res.Duplicates != 1 {
		t.Fatalf("cross-batch duplicate: %+v", res)
	}
	if n := count(t, d, "SELECT count(*) FROM raw.orders_events"); n != 3 {
		t.Fatalf("raw has %d rows, want 3", n)
	}
	next, ok, err := d.Offset(ctx, "t", 0)
	if err != nil || !ok || next != 5 {
		t.Fatalf("offset %d %v %v, want 5", next, ok, err)
	}
	// A loader that read an older offset is fenced and writes nothing.
	_, err = d.LoadBatch(ctx, warehouse.Batch{Topic: "t", Partition: 0, FromOffset: 3, NextOffset: 6, Events: []warehouse.Event{event(t, 9, 1, "paid", 5)}})
	if !errors.Is(err, warehouse.ErrFenced) {
		t.Fatalf("want ErrFenced, got %v", err)
	}
	if n := count(t, d, "SELECT count(*) FROM raw.orders_events WHERE kafka_offset = 5"); n != 0 {
		t.Fatal("fenced batch left rows behind")
	}
	// A reset from a stale offset is fenced the same way.
	if err := d.ResetOffset(ctx, "t", 0, 3, 0); !errors.Is(err, warehouse.ErrFenced) {
		t.Fatalf("stale reset: want ErrFenced, got %v", err)
	}
}

// TestLoadBatchRollsBackRowsWithOffset: a batch that fails once its rows
// are written in the open transaction leaves neither rows, rejects nor its
// offset behind, and its retry loads it exactly once.
func TestLoadBatchRollsBackRowsWithOffset(t *testing.T) {
	const n = 3000 // events per batch: more than one Appender chunk (2048 rows)
	ctx := context.Background()
	bigBatch := func(t *testing.T) warehouse.Batch {
		b := warehouse.Batch{Topic: "t", Partition: 1, FromOffset: 0, NextOffset: n + 2}
		for i := 0; i < n; i++ {
			b.Events = append(b.Events, event(t, int64(i+1), 1, "paid", int64(i)))
		}
		b.Rejects = []warehouse.Reject{{Offset: n, Value: []byte{0xff, '{'}, Reason: "invalid_json", Error: "bad"}, {Offset: n + 1, Value: []byte("{"), Reason: "invalid_json", Error: "bad"}}
		return b
	}
	nothingStayed := func(t *testing.T, d *Warehouse) {
		t.Helper()
		if got := count(t, d, "SELECT count(*) FROM raw.orders_events"); got != 0 {
			t.Errorf("%d RAW rows survived the failed batch", got)
		}
		if got := count(t, d, "SELECT count(*) FROM raw.orders_events_rejected"); got != 0 {
			t.Errorf("%d rejects survived the failed batch", got)
		}
		if next, ok, err := d.Offset(ctx, "t", 1); err != nil || !ok || next != 0 {
			t.Errorf("offset %d (%v %v) after the failed batch, want 0", next, ok, err)
		}
	}
	loadsOnce := func(t *testing.T, d *Warehouse, b warehouse.Batch) {
		t.Helper()
		res, err := d.LoadBatch(ctx, b)
		if err != nil || res.Inserted != n || res.Rejected != 2 || res.Duplicates != 0 || res.Conflicts != 0 {
			t.Fatalf("retry: %+v %v, want %d inserted, 2 rejected, no duplicates", res, err, n)
		}
		var rows, ids, rejects int64
		if err := d.QueryRow(ctx, "SELECT count(*), count(DISTINCT event_id), (SELECT count(*) FROM raw.orders_events_rejected) FROM raw.orders_events").Scan(&rows, &ids, &rejects); err != nil {
			t.Fatal(err)
		}
		if rows != n || ids != n || rejects != 2 {
			t.Fatalf("after the retry RAW holds %d rows (%d ids) and %d rejects, want %d and 2", rows, ids, rejects, n)
		}
		if next, _, err := d.Offset(ctx, "t", 1); err != nil || next != b.NextOffset {
			t.Fatalf("offset %d %v after the retry, want %d", next, err, b.NextOffset)
		}
		// The same batch once more is fenced: loaded exactly once.
		if _, err := d.LoadBatch(ctx, b); !errors.Is(err, warehouse.ErrFenced) {
			t.Fatalf("second retry: want ErrFenced, got %v", err)
		}
		if got := count(t, d, "SELECT count(*) FROM raw.orders_events"); got != n {
			t.Fatalf("RAW holds %d rows after a fenced resend, want %d", got, n)
		}
	}

	t.Run("cancelled_with_the_rows_in_the_transaction", func(t *testing.T) {
		d := openTest(t)
		if _, err := d.InitOffset(ctx, "t", 1, 0); err != nil {
			t.Fatal(err)
		}
		b := bigBatch(t)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var ran bool
		var inTx, outside [3]int64
		const state = `SELECT (SELECT count(*) FROM raw.orders_events), (SELECT count(*) FROM raw.orders_events_rejected),
  (SELECT next_offset FROM ops.kafka_offsets WHERE topic = 't' AND "partition" = 1)`
		d.beforeCommit = func(conn *sql.Conn) error {
			ran = true
			// The transaction sees every row, reject and the moved offset...
			if err := conn.QueryRowContext(ctx, state).Scan(&inTx[0], &inTx[1], &inTx[2]); err != nil {
				return fmt.Errorf("read the open transaction: %w", err)
			}
			// ...that no other connection sees yet.
			if err := d.db.QueryRowContext(ctx, state).Scan(&outside[0], &outside[1], &outside[2]); err != nil {
				return fmt.Errorf("read outside the transaction: %w", err)
			}
			cancel() // the batch's context ends here, before COMMIT
			return nil
		}
		_, err := d.LoadBatch(cctx, b)
		d.beforeCommit = nil
		if !ran {
			t.Fatalf("the batch never reached its commit: %v", err)
		}
		if want := [3]int64{n, 2, n + 2}; inTx != want {
			t.Fatalf("inside the transaction before it failed: rows, rejects, offset = %v, want %v", inTx, want)
		}
		if want := [3]int64{0, 0, 0}; outside != want {
			t.Fatalf("outside the open transaction: %v, want %v", outside, want)
		}
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "commit") {
			t.Fatalf("want the commit to fail with context.Canceled, got %v", err)
		}
		nothingStayed(t, d)
		loadsOnce(t, d, b)
	})

	t.Run("an_event_fails_to_append_after_earlier_ones", func(t *testing.T) {
		d := openTest(t)
		if _, err := d.InitOffset(ctx, "t", 1, 0); err != nil {
			t.Fatal(err)
		}
		b := bigBatch(t)
		good := b.Events[n-1]
		// The last event's payload is not JSON: DuckDB's cast refuses it when
		// the appended rows reach RAW, after n-1 good ones.
		b.Events[n-1].Payload = []byte(`{"event_id":`)
		_, err := d.LoadBatch(ctx, b)
		if err == nil || !strings.Contains(err.Error(), "raw.orders_events") || !strings.Contains(err.Error(), "Malformed JSON") {
			t.Fatalf("want the load of the last event to fail on its JSON, got %v", err)
		}
		nothingStayed(t, d)
		b.Events[n-1] = good
		loadsOnce(t, d, b)
	})
}

func TestMergeSemantics(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	status := func(id int) string {
		var s string
		if err := d.QueryRow(ctx, "SELECT status FROM prod.orders WHERE order_id = ?", id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Duplicates inside one batch, and two versions of order 2 in one window.
	load(t, d, 0, event(t, 1, 1, "paid", 0), event(t, 1, 1, "paid", 1), event(t, 2, 1, "paid", 2), event(t, 2, 2, "shipped", 3))
	// The update of order 3 arrives before its creation (another partition order).
	load(t, d, 1, event(t, 3, 2, "delivered", 0))
	m, err := d.MergeOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Inserted != 3 || m.Updated != 0 || m.SourceEvents != 4 {
		t.Fatalf("first merge %+v", m)
	}
	if status(2) != "shipped" || status(3) != "delivered" {
		t.Fatalf("latest version must win: %s %s", status(2), status(3))
	}
	// An older version arriving later never overwrites.
	load(t, d, 1, event(t, 3, 1, "paid", 1), event(t, 2, 3, "delivered", 2))
	m, err = d.MergeOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Inserted != 0 || m.Updated != 1 || m.Unchanged != 1 {
		t.Fatalf("second merge %+v", m)
	}
	if status(3) != "delivered" || status(2) != "delivered" {
		t.Fatalf("after late old version: %s %s", status(3), status(2))
	}
	// Nothing new: a cheap skip, recorded as such.
	m, err = d.MergeOrders(ctx)
	if err != nil || !m.NothingNew || m.SourceEvents != 0 {
		t.Fatalf("third merge %+v %v", m, err)
	}
	// Replaying the whole window (watermark reset) changes nothing.
	snapshot := func() string {
		var s string
		if err := d.QueryRow(ctx, "SELECT string_agg(order_id || ':' || status || ':' || event_version || ':' || merged_at, ',' ORDER BY order_id) FROM prod.orders").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	if _, err := d.db.ExecContext(ctx, "DELETE FROM ops.merge_watermark"); err != nil {
		t.Fatal(err)
	}
	if m, err = d.MergeOrders(ctx); err != nil || m.Inserted != 0 || m.Updated != 0 {
		t.Fatalf("replayed merge %+v %v", m, err)
	}
	if after := snapshot(); after != before {
		t.Fatal("replaying a window changed PROD")
	}
	if n := count(t, d, "SELECT count(*) FROM prod.orders WHERE total_amount <> quantity * unit_price"); n != 0 {
		t.Fatal("total_amount must be quantity × unit_price")
	}
	if n := count(t, d, "SELECT count(*) FROM ops.merge_runs WHERE nothing_new"); n != 1 {
		t.Fatalf("merge_runs nothing_new = %d", n)
	}
}

func TestLoadSeedCSVs(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	f, err := datagen.Generate(t.TempDir(), datagen.Spec{Seed: 3, Customers: 40, Products: 12, Orders: 10, AsOf: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // twice: an upsert, not an append
		if n, err := d.LoadCustomers(ctx, f.Customers); err != nil || n != 40 {
			t.Fatalf("customers %d %v", n, err)
		}
		if n, err := d.LoadInventory(ctx, f.Inventory); err != nil || n != 12 {
			t.Fatalf("inventory %d %v", n, err)
		}
	}
	if n := count(t, d, "SELECT count(*) FROM prod.customers"); n != 40 {
		t.Fatalf("customers %d", n)
	}
	if n := count(t, d, "SELECT count(*) FROM prod.inventory WHERE product_id BETWEEN 1000 AND 1011"); n != 12 {
		t.Fatalf("inventory %d", n)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("customer_id,name\nx,y\n"), 0o644)
	if _, err := d.LoadCustomers(ctx, bad); err == nil {
		t.Fatal("a malformed CSV must fail")
	}
}

func TestSecondProcessGetsLockedError(t *testing.T) {
	// DuckDB locks per process, so the check runs in a helper process.
	if os.Getenv("DROPFLOW_LOCK_HELPER") != "" {
		_, err := Open(context.Background(), os.Getenv("DROPFLOW_LOCK_HELPER"))
		var le *warehouse.LockedError
		if errors.As(err, &le) {
			os.Exit(3)
		}
		os.Exit(4)
	}
	path := filepath.Join(t.TempDir(), "locked.duckdb")
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	code := runSelf(t, "TestSecondProcessGetsLockedError", "DROPFLOW_LOCK_HELPER="+path)
	if code != 3 {
		t.Fatalf("second process: exit %d, want 3 (LockedError)", code)
	}
}

func TestResendAfterReopenIsStillADuplicate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	ctx := context.Background()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	load(t, d, 0, event(t, 1, 1, "paid", 0), event(t, 2, 1, "paid", 1))
	d.Close()
	// A new process: the duplicate filter is rebuilt from RAW.
	d, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res := load(t, d, 0, event(t, 2, 1, "paid", 2), event(t, 3, 1, "paid", 3))
	if res.Inserted != 1 || res.Duplicates != 1 {
		t.Fatalf("after reopen: %+v", res)
	}
}

func TestMergeInWindowsKeepsTheSemantics(t *testing.T) {
	d := openTest(t)
	d.window = 2 // offsets per partition per transaction
	ctx := context.Background()
	load(t, d, 0,
		event(t, 1, 2, "shipped", 0), event(t, 2, 1, "paid", 1),
		event(t, 3, 1, "paid", 2), event(t, 1, 1, "paid", 3), // older version of 1 in a later window
		event(t, 4, 1, "paid", 4), event(t, 2, 3, "delivered", 5)) // newer version of 2 in a later window
	m, err := d.MergeOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.SourceEvents != 6 || m.Inserted != 4 || m.Updated != 1 || m.Unchanged != 1 {
		t.Fatalf("windowed merge %+v", m)
	}
	for id, want := range map[int]string{1: "shipped", 2: "delivered", 3: "paid", 4: "paid"} {
		var got string
		if err := d.QueryRow(ctx, "SELECT status FROM prod.orders WHERE order_id = ?", id).Scan(&got); err != nil || got != want {
			t.Fatalf("order %d: %q %v, want %q", id, got, err, want)
		}
	}
	if n := count(t, d, "SELECT count(*) FROM ops.merge_runs"); n != 3 {
		t.Fatalf("%d merge runs recorded, want one per non-empty window (3)", n)
	}
}

// A connection opened after DuckDB spilled to its temporary directory still
// opens: instance settings (temp_directory among them) are set once, at
// open, not again on every new pooled connection, which DuckDB refuses
// ("Cannot switch temporary directory after the current one has been used").
func TestNewConnectionsAfterASpill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	d, err := OpenWithOptions(ctx, path, Options{MemoryLimit: "16MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// About 50 MB of temporary rows under a 16 MB limit: DuckDB spills.
	if _, err := d.db.ExecContext(ctx, `CREATE TEMP TABLE spill AS SELECT range::VARCHAR || repeat('x', 100) AS s FROM range(400000)`); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(path + ".tmp"); len(ents) == 0 {
		t.Fatalf("nothing spilled to %s.tmp: the test proves nothing", path)
	}
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 4; i++ { // held at once: the pool must open new ones
		c, err := d.db.Conn(ctx)
		if err != nil {
			t.Fatalf("connection %d after the spill: %v", i, err)
		}
		conns = append(conns, c)
		var tz, mem string
		if err := c.QueryRowContext(ctx, "SELECT current_setting('TimeZone'), current_setting('memory_limit')").Scan(&tz, &mem); err != nil || tz != "UTC" || !strings.HasPrefix(mem, "15") {
			t.Fatalf("connection %d: TimeZone %q, memory_limit %q (want UTC, 16MB), %v", i, tz, mem, err)
		}
	}
}
