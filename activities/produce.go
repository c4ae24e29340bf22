package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	json "github.com/goccy/go-json"
	"go.temporal.io/sdk/activity"
	"golang.org/x/time/rate"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
)

// sendBatch is how many records one synchronous write carries at full speed.
const sendBatch = 1000

// source yields the chunk's events in order; io.EOF ends a replay.
type source interface {
	next(producedAt time.Time) (events.Event, error)
	// offset is where a later chunk resumes reading (the replay CSV's byte
	// offset after the last event; 0 for a stream, which needs none).
	offset() int64
	close()
}

type replaySource struct{ r *datagen.OrderReader }

func (s replaySource) next(now time.Time) (events.Event, error) {
	o, err := s.r.Next()
	if err != nil {
		return events.Event{}, err
	}
	return events.NewOrderCreated(o, events.SourceReplay, now), nil
}
func (s replaySource) offset() int64 { return s.r.Offset() }
func (s replaySource) close()        { s.r.Close() }

type streamSource struct {
	s datagen.Stream
	n int64
}

func (s *streamSource) next(now time.Time) (events.Event, error) {
	ev := s.s.Event(s.n, now)
	s.n++
	return ev, nil
}
func (s *streamSource) offset() int64 { return 0 }
func (s *streamSource) close()        {}

