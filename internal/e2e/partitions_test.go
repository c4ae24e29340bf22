package e2e

import (
	"context"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// TestFollowPicksUpANewPartition grows the topic while a following ingest
// runs; the new partition is loaded without a restart.
func TestFollowPicksUpANewPartition(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.deploySchema(ctx)
	kc, err := kafka.NewClient(s.brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	prod := kc.NewProducer(topic)
	var msgs []kafka.Message
	for i := int64(1); i <= 60; i++ {
		msgs = append(msgs, event(t, i))
	}
	if err := prod.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	follow := execute(t, s.client, "follow-grow", names.IngestOrders, params.IngestOrdersInput{Mode: params.ModeFollow,
		BatchWait: params.Duration(200 * time.Millisecond), PartitionWatch: params.Duration(time.Second)})
	committed := func(p int) int64 {
		offs, err := kc.GroupOffsets(ctx, "dropflow-ingest", topic, []int{p})
		if err != nil {
			return -1
		}
		return offs[p]
	}
	waitFor(t, "the first 60 events", time.Minute, func() bool { return committed(0)+committed(1)+committed(2) == 60 })
	if err := kc.AddPartitions(ctx, topic, 4); err != nil {
		t.Fatal(err)
	}
	var extra []kafkago.Message
	for i := int64(100); i < 110; i++ {
		m := event(t, i)
		extra = append(extra, kafkago.Message{Key: m.Key, Value: m.Value})
	}
	// Straight into the new partition, once the broker's metadata shows it.
	waitFor(t, "a write to the new partition", 30*time.Second, func() bool {
		w := &kafkago.Writer{Addr: kafkago.TCP(s.brokerAddr), Topic: topic, BatchTimeout: 5 * time.Millisecond, MaxAttempts: 1,
			Balancer: kafkago.BalancerFunc(func(_ kafkago.Message, _ ...int) int { return 3 })}
		defer w.Close()
		return w.WriteMessages(ctx, extra...) == nil
	})
	waitFor(t, "the new partition to be loaded", time.Minute, func() bool { return committed(3) == 10 })
	if err := s.client.SignalWorkflow(ctx, "follow-grow", "", names.SignalStop, nil); err != nil {
		t.Fatal(err)
	}
	var res params.IngestOrdersResult
	if err := follow.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Loaded != 70 || res.Partitions != 4 {
		t.Fatalf("follow loaded %d over %d partitions, want 70 over 4", res.Loaded, res.Partitions)
	}
}
