package kafka

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/devstack"
)

func broker(t *testing.T, partitions int32) *Client {
	t.Helper()
	b, err := devstack.StartBroker(0, t.TempDir(), "orders", partitions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	c, err := NewClient(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProduceReadCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := broker(t, 3)
	parts, err := c.Partitions(ctx, "orders")
	if err != nil || len(parts) != 3 {
		t.Fatalf("partitions %v %v", parts, err)
	}
	p := c.NewProducer("orders")
	defer p.Close()
	var msgs []Message
	for i := 0; i < 300; i++ {
		msgs = append(msgs, Message{Key: []byte(fmt.Sprint(i % 50)), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	if err := p.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	keyPartition := map[string]int{}
	for _, part := range parts {
		first, end, err := c.Bounds(ctx, "orders", part)
		if err != nil {
			t.Fatal(err)
		}
		if first != 0 {
			t.Fatalf("first offset %d", first)
		}
		total += end
		if end == 0 {
			continue
		}
		r, err := c.NewPartitionReader("orders", part, end-1, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.Next(ctx)
		r.Close()
		if err != nil || rec.Offset != end-1 || rec.HighWaterMark != end {
			t.Fatalf("read at %d: %+v %v", end-1, rec, err)
		}
		if prev, ok := keyPartition[string(rec.Key)]; ok && prev != part {
			t.Fatalf("key %s in two partitions", rec.Key)
		}
		keyPartition[string(rec.Key)] = part
		if err := c.CommitGroupOffset(ctx, "g", "orders", part, end); err != nil {
			t.Fatal(err)
		}
	}
	if total != 300 {
		t.Fatalf("end offsets sum to %d, want 300", total)
	}
	// Lag: partition 0 never read (counts from its first offset), the others one behind.
	lag, err := c.Lag(ctx, "orders", func(ctx context.Context, topic string, p int) (int64, bool, error) {
		if p == 0 {
			return 0, false, nil
		}
		_, end, err := c.Bounds(ctx, topic, p)
		return end - 1, true, err
	})
	if err != nil || len(lag) != 3 {
		t.Fatalf("lag %v %v", lag, err)
	}
	for _, l := range lag {
		want := int64(1)
		if l.Partition == 0 {
			want = l.End
		}
		if l.End > 0 && l.Lag != want {
			t.Fatalf("partition %d lag %d, want %d (%+v)", l.Partition, l.Lag, want, l)
		}
	}
	got, err := c.GroupOffsets(ctx, "g", "orders", parts)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range parts {
		_, end, _ := c.Bounds(ctx, "orders", part)
		if end > 0 && got[part] != end {
			t.Fatalf("group offset of %d = %d, want %d", part, got[part], end)
		}
	}
}

func TestMissingTopicAndBadAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := broker(t, 1)
	_, err := c.Partitions(ctx, "nope")
	var tm *TopicMissingError
	if !errors.As(err, &tm) {
		t.Fatalf("want TopicMissingError, got %v", err)
	}
	if _, err := NewClient("no-port"); err == nil {
		t.Fatal("an address without a port must be refused")
	}
	port, _ := devstack.FreePort()
	dead, _ := NewClient(fmt.Sprintf("127.0.0.1:%d", port))
	sctx, scancel := context.WithTimeout(ctx, 3*time.Second)
	defer scancel()
	var ue *UnreachableError
	if err := dead.Ping(sctx); !errors.As(err, &ue) {
		t.Fatalf("want UnreachableError, got %v", err)
	}
}
