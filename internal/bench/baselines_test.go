package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	whduckdb "github.com/dropflow/dropflow/internal/warehouse/duckdb"
)

// plainWriter sends the same CSV as events with a bare kafka-go Writer.
func plainWriter(b *testing.B, addr, topic, csvPath string) float64 {
	r, err := datagen.OpenOrders(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	w := &kafkago.Writer{Addr: kafkago.TCP(addr), Topic: topic, Balancer: &kafkago.Murmur2Balancer{}, RequiredAcks: kafkago.RequireAll,
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
	wh, err := whduckdb.Open(context.Background(), path)
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

// plainLoop is the fastest plain ingest loop written on this stack: per
// partition, a kafka-go reader prefetching Queue messages feeds a goroutine
// that cuts batches of Batch records and hands them (double-buffered) to a
// loader: the DuckDB Appender and the offset row in one transaction per
// batch. No Temporal, no decoding, no dedupe.
type plainLoop struct {
	Partitions, Batch, Queue int
}

func (c plainLoop) String() string {
	return fmt.Sprintf("%d partition readers, queue %d, batch %d, query Appender (JSON cast in DuckDB) + offset in 1 tx, fetch overlapping load, no decode/dedupe", c.Partitions, c.Queue, c.Batch)
}

func (c plainLoop) run(b *testing.B, addr, topic, path string) float64 {
	db := openPlain(b, path)
	defer db.Close()
	kc, _ := kafka.NewClient(addr)
	began := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := int64(0)
	for p := 0; p < c.Partitions; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			_, end, err := kc.Bounds(context.Background(), topic, p)
			if err != nil {
				b.Error(err)
				return
			}
			rd := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: p, MinBytes: 1,
				MaxBytes: kafka.MaxBatchBytes, MaxWait: 250 * time.Millisecond, QueueCapacity: c.Queue})
			defer rd.Close()
			conn, err := db.Conn(context.Background())
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			type cut struct {
				msgs []kafkago.Message
				next int64
			}
			cuts := make(chan cut, 1)
			go func() {
				defer close(cuts)
				for n := int64(0); n < end; {
					batch := make([]kafkago.Message, 0, c.Batch)
					for len(batch) < c.Batch && n < end {
						m, err := rd.FetchMessage(context.Background())
						if err != nil {
							b.Error(err)
							return
						}
						batch = append(batch, m)
						n = m.Offset + 1
					}
					cuts <- cut{batch, n}
				}
			}()
			for ct := range cuts {
				if err := appendPlain(conn, topic, p, ct.msgs, ct.next); err != nil {
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

func appendPlain(conn *sql.Conn, topic string, partition int, batch []kafkago.Message, next int64) error {
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	err := conn.Raw(func(dc any) error {
		// The fastest Appender path for a JSON column: rows as VARCHAR,
		// cast in DuckDB (the driver's own JSON path re-marshals in Go).
		a, err := duckdb.NewQueryAppender(dc.(driver.Conn), `INSERT INTO raw.orders_events
SELECT c1, c2, CAST(c3 AS JSON), c4, c5, c6, c7, c8, c9 FROM appended_data`, "appended_data", plainTypes(), []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"})
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, m := range batch {
			if err := a.AppendRow(fmt.Sprintf("%s/%d/%d", topic, partition, m.Offset), "order_created", m.Value, topic, int32(partition), m.Offset, m.Time.UTC(), now, nil); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err == nil {
		_, err = conn.ExecContext(ctx, `INSERT OR REPLACE INTO ops.kafka_offsets VALUES (?, ?, ?, now())`, topic, partition, next)
	}
	if err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

func plainTypes() []duckdb.TypeInfo {
	var out []duckdb.TypeInfo
	for _, t := range []duckdb.Type{duckdb.TYPE_VARCHAR, duckdb.TYPE_VARCHAR, duckdb.TYPE_VARCHAR, duckdb.TYPE_VARCHAR, duckdb.TYPE_INTEGER,
		duckdb.TYPE_BIGINT, duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP, duckdb.TYPE_VARCHAR} {
		ti, _ := duckdb.NewTypeInfo(t)
		out = append(out, ti)
	}
	return out
}

// rowInserts is the original design's consumer at its best: every
// partition read concurrently, a prepared INSERT per row, one transaction
// per 10 rows, perPartition records from each.
func rowInserts(b *testing.B, addr, topic, path string, partitions, perPartition int) float64 {
	db := openPlain(b, path)
	defer db.Close()
	began := time.Now()
	var wg sync.WaitGroup
	for p := 0; p < partitions; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			ctx := context.Background()
			rd := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: p, MinBytes: 1, MaxBytes: kafka.MaxBatchBytes})
			defer rd.Close()
			conn, err := db.Conn(ctx)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			for n := 0; n < perPartition; {
				tx, err := conn.BeginTx(ctx, nil)
				if err != nil {
					b.Error(err)
					return
				}
				st, err := tx.PrepareContext(ctx, `INSERT INTO raw.orders_events VALUES (?, 'order_created', ?, ?, ?, ?, ?, now(), NULL)`)
				if err != nil {
					b.Error(err)
					return
				}
				for i := 0; i < 10 && n < perPartition; i++ {
					m, err := rd.FetchMessage(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := st.ExecContext(ctx, fmt.Sprintf("row-%d-%d", p, m.Offset), string(m.Value), topic, p, m.Offset, m.Time.UTC()); err != nil {
						b.Error(err)
						return
					}
					n++
				}
				st.Close()
				if err := tx.Commit(); err != nil {
					b.Error(err)
					return
				}
			}
		}(p)
	}
	wg.Wait()
	return float64(partitions*perPartition) / time.Since(began).Seconds()
}