// ProduceChunk sends events [Position+done, Position+Count) of the replay CSV
// or the synthetic stream, within MaxDuration. It heartbeats the number of
// events the broker acknowledged; a retried attempt resumes after them, so at
// most the last unacknowledged write is resent, with the same event_ids.
func (a *Activities) ProduceChunk(ctx context.Context, p params.ProduceChunkParams) (params.ProduceChunkResult, error) {
	res := params.ProduceChunkResult{Topic: a.topic(p.Topic), Attempt: int(activity.GetInfo(ctx).Attempt)}
	// Resume after what an earlier attempt got acknowledged: event
	// Position+Sent, at the byte offset that attempt heartbeated.
	start, byteOffset := p.Position, p.ByteOffset
	if activity.HasHeartbeatDetails(ctx) {
		var hb chunkHeartbeat
		if err := activity.GetHeartbeatDetails(ctx, &hb); err != nil {
			return res, fmt.Errorf("read heartbeat: %w", err)
		}
		res.Sent = hb.Sent
		start, byteOffset = p.Position+int64(hb.Sent), hb.ByteOffset
	}
	// Opening may regenerate the data set on this host: keep the attempt alive
	// meanwhile, repeating the progress a retry resumes from.
	stop := heartbeatEvery(ctx, 2*time.Second, chunkHeartbeat{Sent: res.Sent, ByteOffset: byteOffset})
	src, err := a.openSource(ctx, p, start, byteOffset, &res)
	stop()
	if errors.Is(err, io.EOF) {
		res.EOF = true
		return res, nil
	}
	if err != nil {
		return res, classify(err)
	}
	defer src.close()

	batch := sendBatch
	var limiter *rate.Limiter
	if p.Rate > 0 {
		// Small writes at low rates keep the stream smooth; the bucket's burst is one write.
		batch = max(1, min(sendBatch, int(p.Rate/20)))
		limiter = rate.NewLimiter(rate.Limit(p.Rate), batch)
	}
	var deadline time.Time
	if p.MaxDuration > 0 {
		deadline = time.Now().Add(p.MaxDuration.D())
	}
	prod := a.Kafka.NewProducer(res.Topic)
	defer prod.Close()
	msgs := make([]kafka.Message, 0, batch)
	for res.Sent < p.Count && !res.EOF {
		if !deadline.IsZero() && time.Now().After(deadline) {
			break
		}
		n := min(batch, p.Count-res.Sent)
		if limiter != nil {
			if err := limiter.WaitN(ctx, n); err != nil {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				return res, fmt.Errorf("rate limiter: %w", err)
			}
		}
		msgs = msgs[:0]
		now := time.Now()
		for len(msgs) < n {
			ev, err := src.next(now)
			if errors.Is(err, io.EOF) {
				res.EOF = true
				break
			}
			if err != nil {
				return res, classify(err)
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
		if err := prod.Send(ctx, msgs); err != nil {
			return res, err
		}
		res.Sent += len(msgs)
		a.Metrics.Produced.Add(float64(len(msgs)))
		res.NextByteOffset = src.offset()
		activity.RecordHeartbeat(ctx, chunkHeartbeat{Sent: res.Sent, ByteOffset: res.NextByteOffset})
	}
	res.NextByteOffset = src.offset()
	return res, nil
}

// chunkHeartbeat is a producer's recorded progress: events acknowledged in
// this chunk and, for a replay, the CSV byte offset after them.
type chunkHeartbeat struct {
	Sent       int   `json:"sent"`
	ByteOffset int64 `json:"byte_offset,omitempty"`
}

// openSource opens the replay CSV or the stream at event `start`; a replay
// seeks to byteOffset when it is known (the offset of row start), else skips
// rows. io.EOF means the CSV ends before start. The files come from the run's
// data set, regenerated on this host if needed, or from a CSV the user
// supplied on a path every worker shares, pinned to the first chunk's content.
func (a *Activities) openSource(ctx context.Context, p params.ProduceChunkParams, start, byteOffset int64, res *params.ProduceChunkResult) (source, error) {
	ds := p.Dataset
	dataset := func(field string) (params.Dataset, error) {
		if ds != nil {
			return *ds, nil
		}
		cur, err := a.currentDataset(ctx, field)
		if err != nil {
			return cur, err
		}
		ds, res.Dataset = &cur, &cur
		return cur, nil
	}
	// source is the file the mode reads: the user's CSV (checked and pinned)
	// or the data set's, on this host.
	source := func(field, userPath string, pick func(datagen.Files) string) (string, error) {
		if userPath != "" {
			sum, err := a.userCSV(field, userPath, p.SourceSHA256)
			res.SourceSHA256 = sum
			return userPath, err
		}
		d, err := dataset("dataset")
		if err != nil {
			return "", err
		}
		files, err := a.datasetFiles(ctx, d)
		return pick(files), err
	}
	if p.Mode != params.ModeStream {
		path, err := source("orders_csv", p.OrdersCSV, func(f datagen.Files) string { return f.Orders })
		if err != nil {
			return nil, err
		}
		r, err := datagen.OpenOrdersAt(path, byteOffset, int(start))
		if err != nil {
			return nil, err
		}
		if byteOffset == 0 {
			if err := r.Skip(int(start)); err != nil {
				r.Close()
				return nil, err
			}
		}
		return replaySource{r: r}, nil
	}
	path, err := source("inventory_csv", p.InventoryCSV, func(f datagen.Files) string { return f.Inventory })
	if err != nil {
		return nil, err
	}
	prices, err := datagen.ReadPrices(path)
	if err != nil {
		return nil, err
	}
	if p.Customers == 0 || p.FirstOrderID == 0 {
		d, err := dataset("customers")
		if err != nil {
			return nil, err
		}
		if p.Customers == 0 {
			p.Customers = d.Customers
		}
		if p.FirstOrderID == 0 {
			p.FirstOrderID = int64(d.Orders) + 1
		}
	}
	streamStart, err := time.Parse(time.RFC3339Nano, p.StreamStart)
	if err != nil {
		return nil, &params.InvalidInputError{Field: "stream_start", Reason: err.Error()}
	}
	res.Customers, res.FirstOrderID = p.Customers, p.FirstOrderID
	return &streamSource{n: start, s: datagen.Stream{Seed: p.Seed, FirstOrderID: p.FirstOrderID, Customers: p.Customers, Prices: prices, Start: streamStart, Spacing: p.Spacing.D()}}, nil
}
