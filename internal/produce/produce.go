// Package produce is the producer's engine, without Temporal: it reads
// events from a source (the replay CSV or the synthetic stream), encodes
// them and writes them to Kafka in synchronous batches, at an optional rate
// and until a count, a deadline or the source's end.
//
// The activity (activities.ProduceChunk) opens the source at the position an
// earlier attempt heartbeated and calls Run with a hook that heartbeats each
// acknowledged batch, so a retry resends at most the last unacknowledged one.
package produce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	json "github.com/goccy/go-json"
	"golang.org/x/time/rate"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
)

// SendBatch is how many records one synchronous write carries at full speed.
const SendBatch = 1000

// Source yields events in order; io.EOF ends a replay.
type Source interface {
	Next(producedAt time.Time) (events.Event, error)
	// Offset is where a later run resumes reading (the replay CSV's byte
	// offset after the last event; 0 for a stream, which needs none).
	Offset() int64
	Close()
}

// Sender writes a batch and returns once the broker acknowledged all of it.
type Sender interface {
	Send(ctx context.Context, msgs []kafka.Message) error
}

// Config bounds one run.
type Config struct {
	// Count is how many events to send in all, Sent included.
	Count int
	// Sent is how many of them an earlier attempt already got acknowledged
	// (the source is opened after them).
	Sent int
	// Rate limits events per second; 0 sends as fast as the broker takes them.
	Rate float64
	// Deadline ends the run early (zero: none).
	Deadline time.Time
}

// SourceError is an error of the source (a bad CSV row): the caller
// classifies it; write errors are returned as they are, to be retried.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// Result sums a run.
type Result struct {
	Sent int
	// EOF says the source ended (a replay's last row was sent).
	EOF bool
	// NextByteOffset is the source's offset after the last sent event.
	NextByteOffset int64
}

// Run sends events from src until cfg.Count are acknowledged, the source
// ends, the deadline passes or ctx ends. acked runs after every
// acknowledged batch with the totals so far (heartbeats, metrics).
func Run(ctx context.Context, cfg Config, src Source, snd Sender, acked func(sent, batch int, nextByteOffset int64)) (Result, error) {
	res := Result{Sent: cfg.Sent}
	batch := SendBatch
	var limiter *rate.Limiter
	if cfg.Rate > 0 {
		// Small writes at low rates keep the stream smooth; the bucket's burst is one write.
		batch = max(1, min(SendBatch, int(cfg.Rate/20)))
		limiter = rate.NewLimiter(rate.Limit(cfg.Rate), batch)
	}
	msgs := make([]kafka.Message, 0, batch)
	for res.Sent < cfg.Count && !res.EOF {
		if !cfg.Deadline.IsZero() && time.Now().After(cfg.Deadline) {
			break
		}
		n := min(batch, cfg.Count-res.Sent)
		if limiter != nil {
			if err := limiter.WaitN(ctx, n); err != nil {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				if _, ok := ctx.Deadline(); ok {
					// The limiter refuses a wait that would pass the deadline
					// (before it has passed): the context ends here, not the limiter.
					return res, context.DeadlineExceeded
				}
				return res, fmt.Errorf("rate limiter: %w", err)
			}
		}
		msgs = msgs[:0]
		now := time.Now()
		for len(msgs) < n {
			ev, err := src.Next(now)
			if errors.Is(err, io.EOF) {
				res.EOF = true
				break
			}
			if err != nil {
				return res, &SourceError{Err: err}
			}
			v, err := json.Marshal(ev)
			if err != nil {
				return res, fmt.Errorf("encode event of order %d: %w", ev.Order.OrderID, err)
			}
			msgs = append(msgs, kafka.Message{Key: ev.Key(), Value: v})
		}
		if len(msgs) == 0 {
			break
		}
		if err := snd.Send(ctx, msgs); err != nil {
			return res, err
		}
		res.Sent += len(msgs)
		res.NextByteOffset = src.Offset()
		if acked != nil {
			acked(res.Sent, len(msgs), res.NextByteOffset)
		}
	}
	res.NextByteOffset = src.Offset()
	return res, nil
}

// Replay reads orders.csv as order_created events from Dropflow's replay.
type Replay struct{ R *datagen.OrderReader }

// Next returns the next row's event.
func (s Replay) Next(now time.Time) (events.Event, error) {
	o, err := s.R.Next()
	if err != nil {
		return events.Event{}, err
	}
	return events.NewOrderCreated(o, events.SourceReplay, now), nil
}

// Offset is the CSV byte offset after the last row read.
func (s Replay) Offset() int64 { return s.R.Offset() }

// Close closes the CSV.
func (s Replay) Close() { s.R.Close() }

// Stream is the synthetic stream from event N on: new orders and updates.
type Stream struct {
	S datagen.Stream
	N int64
}

// Next returns event N and moves on.
func (s *Stream) Next(now time.Time) (events.Event, error) {
	ev := s.S.Event(s.N, now)
	s.N++
	return ev, nil
}

// Offset is 0: a stream resumes by event number, not by bytes.
func (s *Stream) Offset() int64 { return 0 }

// Close does nothing.
func (s *Stream) Close() {}
