package params

import (
	"time"
)

// Ingest modes.
const (
	ModeDrain  = "drain"
	ModeFollow = "follow"
)

// IngestOrdersInput is the input of IngestOrders.
type IngestOrdersInput struct {
	// Mode: "drain" loads up to the end offsets and returns; "follow" keeps
	// loading until the stop signal. Default "drain".
	Mode string `json:"mode,omitempty"`
	// Topic to consume. Default: the worker's KAFKA_TOPIC.
	Topic string `json:"topic,omitempty"`
	// BatchRecords flushes a batch at this many records. Default 5000.
	BatchRecords int `json:"batch_records,omitempty"`
	// BatchBytes flushes a batch at this many bytes of values. Default 4 MiB.
	BatchBytes int `json:"batch_bytes,omitempty"`
	// BatchWait flushes a non-empty batch after this long. Default "1s".
	BatchWait Duration `json:"batch_wait,omitempty"`
	// AwaitDrainSignal (drain mode) keeps loading rounds until the "drain"
	// signal, then loads once more to the end and returns. Pipeline sets it so
	// that ingest runs alongside the producer. Default false.
	AwaitDrainSignal bool `json:"await_drain_signal,omitempty"`
	// FollowChunk (follow mode) is how long one LoadPartition activity runs
	// before the workflow continues as new. Default "10m".
	FollowChunk Duration `json:"follow_chunk,omitempty"`
	// PartitionWatch (follow mode) is how often the topic is checked for new
	// partitions. Default "30s".
	PartitionWatch Duration `json:"partition_watch,omitempty"`
	// OffsetReset says what to do when a partition's stored offset is outside
	// the broker's range (retention passed, topic recreated): "" stops with an
	// OffsetOutOfRange error (never skipping or reloading silently);
	// "earliest" or "latest" moves the stored offset there, logged and counted.
	// Default "".
	OffsetReset string `json:"offset_reset,omitempty"`
	// Totals carried over ContinueAsNew; not for users.
	Carry *IngestOrdersResult `json:"carry,omitempty"`
}

// Offset reset policies.
const (
	ResetNone     = ""
	ResetEarliest = "earliest"
	ResetLatest   = "latest"
)

// WithDefaults fills zero fields and validates the rest.
func (in IngestOrdersInput) WithDefaults() (IngestOrdersInput, error) {
	if in.Mode == "" {
		in.Mode = ModeDrain
	}
	if in.Mode != ModeDrain && in.Mode != ModeFollow {
		return in, invalid("mode", "unknown mode %q (want %q or %q)", in.Mode, ModeDrain, ModeFollow)
	}
	if in.OffsetReset != ResetNone && in.OffsetReset != ResetEarliest && in.OffsetReset != ResetLatest {
		return in, invalid("offset_reset", "unknown policy %q (want %q or %q, or empty to stop on an out-of-range offset)", in.OffsetReset, ResetEarliest, ResetLatest)
	}
	if in.BatchRecords < 0 {
		return in, invalid("batch_records", "must be >= 1, got %d", in.BatchRecords)
	}
	if in.BatchRecords == 0 {
		in.BatchRecords = DefaultBatchRecords
	}
	if in.BatchBytes < 0 {
		return in, invalid("batch_bytes", "must be >= 1, got %d", in.BatchBytes)
	}
	if in.BatchBytes == 0 {
		in.BatchBytes = DefaultBatchBytes
	}
	if in.BatchWait < 0 {
		return in, invalid("batch_wait", "must be > 0, got %s", in.BatchWait.D())
	}
	if in.BatchWait == 0 {
		in.BatchWait = Duration(DefaultBatchWait)
	}
	if in.BatchWait.D() > time.Minute {
		return in, invalid("batch_wait", "must be <= 1m (the loader heartbeats between batches), got %s", in.BatchWait.D())
	}
	if in.FollowChunk < 0 {
		return in, invalid("follow_chunk", "must be > 0, got %s", in.FollowChunk.D())
	}
	if in.FollowChunk == 0 {
		in.FollowChunk = Duration(DefaultFollowChunk)
	}
	if in.PartitionWatch < 0 {
		return in, invalid("partition_watch", "must be > 0, got %s", in.PartitionWatch.D())
	}
	if in.PartitionWatch == 0 {
		in.PartitionWatch = Duration(30 * time.Second)
	}
	return in, nil
}

// LoadPartitionParams is the input of the LoadPartition activity.
type LoadPartitionParams struct {
	Topic        string   `json:"topic"`
	Partition    int      `json:"partition"`
	BatchRecords int      `json:"batch_records"`
	BatchBytes   int      `json:"batch_bytes"`
	BatchWait    Duration `json:"batch_wait"`
	// Follow keeps reading until MaxDuration passes or the activity is
	// cancelled; otherwise it returns once caught up with the end offset.
	Follow      bool     `json:"follow"`
	MaxDuration Duration `json:"max_duration,omitempty"`
	OffsetReset string   `json:"offset_reset,omitempty"`
}

// PartitionResult reports one LoadPartition activity.
type PartitionResult struct {
	Partition  int   `json:"partition"`
	Loaded     int64 `json:"loaded"`
	Duplicates int64 `json:"duplicates"`
	Rejected   int64 `json:"rejected"`
	// Conflicts counts events rejected as event_id_conflict (also in Rejected).
	Conflicts  int64 `json:"conflicts,omitempty"`
	Batches    int64 `json:"batches"`
	NextOffset int64 `json:"next_offset"`
	// Resets counts offset resets applied under the offset_reset policy.
	Resets int64 `json:"resets,omitempty"`
}

// IngestOrdersResult totals an IngestOrders run.
type IngestOrdersResult struct {
	Topic      string            `json:"topic"`
	Partitions int               `json:"partitions"`
	Loaded     int64             `json:"loaded"`
	Duplicates int64             `json:"duplicates"`
	Rejected   int64             `json:"rejected"`
	Conflicts  int64             `json:"conflicts,omitempty"`
	Batches    int64             `json:"batches"`
	Resets     int64             `json:"resets,omitempty"`
	Rounds     int               `json:"rounds"`
	Offsets    []PartitionResult `json:"offsets"`
}

// Add folds one partition's result into the totals.
func (r *IngestOrdersResult) Add(p PartitionResult) {
	r.Loaded += p.Loaded
	r.Duplicates += p.Duplicates
	r.Rejected += p.Rejected
	r.Conflicts += p.Conflicts
	r.Batches += p.Batches
	r.Resets += p.Resets
	for i := range r.Offsets {
		if r.Offsets[i].Partition == p.Partition {
			o := &r.Offsets[i]
			o.Loaded += p.Loaded
			o.Duplicates += p.Duplicates
			o.Rejected += p.Rejected
			o.Conflicts += p.Conflicts
			o.Batches += p.Batches
			o.Resets += p.Resets
			o.NextOffset = p.NextOffset
			return
		}
	}
	r.Offsets = append(r.Offsets, p)
}
