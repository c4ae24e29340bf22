// Package ingest is the partition loader's engine, without Temporal: it cuts
// a partition's records into batches by a count/bytes/wait policy, decodes
// them into events and rejects, and writes each batch with its next offset
// through a Loader in one call. Fetching and decoding the next batch overlaps
// the load of the previous one (two batches in flight at most), so the reader
// and the warehouse work at the same time.
//
// The activity (activities.LoadPartition) resolves the start offset, then
// calls Run with hooks for heartbeats, metrics and merge nudges.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// Reader yields one partition's records in offset order.
type Reader interface {
	Next(ctx context.Context) (kafka.Record, error)
}

// Loader writes a batch, its rejects and its next offset atomically, and
// fences: it fails with warehouse.ErrFenced when another loader moved the
// partition's offset from b.FromOffset.
type Loader interface {
	LoadBatch(ctx context.Context, b warehouse.Batch) (warehouse.LoadResult, error)
}

// Policy says when a batch is cut: at Records records, at Bytes bytes of
// values, or Wait after the batch was started, whichever comes first.
type Policy struct {
	Records int
	Bytes   int
	Wait    time.Duration
}

// Config is one run over one partition.
type Config struct {
	Topic     string
	Partition int
	// From is the first offset to read (the stored next offset).
	From int64
	// End is the partition's end offset at the start. Without Follow, Run
	// returns once it reaches it.
	End int64
	// Follow keeps reading past End until Deadline (zero: none) or until ctx
	// is cancelled; the batches read by then are still written.
	Follow   bool
	Deadline time.Time
	Policy   Policy
}

// Hooks observe the run; nil hooks are skipped. They run on the loading
// goroutine, after the batch committed.
type Hooks struct {
	// Loaded follows every committed batch.
	Loaded func(b warehouse.Batch, lr warehouse.LoadResult, took time.Duration)
	// Progress follows every batch window, loaded or empty: next is the
	// stored next offset, hwm the partition's end as the reader last saw it.
	Progress func(next, hwm int64)
}

// Result sums a run.
type Result struct {
	Loaded, Duplicates, Rejected, Conflicts, Batches int64
	NextOffset                                       int64
	// Gap says a whole window passed without records below End: what is
	// left is not data (aborted transactions, compaction).
	Gap bool
	// Stopped says ctx was cancelled (the batches read were written).
	Stopped bool
}

// FencedError says another loader owns the partition now.
type FencedError struct {
	Topic     string
	Partition int
	Err       error
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("topic %s partition %d: %v", e.Topic, e.Partition, e.Err)
}
func (e *FencedError) Unwrap() error { return e.Err }

// cut is one batch handed from the fetching goroutine to the loading one.
type cut struct {
	b       warehouse.Batch
	hwm     int64
	err     error
	gap     bool
	stopped bool
}

// Run loads the partition from cfg.From until the run's end (see Config).
func Run(ctx context.Context, cfg Config, r Reader, l Loader, h Hooks) (Result, error) {
	res := Result{NextOffset: cfg.From}
	if !cfg.Follow && cfg.From >= cfg.End {
		return res, nil
	}
	fctx, stopFetch := context.WithCancel(ctx)
	cuts := make(chan cut, 1) // one batch waits while one loads
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		defer close(cuts)
		fetch(fctx, cfg, r, cuts)
	}()
	defer func() {
		stopFetch()
		for range cuts { // unblock the fetcher; unloaded batches are re-read later
		}
		<-fetched
	}()
	for c := range cuts {
		if c.err != nil {
			return res, c.err
		}
		b := c.b
		if b.NextOffset > b.FromOffset {
			// Written even when cancelled: a stop finishes the batches read.
			began := time.Now()
			lr, err := l.LoadBatch(context.WithoutCancel(ctx), b)
			if errors.Is(err, warehouse.ErrFenced) {
				return res, &FencedError{Topic: cfg.Topic, Partition: cfg.Partition, Err: err}
			}
			if err != nil {
				return res, err
			}
			res.Loaded += lr.Inserted
			res.Duplicates += lr.Duplicates
			res.Rejected += lr.Rejected
			res.Conflicts += lr.Conflicts
			res.Batches++
			res.NextOffset = b.NextOffset
			if h.Loaded != nil {
				h.Loaded(b, lr, time.Since(began))
			}
		}
		if h.Progress != nil {
			h.Progress(res.NextOffset, c.hwm)
		}
		res.Gap = res.Gap || c.gap
		res.Stopped = res.Stopped || c.stopped
	}
	return res, nil
}

// fetch reads and decodes batches until the run's end, and hands them over.
func fetch(ctx context.Context, cfg Config, r Reader, cuts chan<- cut) {
	next, hwm := cfg.From, cfg.End
	p := cfg.Policy
	for {
		b := warehouse.Batch{Topic: cfg.Topic, Partition: cfg.Partition, FromOffset: next, NextOffset: next,
			Events: make([]warehouse.Event, 0, min(p.Records, 8192))}
		c := cut{}
		size := 0
		// One deadline for the whole window, not a timer per record.
		rctx, cancel := context.WithTimeout(ctx, p.Wait)
		for len(b.Events)+len(b.Rejects) < p.Records && size < p.Bytes {
			if !cfg.Follow && b.NextOffset >= cfg.End {
				break
			}
			if rctx.Err() != nil {
				break
			}
			rec, err := r.Next(rctx)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
					break // the window closed, or we are asked to stop
				}
				c.err = fmt.Errorf("read %s/%d at %d: %w", cfg.Topic, cfg.Partition, b.NextOffset, err)
				break
			}
			Add(&b, rec)
			size += len(rec.Value)
			b.NextOffset = rec.Offset + 1
			hwm = max(hwm, rec.HighWaterMark)
		}
		cancel()
		next = b.NextOffset
		idle := b.NextOffset == b.FromOffset
		c.b, c.hwm = b, hwm
		last := true
		switch {
		case c.err != nil:
		case ctx.Err() != nil:
			c.stopped = true
		case !cfg.Follow && next >= cfg.End:
		case !cfg.Follow && idle:
			c.gap = true
		case !cfg.Deadline.IsZero() && time.Now().After(cfg.Deadline):
		default:
			last = false
		}
		if c.stopped {
			// The loader must see this batch even though ctx is done.
			cuts <- c
			return
		}
		select {
		case cuts <- c:
		case <-ctx.Done():
			// Stopped while the loader was busy: hand over what was read.
			c.stopped = true
			cuts <- c
			return
		}
		if last {
			return
		}
	}
}

// Add decodes one record into the batch: an event, or a reject with its
// reason (the value is kept either way).
func Add(b *warehouse.Batch, rec kafka.Record) {
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
	// Copies of the two strings kept: the decoder's strings point into its
	// own copy of the whole value, which they would keep alive beside
	// rec.Value for as long as the batch lives (a third of the live heap).
	b.Events = append(b.Events, warehouse.Event{EventID: strings.Clone(ev.EventID), EventType: eventType(ev.EventType), Payload: rec.Value, Offset: rec.Offset,
		ProducedAt: ev.ProducedAt, ContentHash: events.ContentHash(ev)})
}

// eventType returns the contract's constant for a known type (no copy).
func eventType(t string) string {
	switch t {
	case events.TypeOrderCreated:
		return events.TypeOrderCreated
	case events.TypeOrderUpdated:
		return events.TypeOrderUpdated
	}
	return strings.Clone(t)
}
