// Package params holds the input and result types of Dropflow's workflows and
// activities. JSON field names are snake_case and public API; every input field
// is optional and its zero value means the documented default, applied by
// WithDefaults so that workflows and starter agree on it.
package params

import (
	"fmt"
	"time"
)

// Defaults of the data generator (the original design's volumes).
const (
	DefaultSeed      int64 = 42
	DefaultCustomers int   = 1000
	DefaultProducts  int   = 200
	DefaultOrders    int   = 5000
)

// InvalidInputError names the input field that is wrong. Workflows turn it into
// a non-retryable application error of type "InvalidInput".
type InvalidInputError struct {
	Field  string
	Reason string
}

func (e *InvalidInputError) Error() string {
	return fmt.Sprintf("invalid input: %s: %s", e.Field, e.Reason)
}

func invalid(field, format string, args ...any) error {
	return &InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("5s", "250ms"), so that CLI users can type it.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON accepts a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		v, err := time.ParseDuration(s[1 : len(s)-1])
		if err != nil {
			return fmt.Errorf("duration %s: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"5s\"", s)
	}
	*d = Duration(n)
	return nil
}

// D returns the standard library duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ---------------------------------------------------------------- DeploySchema

// DeploySchemaInput is the input of DeploySchema.
type DeploySchemaInput struct {
	// DryRun prints the SQL that would run and changes nothing. Default false.
	DryRun bool `json:"dry_run,omitempty"`
}

// DeploySchemaResult lists what the deploy did.
type DeploySchemaResult struct {
	Applied []string `json:"applied"`
	Already []string `json:"already_applied"`
	// SQL is the script that would run (dry run) or that ran.
	SQL string `json:"sql,omitempty"`
}

// -------------------------------------------------------------------- SeedData

// SeedDataInput is the input of SeedData.
type SeedDataInput struct {
	// Seed of the generator; the same seed and counts give byte-identical CSVs. Default 42.
	Seed int64 `json:"seed,omitempty"`
	// Customers to generate. Default 1000.
	Customers int `json:"customers,omitempty"`
	// Products to generate. Default 200.
	Products int `json:"products,omitempty"`
	// Orders to generate. Default 5000.
	Orders int `json:"orders,omitempty"`
	// OutputDir for the CSVs. Default: the worker's DATA_DIR + "/seed".
	OutputDir string `json:"output_dir,omitempty"`
	// AsOf anchors every generated timestamp (RFC 3339); orders fall in the 90
	// days before it. Default: midnight UTC of the workflow's start day.
	AsOf string `json:"as_of,omitempty"`
	// Regenerate overwrites CSVs generated earlier with the same seed and counts.
	// Default false: they are reused, so a rerun is idempotent.
	Regenerate bool `json:"regenerate,omitempty"`
	// SkipProdLoad leaves PROD.customers and PROD.inventory untouched. Default false.
	SkipProdLoad bool `json:"skip_prod_load,omitempty"`
}

