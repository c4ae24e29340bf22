package params

import (
	"time"
)

// Produce modes.
const (
	ModeReplay = "replay"
	ModeStream = "stream"
)

// ProduceChunkTime bounds one produce activity in time, so that pause, resume
// and rate changes take effect within it.
const ProduceChunkTime = 5 * time.Second

// ProduceOrdersInput is the input of ProduceOrders.
type ProduceOrdersInput struct {
	// Mode: "replay" sends orders.csv as order_created events; "stream" sends
	// synthetic orders for the seeded customers and products, plus
	// order_updated events for orders already sent. Default "replay".
	Mode string `json:"mode,omitempty"`
	// Dataset to replay (or to take stream mode's products, prices and
	// customers from); each worker regenerates and checks its files. Default:
	// the data set SeedData last recorded in the warehouse.
	Dataset *Dataset `json:"dataset,omitempty"`
	// OrdersCSV is a CSV you supply, replayed instead of a data set. It must
	// be at this path on every worker (a shared mount): a worker without it
	// fails naming its host and the path, and every chunk checks the file's
	// SHA-256 against the first chunk's. Default: none (use Dataset).
	OrdersCSV string `json:"orders_csv,omitempty"`
	// InventoryCSV gives stream mode its products and prices instead of a
	// data set's, on the same terms as OrdersCSV. Default: none.
	InventoryCSV string `json:"inventory_csv,omitempty"`
	// Customers of stream mode (ids 1..N). Default: the data set's count.
	Customers int `json:"customers,omitempty"`
	// FirstOrderID of stream mode. Default: the data set's orders + 1.
	FirstOrderID int64 `json:"first_order_id,omitempty"`
	// Seed of stream mode's synthetic orders. Default 42.
	Seed int64 `json:"seed,omitempty"`
	// Topic to produce to. Default: the worker's KAFKA_TOPIC.
	Topic string `json:"topic,omitempty"`
	// Rate in events per second; 0 means unlimited. Default 0. The set_rate
	// update changes it while running.
	Rate float64 `json:"rate,omitempty"`
	// Limit stops after this many events; 0 means the whole file (replay) or
	// no limit (stream). Default 0.
	Limit int `json:"limit,omitempty"`
	// Duration stops after this long; 0 means no limit. Default 0.
	Duration Duration `json:"duration,omitempty"`
	// ChunkSize is the most events per activity (each heartbeats and resumes; each is
	// also bounded by ProduceChunkTime). Default 50000.
	ChunkSize int `json:"chunk_size,omitempty"`
	// State carried over ContinueAsNew; not for users.
	Carry *ProduceProgress `json:"carry,omitempty"`
}

// WithDefaults fills zero fields and validates the rest.
func (in ProduceOrdersInput) WithDefaults() (ProduceOrdersInput, error) {
	if in.Mode == "" {
		in.Mode = ModeReplay
	}
	if in.Mode != ModeReplay && in.Mode != ModeStream {
		return in, invalid("mode", "unknown mode %q (want %q or %q)", in.Mode, ModeReplay, ModeStream)
	}
	if err := ValidRate(in.Rate); err != nil {
		return in, err
	}
	if in.Limit < 0 {
		return in, invalid("limit", "must be >= 0 (0 = no limit), got %d", in.Limit)
	}
	if in.Duration < 0 {
		return in, invalid("duration", "must be >= 0 (0 = no limit), got %s", in.Duration.D())
	}
	if in.ChunkSize < 0 {
		return in, invalid("chunk_size", "must be >= 1, got %d", in.ChunkSize)
	}
	if in.Customers < 0 {
		return in, invalid("customers", "must be >= 1, got %d", in.Customers)
	}
	if in.FirstOrderID < 0 {
		return in, invalid("first_order_id", "must be >= 1, got %d", in.FirstOrderID)
	}
	if in.ChunkSize == 0 {
		in.ChunkSize = DefaultProduceChunk
	}
	if in.Seed == 0 {
		in.Seed = DefaultSeed
	}
	return in, nil
}

