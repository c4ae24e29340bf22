package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// ListPartitions returns the topic's partition ids.
func (a *Activities) ListPartitions(ctx context.Context, topic string) ([]int, error) {
	parts, err := a.Kafka.Partitions(ctx, a.topic(topic))
	return parts, classify(err)
}

// LoadPartition loads one partition into RAW from the offset the warehouse
// stored, one transaction per batch (rows, rejects and next offset together).
// Without Follow it returns once it reaches the end offset seen at its start.
// With Follow it runs until MaxDuration or cancellation, finishing its
// current batch first. It heartbeats the next offset after every batch.
func (a *Activities) LoadPartition(ctx context.Context, p params.LoadPartitionParams) (params.PartitionResult, error) {
	log := activity.GetLogger(ctx)
	topic := a.topic(p.Topic)
	res := params.PartitionResult{Partition: p.Partition}
	first, end, err := a.Kafka.Bounds(ctx, topic, p.Partition)
	if err != nil {
		return res, err
	}
	next, ok, err := a.WH.Offset(ctx, topic, p.Partition)
	if err != nil {
		return res, classify(err)
	}
	if !ok {
		// Never loaded: start from the earliest record the broker keeps.
		if next, err = a.WH.InitOffset(ctx, topic, p.Partition, first); err != nil {
			return res, err
		}
	}
	if next < first || next > end {
		to := first
		switch p.OffsetReset {
		case params.ResetEarliest:
		case params.ResetLatest:
			to = end
		default:
			return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"topic %s partition %d: stored offset %d is outside the broker's range [%d, %d] (retention passed or topic recreated); refusing to skip or reload silently: rerun with offset_reset \"earliest\" or \"latest\" to choose",
				topic, p.Partition, next, first, end), ErrOffsetOutOfRange, nil)
		}
		if err := a.WH.ResetOffset(ctx, topic, p.Partition, next, to); err != nil {
			return res, err
		}
		log.Warn("stored offset outside the broker's range: reset by policy", "topic", topic, "partition", p.Partition, "stored", next, "first", first, "end", end, "policy", p.OffsetReset, "now", to)
		next = to
		res.Resets++
	}
	res.NextOffset = next
	if !p.Follow && next >= end {
		return res, nil
	}
	reader, err := a.Kafka.NewPartitionReader(topic, p.Partition, next, p.BatchBytes)
	if err != nil {
		return res, err
	}
	defer reader.Close()
	hwm := end // the partition's end offset, as the last fetch reported it
	partLabel := strconv.Itoa(p.Partition)
	var deadline time.Time
	if p.Follow && p.MaxDuration > 0 {
		deadline = time.Now().Add(p.MaxDuration.D())
	}
	for {
		b := warehouse.Batch{Topic: topic, Partition: p.Partition, FromOffset: next, NextOffset: next}
		size := 0
		windowEnd := time.Now().Add(p.BatchWait.D())
		for len(b.Events)+len(b.Rejects) < p.BatchRecords && size < p.BatchBytes {
			if !p.Follow && b.NextOffset >= end {
				break
			}
			wait := time.Until(windowEnd)
			if wait <= 0 {
				break
			}
			fctx, cancel := context.WithTimeout(ctx, wait)
			rec, err := reader.Next(fctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
					break // the batch window closed, or we are asked to stop
				}
				return res, fmt.Errorf("read %s/%d at %d: %w", topic, p.Partition, b.NextOffset, err)
			}
			addRecord(&b, rec)
			size += len(rec.Value)
			b.NextOffset = rec.Offset + 1
			hwm = max(hwm, rec.HighWaterMark)
		}
		if b.NextOffset > b.FromOffset {
			// The batch is written even when cancelled: a stop finishes the current batch.
			began := time.Now()
			lr, err := a.WH.LoadBatch(context.WithoutCancel(ctx), b)
			if errors.Is(err, warehouse.ErrFenced) {
				return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("topic %s partition %d: %v", topic, p.Partition, err), ErrPartitionFenced, err)
			}
			if err != nil {
				return res, classify(err)
			}
			a.observeBatch(b, lr, time.Since(began))
			next = b.NextOffset
			res.Loaded += lr.Inserted
			res.Duplicates += lr.Duplicates
			res.Rejected += lr.Rejected
			res.Conflicts += lr.Conflicts
			res.Batches++
			res.NextOffset = next
			// Fresh events reach PROD in seconds: wake the merger if it runs
			// here, and make sure it runs (the nudger sends at most one
			// signal per NudgeInterval per process).
			if lr.Inserted > 0 {
				a.wakeMerger()
				if a.Nudger != nil {
					if err := a.Nudger.NudgeMerge(context.WithoutCancel(ctx)); err != nil {
						log.Warn("merge nudge failed (the schedule will merge)", "error", err)
					}
				}
			}
			// Lag for standard tools; the warehouse stays the source of truth.
			if err := a.Kafka.CommitGroupOffset(ctx, a.Settings.Group, topic, p.Partition, next); err != nil && ctx.Err() == nil {
				log.Warn("consumer group offset commit failed (lag tools will lag behind)", "error", err)
			}
		}
		a.Metrics.KafkaLag.WithLabelValues(topic, partLabel).Set(float64(max(0, hwm-next)))
		activity.RecordHeartbeat(ctx, res.NextOffset)
		idle := b.NextOffset == b.FromOffset
		switch {
		case ctx.Err() != nil:
			log.Info("partition loader stopped", "partition", p.Partition, "next_offset", next)
			return res, nil
		case !p.Follow && next >= end:
			return res, nil
		case !p.Follow && idle:
			// A whole window without records below the end offset: the gap is
			// not data (aborted transactions, compaction). Caught up.
			log.Info("partition has no records left below its end offset", "partition", p.Partition, "next_offset", next, "end", end)
			return res, nil
		case !deadline.IsZero() && time.Now().After(deadline):
			return res, nil
		}
	}
}

func (a *Activities) observeBatch(b warehouse.Batch, lr warehouse.LoadResult, took time.Duration) {
	m := a.Metrics
	m.Ingested.Add(float64(lr.Inserted))
	m.Duplicates.Add(float64(lr.Duplicates))
	for _, r := range b.Rejects {
		m.Rejected.WithLabelValues(r.Reason).Inc()
	}
	if lr.Conflicts > 0 {
		m.Rejected.WithLabelValues(events.ReasonIDConflict).Add(float64(lr.Conflicts))
	}
	m.BatchSize.Observe(float64(len(b.Events) + len(b.Rejects)))
	m.LoadDuration.Observe(took.Seconds())
	now := time.Now()
	for _, e := range b.Events {
		if !e.ProducedAt.IsZero() {
			m.IngestFreshness.Observe(now.Sub(e.ProducedAt).Seconds())
		}
	}
}

func addRecord(b *warehouse.Batch, rec kafka.Record) {
	ev, err := events.Decode(rec.Value)
	if err != nil {
		reason := events.ReasonInvalidJSON
		var re *events.RejectError
		if errors.As(err, &re) {
			reason = re.Reason
		}
		b.Rejects = append(b.Rejects, warehouse.Reject{Offset: rec.Offset, Key: rec.Key, Value: rec.Value, Reason: reason, Error: err.Error()})
		return
	}
	b.Events = append(b.Events, warehouse.Event{EventID: ev.EventID, EventType: ev.EventType, Payload: rec.Value, Offset: rec.Offset, ProducedAt: ev.ProducedAt,
		ContentHash: events.ContentHash(ev)})
}
