// Package kafka adapts github.com/segmentio/kafka-go to Dropflow's needs:
// topic set-up, a keyed producer, per-partition readers that start at an
// offset the warehouse stored, and consumer-group offset commits so that lag
// shows in standard tools. It imports neither the warehouse nor anything above.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// MaxBatchBytes keeps produce requests under the brokers' default 1 MB message limit.
const MaxBatchBytes = 1 << 20

// Client talks to one cluster.
type Client struct {
	brokers []string
	c       *kafkago.Client
}

// NewClient returns a client for a comma-separated bootstrap list.
func NewClient(bootstrap string) (*Client, error) {
	var brokers []string
	for _, b := range strings.Split(bootstrap, ",") {
		if b = strings.TrimSpace(b); b != "" {
			if _, _, err := net.SplitHostPort(b); err != nil {
				return nil, fmt.Errorf("KAFKA_BOOTSTRAP_SERVERS: %q is not host:port: %w", b, err)
			}
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 {
		return nil, errors.New("KAFKA_BOOTSTRAP_SERVERS is empty: want host:port[,host:port]")
	}
	return &Client{brokers: brokers, c: &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 10 * time.Second}}, nil
}

// Brokers returns the bootstrap list.
func (c *Client) Brokers() []string { return c.brokers }

// UnreachableError means no bootstrap broker accepted a connection.
type UnreachableError struct {
	Brokers []string
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("kafka: no broker reachable at %s (KAFKA_BOOTSTRAP_SERVERS): %v; start the broker (make demo starts one) or fix the address", strings.Join(e.Brokers, ","), e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Ping checks that a broker answers now, on a connection of its own: the
// client's metadata is cached and keeps answering after the brokers die.
func (c *Client) Ping(ctx context.Context) error {
	var errs []error
	for _, b := range c.brokers {
		conn, err := (&kafkago.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_, err = conn.ApiVersions()
		conn.Close()
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", b, err))
	}
	return &UnreachableError{Brokers: c.brokers, Err: errors.Join(errs...)}
}

// ClusterID returns the cluster id the brokers report: the same cluster
// whatever address a host reaches it by.
func (c *Client) ClusterID(ctx context.Context) (string, error) {
	md, err := c.c.Metadata(ctx, &kafkago.MetadataRequest{})
	if err != nil {
		return "", &UnreachableError{Brokers: c.brokers, Err: err}
	}
	return md.ClusterID, nil
}

// EnsureTopic creates topic with n partitions if it does not exist.
func (c *Client) EnsureTopic(ctx context.Context, topic string, partitions int) error {
	parts, err := c.Partitions(ctx, topic)
	if err == nil && len(parts) > 0 {
		return nil
	}
	resp, err := c.c.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err != nil {
		return fmt.Errorf("kafka: create topic %s: %w", topic, err)
	}
	if err := resp.Errors[topic]; err != nil && !errors.Is(err, kafkago.TopicAlreadyExists) {
		return fmt.Errorf("kafka: create topic %s: %w", topic, err)
	}
	return nil
}

// AddPartitions grows topic to total partitions (Kafka never shrinks them).
func (c *Client) AddPartitions(ctx context.Context, topic string, total int) error {
	resp, err := c.c.CreatePartitions(ctx, &kafkago.CreatePartitionsRequest{Topics: []kafkago.TopicPartitionsConfig{{Name: topic, Count: int32(total)}}})
	if err != nil {
		return fmt.Errorf("kafka: grow %s to %d partitions: %w", topic, total, err)
	}
	if err := resp.Errors[topic]; err != nil {
		return fmt.Errorf("kafka: grow %s to %d partitions: %w", topic, total, err)
	}
	return nil
}

// TopicMissingError means the topic does not exist on the cluster.
type TopicMissingError struct{ Topic string }

func (e *TopicMissingError) Error() string {
	return fmt.Sprintf("kafka: topic %s does not exist (KAFKA_TOPIC); create it (make demo does) or fix the name", e.Topic)
}

// Partitions lists the topic's partition ids in order.
func (c *Client) Partitions(ctx context.Context, topic string) ([]int, error) {
	md, err := c.c.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, &UnreachableError{Brokers: c.brokers, Err: err}
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			if errors.Is(t.Error, kafkago.UnknownTopicOrPartition) {
				return nil, &TopicMissingError{Topic: topic}
			}
			return nil, fmt.Errorf("kafka: metadata of %s: %w", topic, t.Error)
		}
		out := make([]int, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			out = append(out, p.ID)
		}
		sort.Ints(out)
		if len(out) == 0 {
			return nil, &TopicMissingError{Topic: topic}
		}
		return out, nil
	}
	return nil, &TopicMissingError{Topic: topic}
}

// Bounds returns a partition's first available offset and its end (high watermark).
func (c *Client) Bounds(ctx context.Context, topic string, partition int) (first, end int64, err error) {
	resp, err := c.c.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{
		topic: {kafkago.FirstOffsetOf(partition), kafkago.LastOffsetOf(partition)},
	}})
	if err != nil {
		return 0, 0, fmt.Errorf("kafka: list offsets of %s/%d: %w", topic, partition, err)
	}
	for _, p := range resp.Topics[topic] {
		if p.Partition != partition {
			continue
		}
		if p.Error != nil {
			return 0, 0, fmt.Errorf("kafka: list offsets of %s/%d: %w", topic, partition, p.Error)
		}
		return p.FirstOffset, p.LastOffset, nil
	}
	return 0, 0, fmt.Errorf("kafka: list offsets of %s/%d: partition missing from the reply", topic, partition)
}