// WithDefaults fills zero fields and validates the rest.
func (in SeedDataInput) WithDefaults() (SeedDataInput, error) {
	if in.Seed == 0 {
		in.Seed = DefaultSeed
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"customers", &in.Customers, DefaultCustomers}, {"products", &in.Products, DefaultProducts}, {"orders", &in.Orders, DefaultOrders}} {
		if *f.v < 0 {
			return in, invalid(f.name, "must be >= 1, got %d", *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if in.AsOf != "" {
		if _, err := time.Parse(time.RFC3339, in.AsOf); err != nil {
			return in, invalid("as_of", "want RFC 3339 such as 2026-01-31T00:00:00Z, got %q", in.AsOf)
		}
	}
	return in, nil
}

// Dataset identifies a generated data set by what it is, not where it lies:
// the generator's inputs and version, and each CSV's SHA-256. Any worker
// regenerates the files from it byte-identically and checks them against the
// checksums, so no activity depends on another host's disk.
type Dataset struct {
	Seed      int64  `json:"seed"`
	Customers int    `json:"customers"`
	Products  int    `json:"products"`
	Orders    int    `json:"orders"`
	AsOf      string `json:"as_of"`
	Generator int    `json:"generator"`
	// Hex SHA-256 of customers.csv, inventory.csv and orders.csv.
	CustomersSHA256 string `json:"customers_sha256"`
	InventorySHA256 string `json:"inventory_sha256"`
	OrdersSHA256    string `json:"orders_sha256"`
}

// SeedDataResult describes the generated files.
type SeedDataResult struct {
	// Dataset is what later steps use, on any worker.
	Dataset Dataset `json:"dataset"`
	// Host is the worker that wrote Dir; Dir and the paths are for people
	// (that host's copy), never how another activity finds the data.
	Host          string `json:"host"`
	Dir           string `json:"dir"`
	CustomersCSV  string `json:"customers_csv"`
	InventoryCSV  string `json:"inventory_csv"`
	OrdersCSV     string `json:"orders_csv"`
	Customers     int    `json:"customers"`
	Products      int    `json:"products"`
	Orders        int    `json:"orders"`
	AsOf          string `json:"as_of"`
	Reused        bool   `json:"reused"`
	ProdCustomers int64  `json:"prod_customers"`
	ProdInventory int64  `json:"prod_inventory"`
}

// --------------------------------------------------------------- ProduceOrders

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
		// Large enough that the ~0.1 s activity round trip is small next to
		// the chunk, small enough that a crash resends little.
		in.ChunkSize = 50000
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

// ---------------------------------------------------------------- IngestOrders

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
		in.BatchRecords = 5000
	}
	if in.BatchBytes < 0 {
		return in, invalid("batch_bytes", "must be >= 1, got %d", in.BatchBytes)
	}
	if in.BatchBytes == 0 {
		in.BatchBytes = 4 << 20
	}
	if in.BatchWait < 0 {
		return in, invalid("batch_wait", "must be > 0, got %s", in.BatchWait.D())
	}
	if in.BatchWait == 0 {
		in.BatchWait = Duration(time.Second)
	}
	if in.BatchWait.D() > time.Minute {
		return in, invalid("batch_wait", "must be <= 1m (the loader heartbeats between batches), got %s", in.BatchWait.D())
	}
	if in.FollowChunk < 0 {
		return in, invalid("follow_chunk", "must be > 0, got %s", in.FollowChunk.D())
	}
	if in.FollowChunk == 0 {
		in.FollowChunk = Duration(10 * time.Minute)
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

// ----------------------------------------------------------------- MergeOrders

// MergeOrdersInput is the input of MergeOrders.
type MergeOrdersInput struct {
	// Nudged marks the run ingest starts with signal-with-start: nudges that
	// arrive while it merges coalesce into one more merge. Default false.
	Nudged bool `json:"nudged,omitempty"`
}

// MergeOrdersResult reports one merge.
type MergeOrdersResult struct {
	// SourceEvents is the number of new RAW events the merge read.
	SourceEvents int64 `json:"source_events"`
	Inserted     int64 `json:"inserted"`
	Updated      int64 `json:"updated"`
	// Unchanged counts deduplicated orders whose PROD row was already as new.
	Unchanged int64 `json:"unchanged"`
	// NothingNew is true when the merge skipped because RAW had no new events.
	NothingNew bool `json:"nothing_new"`
	// DelegatedToTask is true when SNOW_MERGE_DRIVER=task: Snowflake's native
	// task prod.ingest_orders_task merges, and MergeOrders leaves the stream to it.
	DelegatedToTask bool `json:"delegated_to_task,omitempty"`
	// Merges is how many merge transactions the result folds in (a nudged run
	// merges again for nudges received meanwhile; a large backlog merges in windows).
	Merges int `json:"merges,omitempty"`
	// LagSample holds produced_at → merged seconds of up to 1000 merged
	// events, for the freshness metric; never sent through Temporal.
	LagSample []float64 `json:"-"`
}

// Add folds another merge result (one merge, or several folded already) into the totals.
func (r *MergeOrdersResult) Add(o MergeOrdersResult) {
	r.SourceEvents += o.SourceEvents
	r.Inserted += o.Inserted
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
	// Nothing new only if every merge folded in found nothing.
	r.NothingNew = (r.Merges == 0 || r.NothingNew) && o.NothingNew
	r.DelegatedToTask = r.DelegatedToTask || o.DelegatedToTask
	r.Merges += max(1, o.Merges)
}

// Merger bounds: the nudged MergeOrders run (the merger) runs one
// MergeUntilIdle activity at a time and continues as new before its history
// passes MergerHistoryBound events.
const (
	// MergerPoll is how often the merger asks the warehouse whether RAW has
	// events not merged yet (a commit on the merger's own host wakes it at once).
	MergerPoll = 500 * time.Millisecond
	// MergerRest is how many times a merge's own duration the merger rests
	// after it while loaders on its host are behind (a backlog): merging at
	// most a fifth of the time, since merges then grow and, on DuckDB, share
	// the cores with ingest. It stops resting as soon as they catch up; in a
	// steady stream it does not rest.
	MergerRest = 4
	// MergerIdle ends the merger after this long without new RAW events; the
	// next nudge starts it again.
	MergerIdle = time.Minute
	// MergerMaxRun bounds one MergeUntilIdle activity; the merger then
	// continues as new.
	MergerMaxRun = 10 * time.Minute
	// MergerHistoryBound: at or above this many history events (nudges
	// while it runs), the merger continues as new.
	MergerHistoryBound = 500
	// NudgeInterval is the least time between two nudges from one worker
	// process: a running merger needs no nudge, one is only to start it.
	NudgeInterval = 10 * time.Second
)

// MergeUntilIdleInput is the input of the merger's activity; zero fields take
// the Merger* defaults.
type MergeUntilIdleInput struct {
	Poll   Duration `json:"poll,omitempty"`
	Idle   Duration `json:"idle,omitempty"`
	MaxRun Duration `json:"max_run,omitempty"`
}

// MergeUntilIdleResult folds the merges of one MergeUntilIdle activity.
type MergeUntilIdleResult struct {
	MergeOrdersResult
	// Idle is true when it ended for lack of new events (not at MaxRun).
	Idle bool `json:"idle"`
}

// ------------------------------------------------------------ ValidatePipeline

// Validation statuses.
const (
	StatusPass = "PASS"
	StatusWarn = "WARN"
	StatusFail = "FAIL"
)

// ValidatePipelineInput is the input of ValidatePipeline.
type ValidatePipelineInput struct {
	// ReportsDir receives the JSON report. Default: the worker's REPORTS_DIR ("reports").
	ReportsDir string `json:"reports_dir,omitempty"`
	// AllowFail returns a FAIL report as a result instead of failing the workflow. Default false.
	AllowFail bool `json:"allow_fail,omitempty"`
	// LagThreshold (records per partition) above which the Kafka lag check warns. Default 10000.
	LagThreshold int64 `json:"lag_threshold,omitempty"`
	// ConflictThreshold: more events rejected as event_id_conflict than this
	// fail the validation (any warns). Default 100.
	ConflictThreshold int64 `json:"conflict_threshold,omitempty"`
}

// Check is one validation check.
type Check struct {
	Name    string           `json:"name"`
	Status  string           `json:"status"`
	Message string           `json:"message"`
	Figures map[string]int64 `json:"figures,omitempty"`
	Query   string           `json:"query"`
}

// LayerCounts are the row counts of each warehouse layer.
type LayerCounts struct {
	RawEvents     int64 `json:"raw_events"`
	RawRejected   int64 `json:"raw_rejected"`
	ProdOrders    int64 `json:"prod_orders"`
	ProdCustomers int64 `json:"prod_customers"`
	ProdInventory int64 `json:"prod_inventory"`
}

// ValidationReport is the report written under reports/ and stored in OPS.validation_runs.
type ValidationReport struct {
	RunID      string      `json:"run_id"`
	Timestamp  string      `json:"timestamp"`
	Status     string      `json:"status"`
	Summary    Summary     `json:"summary"`
	Counts     LayerCounts `json:"counts"`
	Checks     []Check     `json:"checks"`
	ReportPath string      `json:"report_path"`
}

// Summary counts checks per status.
type Summary struct {
	Total int `json:"total"`
	Pass  int `json:"pass"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
}

// FailingChecks names the checks with status FAIL.
func (r ValidationReport) FailingChecks() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			out = append(out, c.Name)
		}
	}
	return out
}

// -------------------------------------------------------------------- Pipeline

// PipelineInput is the input of Pipeline; it runs every step once, in order.
type PipelineInput struct {
	Seed      int64   `json:"seed,omitempty"`
	Customers int     `json:"customers,omitempty"`
	Products  int     `json:"products,omitempty"`
	Orders    int     `json:"orders,omitempty"`
	AsOf      string  `json:"as_of,omitempty"`
	Rate      float64 `json:"rate,omitempty"`
	// BatchRecords of the ingest; default as in IngestOrdersInput.
	BatchRecords int `json:"batch_records,omitempty"`
}

// PipelineResult gathers the steps' results.
type PipelineResult struct {
	Schema     DeploySchemaResult  `json:"schema"`
	Seed       SeedDataResult      `json:"seed"`
	Produce    ProduceOrdersResult `json:"produce"`
	Ingest     IngestOrdersResult  `json:"ingest"`
	Merge      MergeOrdersResult   `json:"merge"`
	Validation ValidationReport    `json:"validation"`
}

// PipelineProgress is returned by the Pipeline's progress query.
type PipelineProgress struct {
	Stage string `json:"stage"`
}
