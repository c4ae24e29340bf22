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
	"github.com/dropflow/dropflow/internal/ingest"
	"github.com/dropflow/dropflow/internal/names"
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
				topic, p.Partition, next, first, end), names.ErrOffsetOutOfRange, nil)
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
	// The reader fetches up to a batch ahead: the next batch arrives while
	// the engine decodes and loads this one.
	reader, err := a.Kafka.NewPartitionReader(topic, p.Partition, next, p.BatchBytes, p.BatchRecords)
	if err != nil {
		return res, err
	}
	defer reader.Close()
	cfg := ingest.Config{Topic: topic, Partition: p.Partition, From: next, End: end, Follow: p.Follow,
		Policy: ingest.Policy{Records: p.BatchRecords, Bytes: p.BatchBytes, Wait: p.BatchWait.D()}}
	if p.Follow && p.MaxDuration > 0 {
		cfg.Deadline = time.Now().Add(p.MaxDuration.D())
	}
	partLabel := strconv.Itoa(p.Partition)
	hooks := ingest.Hooks{
		Loaded: func(b warehouse.Batch, lr warehouse.LoadResult, took time.Duration) {
			a.observeBatch(b, lr, took)
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
			if err := a.Kafka.CommitGroupOffset(ctx, a.Settings.Group, topic, p.Partition, b.NextOffset); err != nil && ctx.Err() == nil {
				log.Warn("consumer group offset commit failed (lag tools will lag behind)", "error", err)
			}
		},
		Progress: func(next, hwm int64) {
			a.Metrics.KafkaLag.WithLabelValues(topic, partLabel).Set(float64(max(0, hwm-next)))
			if hwm-next > int64(max(p.BatchRecords, 1)) {
				a.behindAt.Store(time.Now().UnixNano())
			}
			activity.RecordHeartbeat(ctx, next)
		},
	}
	run, err := ingest.Run(ctx, cfg, reader, a.WH, hooks)
	res.Loaded, res.Duplicates, res.Rejected, res.Conflicts, res.Batches = run.Loaded, run.Duplicates, run.Rejected, run.Conflicts, run.Batches
	res.NextOffset = run.NextOffset
	var fenced *ingest.FencedError
	switch {
	case errors.As(err, &fenced):
		return res, temporal.NewNonRetryableApplicationError(err.Error(), names.ErrPartitionFenced, err)
	case err != nil:
		return res, classify(err)
	case run.Stopped:
		log.Info("partition loader stopped", "partition", p.Partition, "next_offset", run.NextOffset)
	case run.Gap:
		log.Info("partition has no records left below its end offset", "partition", p.Partition, "next_offset", run.NextOffset, "end", end)
	}
	return res, nil
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