// CommitGroupOffset publishes next as the group's committed offset, without
// joining the group (generation -1): the warehouse stays the source of truth,
// this only makes lag visible to kcat, rpk and Redpanda Console.
func (c *Client) CommitGroupOffset(ctx context.Context, group, topic string, partition int, next int64) error {
	resp, err := c.c.OffsetCommit(ctx, &kafkago.OffsetCommitRequest{
		GroupID: group, GenerationID: -1,
		Topics: map[string][]kafkago.OffsetCommit{topic: {{Partition: partition, Offset: next}}},
	})
	if err != nil {
		return fmt.Errorf("kafka: commit group %s offset %s/%d=%d: %w", group, topic, partition, next, err)
	}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return fmt.Errorf("kafka: commit group %s offset %s/%d=%d: %w", group, topic, partition, next, p.Error)
		}
	}
	return nil
}

// GroupOffsets returns the group's committed offsets per partition (-1 when none).
func (c *Client) GroupOffsets(ctx context.Context, group, topic string, partitions []int) (map[int]int64, error) {
	resp, err := c.c.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: partitions}})
	if err != nil {
		return nil, fmt.Errorf("kafka: fetch group %s offsets: %w", group, err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

// PartitionLag is one partition's end offset against the next offset its
// consumer will read.
type PartitionLag struct {
	Partition int   `json:"partition"`
	End       int64 `json:"end"`
	Next      int64 `json:"next"`
	Lag       int64 `json:"lag"`
}

// StoredOffset returns a consumer's next offset of a partition; ok is false
// when it never read it (it then starts at the first retained offset).
// warehouse.Warehouse.Offset has this shape.
type StoredOffset func(ctx context.Context, topic string, partition int) (next int64, ok bool, err error)

// Lag measures every partition of topic against the offsets stored says.
func (c *Client) Lag(ctx context.Context, topic string, stored StoredOffset) ([]PartitionLag, error) {
	parts, err := c.Partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := make([]PartitionLag, 0, len(parts))
	for _, p := range parts {
		first, end, err := c.Bounds(ctx, topic, p)
		if err != nil {
			return nil, err
		}
		next, ok, err := stored(ctx, topic, p)
		if err != nil {
			return nil, err
		}
		if !ok {
			next = first
		}
		out = append(out, PartitionLag{Partition: p, End: end, Next: next, Lag: max(0, end-next)})
	}
	return out, nil
}

// Message is one record to produce.
type Message struct {
	Key, Value []byte
}

// Producer writes keyed records; the key picks the partition with Kafka's
// murmur2 hash, as the Java client and Redpanda tooling do.
type Producer struct {
	w *kafkago.Writer
}

// NewProducer returns a producer for topic. Writes are synchronous and
// acknowledged by all in-sync replicas.
func (c *Client) NewProducer(topic string) *Producer {
	return &Producer{w: &kafkago.Writer{
		Addr:         kafkago.TCP(c.brokers...),
		Topic:        topic,
		Balancer:     &kafkago.Murmur2Balancer{},
		RequiredAcks: kafkago.RequireAll,
		BatchSize:    1000,
		BatchBytes:   MaxBatchBytes,
		// A synchronous write waits BatchTimeout for a batch to fill; we hand
		// it whole batches, so waiting only adds latency.
		BatchTimeout: 5 * time.Millisecond,
		MaxAttempts:  5,
		Compression:  kafkago.Snappy,
	}}
}

// Send writes msgs and returns once all are acknowledged.
func (p *Producer) Send(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	kms := make([]kafkago.Message, len(msgs))
	for i, m := range msgs {
		kms[i] = kafkago.Message{Key: m.Key, Value: m.Value}
	}
	if err := p.w.WriteMessages(ctx, kms...); err != nil {
		return fmt.Errorf("kafka: produce %d records to %s: %w", len(msgs), p.w.Topic, err)
	}
	return nil
}

// Close flushes and closes the producer.
func (p *Producer) Close() error { return p.w.Close() }

// Record is one consumed record.
type Record struct {
	Offset        int64
	Key, Value    []byte
	Time          time.Time
	HighWaterMark int64
}

// PartitionReader reads one partition from a given offset, outside any
// consumer group (the warehouse holds the offsets).
type PartitionReader struct {
	r *kafkago.Reader
}

// NewPartitionReader starts reading topic/partition at offset. It fetches
// ahead of its caller up to queue records (0: kafka-go's 100), so that a
// loader's next batch is read while the previous one is written.
func (c *Client) NewPartitionReader(topic string, partition int, offset int64, maxBytes, queue int) (*PartitionReader, error) {
	if maxBytes <= 0 || maxBytes > MaxBatchBytes {
		maxBytes = MaxBatchBytes
	}
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:       c.brokers,
		Topic:         topic,
		Partition:     partition,
		MinBytes:      1,
		MaxBytes:      maxBytes,
		MaxWait:       250 * time.Millisecond,
		QueueCapacity: queue,
	})
	if err := r.SetOffset(offset); err != nil {
		r.Close()
		return nil, fmt.Errorf("kafka: seek %s/%d to %d: %w", topic, partition, offset, err)
	}
	return &PartitionReader{r: r}, nil
}

// Next returns the next record, blocking until one arrives or ctx ends.
func (p *PartitionReader) Next(ctx context.Context) (Record, error) {
	m, err := p.r.FetchMessage(ctx)
	if err != nil {
		return Record{}, err
	}
	return Record{Offset: m.Offset, Key: m.Key, Value: m.Value, Time: m.Time, HighWaterMark: m.HighWaterMark}, nil
}

// Close stops the reader.
func (p *PartitionReader) Close() error { return p.r.Close() }
