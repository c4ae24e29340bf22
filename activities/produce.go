package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/produce"
)

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
	defer src.Close()

	cfg := produce.Config{Count: p.Count, Sent: res.Sent, Rate: p.Rate}
	if p.MaxDuration > 0 {
		cfg.Deadline = time.Now().Add(p.MaxDuration.D())
	}
	prod := a.Kafka.NewProducer(res.Topic)
	defer prod.Close()
	run, err := produce.Run(ctx, cfg, src, prod, func(sent, batch int, next int64) {
		a.Metrics.Produced.Add(float64(batch))
		activity.RecordHeartbeat(ctx, chunkHeartbeat{Sent: sent, ByteOffset: next})
	})
	res.Sent, res.EOF, res.NextByteOffset = run.Sent, run.EOF, run.NextByteOffset
	if se := (*produce.SourceError)(nil); errors.As(err, &se) {
		return res, classify(se.Err)
	}
	return res, err
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
func (a *Activities) openSource(ctx context.Context, p params.ProduceChunkParams, start, byteOffset int64, res *params.ProduceChunkResult) (produce.Source, error) {
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
		return produce.Replay{R: r}, nil
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
	return &produce.Stream{N: start, S: datagen.Stream{Seed: p.Seed, FirstOrderID: p.FirstOrderID, Customers: p.Customers, Prices: prices, Start: streamStart, Spacing: p.Spacing.D()}}, nil
}