// ValidRate refuses negative rates: the one rule set_rate enforces too.
func ValidRate(r float64) error {
	if r < 0 || r != r {
		return invalid("rate", "must be >= 0 events/s (0 = unlimited), got %g", r)
	}
	return nil
}

// ProduceChunkParams is the input of the ProduceChunk activity: events
// [Position, Position+Count) of the source (CSV data row or stream index),
// sent in at most MaxDuration.
type ProduceChunkParams struct {
	Mode string `json:"mode"`
	// Dataset whose files this chunk reads (regenerated here when missing).
	Dataset *Dataset `json:"dataset,omitempty"`
	// SourceSHA256 pins a user-supplied CSV (OrdersCSV, or InventoryCSV in
	// stream mode) to the content the first chunk read; empty on the first.
	SourceSHA256 string   `json:"source_sha256,omitempty"`
	OrdersCSV    string   `json:"orders_csv,omitempty"`
	InventoryCSV string   `json:"inventory_csv,omitempty"`
	Customers    int      `json:"customers,omitempty"`
	FirstOrderID int64    `json:"first_order_id,omitempty"`
	Seed         int64    `json:"seed,omitempty"`
	StreamStart  string   `json:"stream_start,omitempty"`
	Spacing      Duration `json:"spacing,omitempty"`
	Topic        string   `json:"topic"`
	Position     int64    `json:"position"`
	// ByteOffset of row Position in the replay CSV (0 = unknown: skip rows).
	ByteOffset  int64    `json:"byte_offset,omitempty"`
	Count       int      `json:"count"`
	Rate        float64  `json:"rate"`
	MaxDuration Duration `json:"max_duration,omitempty"`
}

// ProduceChunkResult reports one chunk.
type ProduceChunkResult struct {
	Topic string `json:"topic"`
	Sent  int    `json:"sent"`
	// EOF is true when the CSV ended inside this chunk.
	EOF bool `json:"eof"`
	// Attempt is the activity attempt that finished the chunk (1 = no retry).
	Attempt int `json:"attempt"`
	// NextByteOffset is the replay CSV's byte offset after the chunk.
	NextByteOffset int64 `json:"next_byte_offset,omitempty"`
	// Resolved stream parameters, so later chunks and ContinueAsNew reuse them.
	Customers    int   `json:"customers,omitempty"`
	FirstOrderID int64 `json:"first_order_id,omitempty"`
	// Dataset the chunk read, when it resolved the warehouse's current one.
	Dataset *Dataset `json:"dataset,omitempty"`
	// SourceSHA256 of the user-supplied CSV the chunk read.
	SourceSHA256 string `json:"source_sha256,omitempty"`
}

// ProduceOrdersResult totals a ProduceOrders run.
type ProduceOrdersResult struct {
	Topic    string `json:"topic"`
	Mode     string `json:"mode"`
	Sent     int    `json:"sent"`
	Chunks   int    `json:"chunks"`
	Position int64  `json:"position"`
}

// ProduceProgress is returned by the progress query and carried over ContinueAsNew.
type ProduceProgress struct {
	Sent       int     `json:"sent"`
	Position   int64   `json:"position"`
	ByteOffset int64   `json:"byte_offset,omitempty"`
	Rate       float64 `json:"rate"`
	Paused     bool    `json:"paused"`
	Done       bool    `json:"done"`
	// Errors counts chunk attempts that failed and were retried.
	Errors       int      `json:"errors"`
	Chunks       int      `json:"chunks"`
	Topic        string   `json:"topic,omitempty"`
	StartedAt    string   `json:"started_at,omitempty"`
	Deadline     string   `json:"deadline,omitempty"`
	Customers    int      `json:"customers,omitempty"`
	FirstOrderID int64    `json:"first_order_id,omitempty"`
	Spacing      Duration `json:"spacing,omitempty"`
	// Dataset and SourceSHA256 pin what every later chunk reads.
	Dataset      *Dataset `json:"dataset,omitempty"`
	SourceSHA256 string   `json:"source_sha256,omitempty"`
}
