package duckdb

import (
	"context"
	"fmt"
	"testing"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// BenchmarkLoadBatch loads 2000-event batches through LoadBatch (Appender,
// one transaction with the offset) against the baseline of one INSERT per
// row, as the original design's consumer did. `make bench` prints the ratio.
func BenchmarkLoadBatch(b *testing.B) {
	const n = 2000
	mk := func(t testing.TB, base int64) []warehouse.Event {
		evs := make([]warehouse.Event, n)
		for i := range evs {
			evs[i] = event(t, base+int64(i)+1, 1, "paid", base+int64(i))
		}
		return evs
	}
	b.Run("appender", func(b *testing.B) {
		d := openBench(b)
		ctx := context.Background()
		if _, err := d.InitOffset(ctx, "t", 0, 0); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			evs := mk(b, int64(i*n))
			b.StartTimer()
			if _, err := d.LoadBatch(ctx, warehouse.Batch{Topic: "t", FromOffset: int64(i * n), NextOffset: int64((i + 1) * n), Events: evs}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "rows/op")
	})
	// The original consumer's shape at its best: one prepared INSERT, one
	// transaction per 10 rows (its batch), not one auto-commit per row.
	b.Run("row-inserts-baseline", func(b *testing.B) {
		d := openBench(b)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			evs := mk(b, int64(i*n))
			b.StartTimer()
			for j := 0; j < len(evs); j += 10 {
				if err := insertTen(ctx, d, evs[j:min(j+10, len(evs))]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n), "rows/op")
	})
}

func openBench(b *testing.B) *Warehouse {
	b.Helper()
	d, err := Open(context.Background(), b.TempDir()+"/bench.duckdb")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background(), false); err != nil {
		b.Fatal(err)
	}
	return d
}

// insertTen writes up to ten events through a prepared INSERT in one transaction.
func insertTen(ctx context.Context, d *Warehouse, evs []warehouse.Event) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	st, err := tx.PrepareContext(ctx, `INSERT INTO raw.orders_events VALUES (?, ?, ?, 't', 0, ?, ?, now(), NULL)`)
	if err != nil {
		return fmt.Errorf("prepare row insert: %w", err)
	}
	defer st.Close()
	for _, e := range evs {
		if _, err := st.ExecContext(ctx, e.EventID, e.EventType, string(e.Payload), e.Offset, e.ProducedAt); err != nil {
			return fmt.Errorf("row insert: %w", err)
		}
	}
	return tx.Commit()
}
