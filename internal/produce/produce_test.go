package produce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
)

// broker is a real in-process Kafka-protocol broker with a one-partition topic.
func broker(t testing.TB, topic string) *kafka.Client {
	t.Helper()
	b, err := devstack.StartBroker(0, "", topic, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	c, err := kafka.NewClient(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func replay(t testing.TB, orders int) (string, func(byteOffset int64, skip int) Source) {
	t.Helper()
	f, err := datagen.Generate(t.TempDir(), datagen.Spec{Seed: 1, Customers: 20, Products: 10, Orders: orders, AsOf: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return f.Orders, func(byteOffset int64, skip int) Source {
		r, err := datagen.OpenOrdersAt(f.Orders, byteOffset, skip)
		if err != nil {
			t.Fatal(err)
		}
		if byteOffset == 0 {
			if err := r.Skip(skip); err != nil {
				t.Fatal(err)
			}
		}
		return Replay{R: r}
	}
}

// orderIDs reads the topic's events back, in order.
func orderIDs(t *testing.T, c *kafka.Client, topic string) []int64 {
	t.Helper()
	_, end, err := c.Bounds(context.Background(), topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.NewPartitionReader(topic, 0, 0, 1<<20, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ids []int64
	for int64(len(ids)) < end {
		rec, err := r.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.Event
		if err := json.Unmarshal(rec.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if string(rec.Key) != string(ev.Key()) {
			t.Fatalf("record key %q, event key %q", rec.Key, ev.Key())
		}
		ids = append(ids, ev.Order.OrderID)
	}
	return ids
}

// A replay sends every row once, in order, reports progress per
// acknowledged batch, and a resumed run (from the heartbeated byte offset)
// continues exactly where the first stopped.
func TestReplayResumesWhereItStopped(t *testing.T) {
	c := broker(t, "orders")
	_, open := replay(t, 2500)
	prod := c.NewProducer("orders")
	defer prod.Close()
	var acks []int
	first, err := Run(context.Background(), Config{Count: 1200}, open(0, 0), prod, func(sent, batch int, _ int64) { acks = append(acks, sent) })
	if err != nil || first.Sent != 1200 || first.EOF || first.NextByteOffset == 0 {
		t.Fatalf("first run %+v %v", first, err)
	}
	if fmt.Sprint(acks) != "[1000 1200]" {
		t.Fatalf("acknowledged batches %v, want [1000 1200]", acks)
	}
	second, err := Run(context.Background(), Config{Count: 5000, Sent: 1200}, open(first.NextByteOffset, 1200), prod, nil)
	if err != nil || second.Sent != 2500 || !second.EOF {
		t.Fatalf("second run %+v %v", second, err)
	}
	ids := orderIDs(t, c, "orders")
	if len(ids) != 2500 {
		t.Fatalf("%d events in the topic, want 2500", len(ids))
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("event %d is order %d, want %d (a gap or a resend)", i, id, i+1)
		}
	}
}

// A bad CSV row is a SourceError naming line and column; what was
// acknowledged before it stays counted.
func TestBadRowIsASourceError(t *testing.T) {
	c := broker(t, "orders")
	path, _ := replay(t, 10)
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	lines[6] = strings.Replace(lines[6], ",", ",x", 1) // row 6: customer_id not a number
	bad := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := datagen.OpenOrders(bad)
	if err != nil {
		t.Fatal(err)
	}
	prod := c.NewProducer("orders")
	defer prod.Close()
	res, err := Run(context.Background(), Config{Count: 10, Rate: 40}, Replay{R: r}, prod, nil) // batches of 2
	var se *SourceError
	var ce *datagen.CSVError
	if !errors.As(err, &se) || !errors.As(err, &ce) || ce.Line != 7 || ce.Column != "customer_id" {
		t.Fatalf("want a SourceError at line 7 column customer_id, got %v", err)
	}
	if res.Sent != 4 {
		t.Fatalf("sent %d before the bad row, want 4 (two batches of 2)", res.Sent)
	}
}

// A deadline ends a stream that has no end of its own; a cancelled context
// ends a rate-limited one.
func TestStreamEndsAtDeadlineOrCancel(t *testing.T) {
	c := broker(t, "orders")
	prod := c.NewProducer("orders")
	defer prod.Close()
	stream := func() Source {
		return &Stream{S: datagen.Stream{Seed: 1, FirstOrderID: 1, Customers: 10, Prices: []events.Cents{999, 1999}, Start: time.Now(), Spacing: time.Millisecond}}
	}
	res, err := Run(context.Background(), Config{Count: 1 << 30, Deadline: time.Now().Add(300 * time.Millisecond)}, stream(), prod, nil)
	if err != nil || res.Sent == 0 || res.EOF {
		t.Fatalf("deadline: %+v %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err = Run(ctx, Config{Count: 1 << 30, Rate: 100}, stream(), prod, nil)
	if !errors.Is(err, context.DeadlineExceeded) || res.Sent > 100 {
		t.Fatalf("cancelled at 100 events/s after 0.3 s: %+v %v", res, err)
	}
}

// BenchmarkReplay measures the engine alone: CSV rows encoded and written to
// the in-process broker, no Temporal.
func BenchmarkReplay(b *testing.B) {
	c := broker(b, "orders")
	_, open := replay(b, 20000)
	prod := c.NewProducer("orders")
	defer prod.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src := open(0, 0)
		if _, err := Run(context.Background(), Config{Count: 20000}, src, prod, nil); err != nil {
			b.Fatal(err)
		}
		src.Close()
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "events/s")
}
