package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/time/rate"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
)

// sendBatch is how many records one synchronous write carries at full speed.
const sendBatch = 500

// defaultOrdersCSV is where SeedData writes orders.csv under DATA_DIR.
func (a *Activities) defaultOrdersCSV() string {
	return filepath.Join(a.Settings.DataDir, "seed", datagen.OrdersFile)
}

// ProduceChunk replays rows [StartLine, StartLine+Count) of orders.csv as
// order_created events. It heartbeats the number of rows acknowledged by the
// broker and, when retried, resumes after them: at most the last
// unacknowledged write is resent, with the same event_ids.
func (a *Activities) ProduceChunk(ctx context.Context, p params.ProduceChunkParams) (params.ProduceChunkResult, error) {
	var res params.ProduceChunkResult
	if p.OrdersCSV == "" {
		p.OrdersCSV = a.defaultOrdersCSV()
	}
	topic := a.topic(p.Topic)
	res.Topic = topic
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &res.Sent); err != nil {
			return res, fmt.Errorf("read heartbeat: %w", err)
		}
	}
	r, err := datagen.OpenOrders(p.OrdersCSV)
	if err != nil {
		return res, classify(err)
	}
	defer r.Close()
	if err := r.Skip(p.StartLine + res.Sent); errors.Is(err, io.EOF) {
		res.EOF = true
		return res, nil
	} else if err != nil {
		return res, classify(err)
	}
	batch := sendBatch
	var limiter *rate.Limiter
	if p.Rate > 0 {
		// Small writes at low rates keep the stream smooth; the bucket's burst is one write.
		batch = max(1, min(sendBatch, int(p.Rate/10)))
		limiter = rate.NewLimiter(rate.Limit(p.Rate), batch)
	}
	prod := a.Kafka.NewProducer(topic)
	defer prod.Close()
	msgs := make([]kafka.Message, 0, batch)
	for res.Sent < p.Count && !res.EOF {
		msgs = msgs[:0]
		now := time.Now()
		for len(msgs) < batch && res.Sent+len(msgs) < p.Count {
			o, err := r.Next()
			if errors.Is(err, io.EOF) {
				res.EOF = true
				break
			}
			if err != nil {
				return res, classify(err)
			}
			ev := events.NewOrderCreated(o, events.SourceReplay, now)
			v, err := json.Marshal(ev)
			if err != nil {
				return res, fmt.Errorf("encode event of order %d: %w", o.OrderID, err)
			}
			msgs = append(msgs, kafka.Message{Key: ev.Key(), Value: v})
		}
		if len(msgs) == 0 {
			break
		}
		if limiter != nil {
			if err := limiter.WaitN(ctx, len(msgs)); err != nil {
				return res, fmt.Errorf("rate limiter: %w", err)
			}
		}
		if err := prod.Send(ctx, msgs); err != nil {
			return res, err
		}
		res.Sent += len(msgs)
		activity.RecordHeartbeat(ctx, res.Sent)
	}
	return res, nil
}
