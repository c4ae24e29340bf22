package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// Three loaders appending to RAW at once while the merger merges is the
// drain's shape. Without checkpoints between their transactions DuckDB ran
// out of memory here at 96 MB, and such a rolled-back append with a
// non-default ROW_GROUP_SIZE once made DuckDB 1.5.6 lose track of RAW's row
// groups and invalidate the database. The test checks the WAL stays small
// and every row lands and merges once.
func TestConcurrentLoadersAndMerger(t *testing.T) {
	batches, size := 40, 5000
	if s := os.Getenv("DROPFLOW_STRESS_BATCHES"); s != "" {
		batches, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	d, err := OpenWithOptions(ctx, filepath.Join(t.TempDir(), "wh.duckdb"), Options{MemoryLimit: os.Getenv("DROPFLOW_STRESS_MEMORY")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.walLimit = 32 << 20
	if _, err := d.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	tmpl := event(t, 1, 1, "paid", 0)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	done := make(chan struct{})
	for p := 0; p < 3; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			from, err := d.InitOffset(ctx, "t", p, 0)
			if err != nil {
				errs <- err
				return
			}
			for b := 0; b < batches; b++ {
				evs := make([]warehouse.Event, size)
				for i := range evs {
					off := from + int64(i)
					id := int64(p)*1_000_000_000 + off + 1
					e := tmpl
					e.EventID, e.Offset = "e-"+strconv.FormatInt(id, 10), off
					e.Payload = []byte(`{"event_id":"e-` + strconv.FormatInt(id, 10) + `","event_version":1,"order":{"order_id":` + strconv.FormatInt(id, 10) +
						`,"customer_id":1,"product_id":1000,"quantity":2,"unit_price":12.50,"status":"paid","sold_at":"2026-01-02T03:04:05Z"}}`)
					evs[i] = e
				}
				if _, err := d.LoadBatch(ctx, warehouse.Batch{Topic: "t", Partition: p, FromOffset: from, NextOffset: from + int64(size), Events: evs}); err != nil {
					errs <- err
					return
				}
				from += int64(size)
			}
		}(p)
	}
	merged := make(chan int64, 1)
	go func() {
		var n int64
		defer func() { merged <- n }()
		for {
			r, err := d.MergeOrders(ctx)
			if err != nil {
				errs <- err
				return
			}
			n += r.Inserted
			select {
			case <-done:
				if r.NothingNew {
					return
				}
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	wg.Wait()
	// Checkpoints kept up: without them this WAL reached 158 MiB and RAW's
	// rows spilled to temp_directory.
	fi, err := os.Stat(d.walPath())
	var wal int64
	if err == nil {
		wal = fi.Size()
	}
	tags, _ := d.Memory(ctx)
	t.Logf("after the loaders: WAL %d MiB, %d checkpoints, DuckDB memory %+v", wal>>20, d.checkpoints.Load(), tags[:3])
	if d.checkpoints.Load() == 0 || wal > 2*d.walLimit {
		t.Errorf("WAL %d MiB after %d checkpoints: want checkpoints to keep it under %d MiB", wal>>20, d.checkpoints.Load(), 2*d.walLimit>>20)
	}
	close(done)
	n := <-merged
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := int64(3 * batches * size)
	if got := count(t, d, "SELECT count(*) FROM raw.orders_events"); got != want {
		t.Fatalf("RAW holds %d rows, want %d", got, want)
	}
	if got := count(t, d, "SELECT count(*) FROM prod.orders"); got != want || n != want {
		t.Fatalf("PROD holds %d orders (merges inserted %d), want %d", got, n, want)
	}
}
