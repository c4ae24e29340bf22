// Package warehouse is Dropflow's storage contract: small interfaces with
// the pipeline's semantics (exactly-once batch loads, idempotent merge,
// schema migrations), the types they exchange and what every dialect shares
// (migrations, query tags, error kinds). The adapters are its subpackages
// duckdb and snowflake; this package links neither driver, and imports
// nothing above it.
package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Dialects.
const (
	DialectDuckDB    = "duckdb"
	DialectSnowflake = "snowflake"
)

// Event is one decoded Kafka record bound for RAW.orders_events.
type Event struct {
	EventID    string
	EventType  string
	Payload    []byte // the whole event JSON
	Offset     int64
	ProducedAt time.Time
	// ContentHash fingerprints the content (events.ContentHash): a resend
	// has the same, a conflicting event with the same id another.
	ContentHash string
}

// Reject is one Kafka record bound for RAW.orders_events_rejected.
type Reject struct {
	Offset int64
	Key    []byte
	Value  []byte
	Reason string
	Error  string
	// Conflict is the event already loaded under the same event_id, for
	// reason event_id_conflict.
	Conflict *Conflict
}

// Conflict locates the event a rejected one conflicts with.
type Conflict struct {
	Partition int
	Offset    int64
	Value     []byte
}

// Batch is what a loader writes in one transaction: the events and rejects of
// the offsets [FromOffset, NextOffset) of one partition.
type Batch struct {
	Topic      string
	Partition  int
	FromOffset int64
	NextOffset int64
	Events     []Event
	Rejects    []Reject
}

// LoadResult reports one batch.
type LoadResult struct {
	Inserted   int64
	Duplicates int64 // events whose event_id was already in RAW with the same content
	Rejected   int64 // rejects of the batch, conflicts included
	// Conflicts are events whose event_id was already in RAW (or earlier in
	// the batch) with other content: stored as rejects, reason event_id_conflict.
	Conflicts int64
}

// ErrFenced means the stored offset moved since this loader read it: another
// loader owns the partition. The batch was rolled back.
var ErrFenced = errors.New("warehouse: partition offset moved under this loader (another loader owns it); batch rolled back")

// The warehouse's capabilities, each a small interface with its consumer in
// mind; an adapter (DuckDB, Snowflake) implements them all as Warehouse.

