package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
)

// sameSizeEvents returns n valid events of order ids first, first+1, …
// whose values all have the same length (same-width ids, fixed times).
func sameSizeEvents(t *testing.T, first int64, n int) ([]kafka.Message, int) {
	t.Helper()
	var msgs []kafka.Message
	for id := first; id < first+int64(n); id++ {
		ev := events.NewOrderCreated(events.Order{OrderID: id, CustomerID: 1, ProductID: 1000, Quantity: 1, UnitPrice: 999, Status: "paid",
			SoldAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, events.SourceStream, time.Date(2026, 1, 1, 0, 0, 1, 123456789, time.UTC))
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 && len(b) != len(msgs[0].Value) {
			t.Fatalf("event %d is %d bytes, event %d %d: want one size", id, len(b), first, len(msgs[0].Value))
		}
		msgs = append(msgs, kafka.Message{Key: ev.Key(), Value: b})
	}
	return msgs, len(msgs[0].Value)
}

func (f *fixture) send(t *testing.T, msgs []kafka.Message) {
	t.Helper()
	p := f.kc.NewProducer(topic)
	defer p.Close()
	if err := p.Send(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

// batches returns the committed batches of RAW in order, as "first-last:count"
// of their offsets: a batch's rows share the ingested_at of its LoadBatch.
func (f *fixture) batches(t *testing.T) []string {
	t.Helper()
	rows, err := f.wh.Query(context.Background(), `SELECT min(kafka_offset), max(kafka_offset), count(*) FROM raw.orders_events GROUP BY ingested_at ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var lo, hi, n int64
		if err := rows.Scan(&lo, &hi, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d-%d:%d", lo, hi, n))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLoadPartitionFlushesOnBatchRecordsOrBytes: with the other limits out of
// reach, a batch is committed at batch_records records, or as soon as its
// values reach batch_bytes.
func TestLoadPartitionFlushesOnBatchRecordsOrBytes(t *testing.T) {
	for _, c := range []struct {
		name           string
		records, bytes func(size int) int
		want           []string
	}{
		// 4 records a batch; the last batch ends with the partition.
		{"batch_records", func(int) int { return 4 }, func(int) int { return 1 << 20 }, []string{"0-3:4", "4-7:4", "8-8:1"}},
		// 2 values are under the limit, 3 reach it.
		{"batch_bytes", func(int) int { return 1000 }, func(size int) int { return 2*size + 1 }, []string{"0-2:3", "3-5:3", "6-8:3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 1)
			msgs, size := sameSizeEvents(t, 101, 9)
			f.send(t, msgs)
			in := params.LoadPartitionParams{Topic: topic, Partition: 0, BatchRecords: c.records(size), BatchBytes: c.bytes(size),
				BatchWait: params.Duration(30 * time.Second)} // never the trigger: the loader would sit 30 s
			v, err := f.env.ExecuteActivity(f.a.LoadPartition, in)
			if err != nil {
				t.Fatal(err)
			}
			var res params.PartitionResult
			if err := v.Get(&res); err != nil {
				t.Fatal(err)
			}
			if res.Loaded != 9 || res.Batches != int64(len(c.want)) || res.NextOffset != 9 {
				t.Fatalf("%+v, want 9 loaded in %d batches up to offset 9", res, len(c.want))
			}
			if got := f.batches(t); strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Fatalf("committed batches %v, want %v (%d-byte values, batch_records %d, batch_bytes %d)", got, c.want, size, in.BatchRecords, in.BatchBytes)
			}
		})
	}
}

// TestLoadPartitionFlushesOnBatchWait: a following loader whose batch never
// reaches batch_records nor batch_bytes (and, following, never ends with the
// partition) commits it once batch_wait has passed, and again for records
// that arrive later.
func TestLoadPartitionFlushesOnBatchWait(t *testing.T) {
	f := newFixture(t, 1)
	msgs, _ := sameSizeEvents(t, 101, 5)
	f.send(t, msgs[:4])
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx}) // stop() ends the loader
	env.RegisterActivity(f.a)
	const wait = time.Second
	in := params.LoadPartitionParams{Topic: topic, Partition: 0, Follow: true, BatchRecords: 1000, BatchBytes: 1 << 20, BatchWait: params.Duration(wait)}
	type result struct {
		res params.PartitionResult
		err error
	}
	done := make(chan result, 1)
	began := time.Now().UTC()
	go func() {
		v, err := env.ExecuteActivity(f.a.LoadPartition, in)
		var r result
		if r.err = err; err == nil {
			r.err = v.Get(&r.res)
		}
		done <- r
	}()
	stored := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			next, _, err := f.wh.Offset(context.Background(), topic, 0)
			if err != nil {
				t.Fatal(err)
			}
			if next == want {
				return
			}
			select {
			case r := <-done:
				t.Fatalf("the loader ended before offset %d was stored (at %d): %+v %v", want, next, r.res, r.err)
			case <-time.After(10 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("offset %d after 20 s, want %d: batch_wait (%s) never flushed the batch", next, want, wait)
			}
		}
	}
	stored(4)
	if got := f.batches(t); strings.Join(got, " ") != "0-3:4" {
		t.Fatalf("first batch %v, want the 4 records in one", got)
	}
	// The batch closed with its window, not earlier: the loader held it batch_wait.
	var committed time.Time
	if err := f.wh.QueryRow(context.Background(), "SELECT max(ingested_at) FROM raw.orders_events").Scan(&committed); err != nil {
		t.Fatal(err)
	}
	if held := committed.Sub(began.Truncate(time.Microsecond)); held < wait {
		t.Fatalf("the first batch was committed %s after the loader started, before batch_wait (%s)", held, wait)
	}
	// A record arriving while the loader idles is committed after a window too.
	f.send(t, msgs[4:])
	stored(5)
	stop()
	var r result
	select {
	case r = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the loader did not stop when its context ended")
	}
	if r.err != nil || r.res.Batches != 2 || r.res.Loaded != 5 || r.res.NextOffset != 5 {
		t.Fatalf("%+v %v, want 5 loaded in 2 batches", r.res, r.err)
	}
	if got := f.batches(t); strings.Join(got, " ") != "0-3:4 4-4:1" {
		t.Fatalf("committed batches %v, want [0-3:4 4-4:1]", got)
	}
}