// Reader runs the read-only SQL of validation and the dashboard.
type Reader interface {
	Dialect() string
	// DialectQuery returns the dialect's text of a named read whose SQL
	// differs between dialects (Query* constants).
	DialectQuery(name string) (string, bool)
	// Query and QueryRow run read-only SQL.
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// OffsetStore keeps each partition's next offset: where a loader resumes.
type OffsetStore interface {
	// Offset returns the stored next offset of a partition; ok is false when
	// the partition was never loaded.
	Offset(ctx context.Context, topic string, partition int) (next int64, ok bool, err error)
	// InitOffset stores next for a partition that has no stored offset yet and
	// returns the stored value (which wins if another loader got there first).
	InitOffset(ctx context.Context, topic string, partition int, next int64) (int64, error)
	// ResetOffset moves a partition's stored offset from `from` to `to`
	// (fenced like LoadBatch), for an explicit offset reset policy.
	ResetOffset(ctx context.Context, topic string, partition int, from, to int64) error
}

// BatchWriter lands batches in RAW exactly once.
type BatchWriter interface {
	// LoadBatch writes the batch's events (skipping event_ids already in RAW
	// with the same content, rejecting as event_id_conflict those with other
	// content), its rejects, and advances the partition's offset from b.FromOffset to
	// b.NextOffset, all in one transaction. ErrFenced if the stored offset is
	// not b.FromOffset.
	LoadBatch(ctx context.Context, b Batch) (LoadResult, error)
}

// Merger moves RAW's new events into PROD.orders.
type Merger interface {
	// MergeOrders merges the RAW events not merged yet into PROD.orders.
	MergeOrders(ctx context.Context) (MergeResult, error)
	// HasUnmerged reports whether RAW holds events MergeOrders has not merged
	// yet: a cheap read the merger polls, which records nothing.
	HasUnmerged(ctx context.Context) (bool, error)
}

// ReferenceLoader upserts PROD's reference tables from the seed CSVs.
type ReferenceLoader interface {
	LoadCustomers(ctx context.Context, csvPath string) (int64, error)
	LoadInventory(ctx context.Context, csvPath string) (int64, error)
}

// OpsRecorder keeps the pipeline's own records in OPS.
type OpsRecorder interface {
	// RecordDataset stores a seeded data set's document (JSON, under the data
	// set's key) as the current one; CurrentDataset returns the document
	// recorded last (ok false if none).
	RecordDataset(ctx context.Context, key string, doc []byte) error
	CurrentDataset(ctx context.Context) (doc []byte, ok bool, err error)
	// RecordValidation stores a validation run in OPS.validation_runs.
	RecordValidation(ctx context.Context, r ValidationRun) error
	// RecordPipelineRun stores a finished pipeline in OPS.pipeline_runs.
	RecordPipelineRun(ctx context.Context, workflowID, runID, status string, result []byte) error
}

// Warehouse is every capability, what the activities hold: one adapter per
// dialect implements it.
type Warehouse interface {
	Reader
	OffsetStore
	BatchWriter
	Merger
	ReferenceLoader
	OpsRecorder
	// Migrate applies the embedded migrations not yet applied, or with dryRun
	// only returns their SQL.
	Migrate(ctx context.Context, dryRun bool) (MigrateResult, error)
	Ping(ctx context.Context) error
	Close() error
}

// Identity says which warehouse an adapter serves: Key compares two workers'
// warehouses, Where names it for people.
type Identity struct {
	Key   string
	Where string
}

// Reads whose SQL differs between dialects (Warehouse.DialectQuery).
const (
	QueryDashboardDaily          = "dashboard_daily"
	QueryDashboardLastValidation = "dashboard_last_validation"
)

// CountInt runs a query that returns one integer.
func CountInt(ctx context.Context, w Reader, query string, args ...any) (int64, error) {
	var n sql.NullInt64
	if err := w.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("warehouse: %s: %w", query, err)
	}
	return n.Int64, nil
}

// Document returns a stored document a single-row read scanned into body:
// ok is false when there was no row.
func Document(body string, err error, what string) ([]byte, bool, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("warehouse: %s: %w", what, err)
	}
	return []byte(body), true, nil
}

// Layers counts the rows of each warehouse layer.
func Layers(ctx context.Context, w Reader) (LayerCounts, error) {
	var c LayerCounts
	dst := []*int64{&c.RawEvents, &c.RawRejected, &c.ProdOrders, &c.ProdCustomers, &c.ProdInventory}
	for i, l := range layerQueries {
		n, err := CountInt(ctx, w, l.q)
		if err != nil {
			return c, fmt.Errorf("warehouse: layer counts: %w", err)
		}
		*dst[i] = n
	}
	return c, nil
}

// layerQueries count the layers, in LayerCounts' field order.
var layerQueries = []struct{ name, q string }{
	{"raw_events", "SELECT count(*) FROM raw.orders_events"},
	{"raw_rejected", "SELECT count(*) FROM raw.orders_events_rejected"},
	{"prod_orders", "SELECT count(*) FROM prod.orders"},
	{"prod_customers", "SELECT count(*) FROM prod.customers"},
	{"prod_inventory", "SELECT count(*) FROM prod.inventory"},
}

// IsSchemaMissing reports whether err says a schema object does not exist:
// the schema was never deployed (or was dropped), which no retry can fix.
func IsSchemaMissing(err error) bool {
	if err == nil {
		return false
	}
	var qe *QueryError
	if errors.As(err, &qe) {
		return qe.Kind == KindObjectMissing
	}
	s := err.Error()
	return strings.Contains(s, "Catalog Error:") && strings.Contains(s, "does not exist")
}
