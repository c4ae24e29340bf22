// Package duckdb is the embedded warehouse adapter: one DuckDB file behind
// warehouse's interfaces, its statements named in sql.go and pinned by
// golden files.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	duckdbgo "github.com/duckdb/duckdb-go/v2"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// Warehouse is the embedded DuckDB warehouse: one file, schemas raw, staging, prod, ops.
// DuckDB allows one writing process per file, so the worker owns it and
// serves the dashboard from the same process.
type Warehouse struct {
	db   *sql.DB
	path string
	abs  string // path, absolute

	// seen is a Bloom filter of every event_id in RAW (and of some that a
	// rolled-back batch never committed: harmless). An id it does not hold is
	// certainly new, so most batches skip the RAW lookup; an id it holds is
	// checked exactly. Built from RAW on the first load.
	seenMu sync.Mutex
	seen   *bloom.BloomFilter

	window int64 // merge window per partition; mergeWindow unless a test shrinks it

	// ckpt lets a checkpoint run between transactions: withTx holds it
	// shared, maybeCheckpoint exclusively. DuckDB checkpoints by itself only
	// at a commit with no other transaction open, which three loaders and
	// the merger never leave during a backlog: the WAL then grew without
	// bound (158 MiB after 600,000 events), the uncheckpointed rows spilled
	// to temp_directory, and a restart would replay all of it.
	ckpt          sync.RWMutex
	checkpointing atomic.Bool
	checkpoints   atomic.Int64
	walLimit      int64 // walCheckpointBytes unless a test shrinks it

	// beforeCommit, set only by tests, runs inside LoadBatch's transaction
	// once the batch's rows are written, just before it commits.
	beforeCommit func(conn *sql.Conn) error
}

// bloomCapacity sizes the filter; past it the false-positive rate rises and
// more batches pay the exact lookup, never a wrong answer.
const bloomCapacity = 5_000_000

// duckCatalog is the name the warehouse file is attached under.
const duckCatalog = "dropflow"

// The warehouse file keeps DuckDB's default row groups (122,880 rows). A
// smaller ROW_GROUP_SIZE on ATTACH lowered the drain's peak memory by about
// 90 MiB, but with three loaders and the merger writing at once DuckDB 1.5.6
// lost track of RAW's row groups ("Could not find node in column segment
// tree", as in duckdb/duckdb#22109) and invalidated the database until a
// restart: the less-trodden path is not worth its memory.

// DefaultMemoryLimit caps DuckDB's buffer pool so that the worker
// stays small whatever the backlog (DuckDB spills to disk past it).
const DefaultMemoryLimit = "128MB"

// Options tune the embedded database.
type Options struct {
	// MemoryLimit is DuckDB's memory_limit, e.g. "192MB" (DUCKDB_MEMORY_LIMIT).
	MemoryLimit string
}

var memoryLimitRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

// Open opens (creating if needed) the DuckDB file at path with default options.
func Open(ctx context.Context, path string) (*Warehouse, error) {
	return OpenWithOptions(ctx, path, Options{})
}

// OpenWithOptions opens (creating if needed) the DuckDB file at path.
func OpenWithOptions(ctx context.Context, path string, o Options) (*Warehouse, error) {
	if o.MemoryLimit == "" {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if !memoryLimitRE.MatchString(o.MemoryLimit) {
		return nil, fmt.Errorf("warehouse: DUCKDB_MEMORY_LIMIT=%q: want a size such as 192MB or 1GB", o.MemoryLimit)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("warehouse: create directory for DUCKDB_PATH %s: %w", path, err)
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("warehouse: DUCKDB_PATH %s: %w", path, err)
	}
	// Instance settings go in the DSN, applied once when the instance
	// starts: set again on a later pooled connection, temp_directory is
	// refused once DuckDB has spilled to it.
	instance := url.Values{
		"memory_limit":   {o.MemoryLimit},
		"temp_directory": {abs + ".tmp"}, // where a file database spills by default
		// Hand freed memory back to the OS within a second instead of
		// keeping it in the allocator's caches (128 MB and 512 MB by default):
		// the worker's footprint is what the host sees, not what DuckDB tracks.
		"allocator_background_threads":                {"true"},
		"allocator_flush_threshold":                   {"8MB"},
		"allocator_bulk_deallocation_flush_threshold": {"8MB"},
	}
	// The file is attached to an in-memory instance under duckCatalog.
	session := []string{
		"SET TimeZone = 'UTC'", // all timestamps are UTC; make current_timestamp casts agree
		fmt.Sprintf("ATTACH IF NOT EXISTS %s AS %s", sqlString(abs), duckCatalog),
		"USE " + duckCatalog,
	}
	connector, err := duckdbgo.NewConnector("?"+instance.Encode(), func(execer driver.ExecerContext) error {
		for _, q := range session {
			if _, err := execer.ExecContext(ctx, q, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("warehouse: open DuckDB file %s (DUCKDB_PATH): %w", path, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if strings.Contains(err.Error(), "lock") {
			return nil, &warehouse.LockedError{Path: path, Err: err}
		}
		return nil, fmt.Errorf("warehouse: open DuckDB file %s (DUCKDB_PATH): %w", path, err)
	}
	return &Warehouse{db: db, path: path, abs: abs, walLimit: walCheckpointBytes}, nil
}

// Dialect returns "duckdb".
func (d *Warehouse) Dialect() string { return warehouse.DialectDuckDB }

// Close closes the database.
func (d *Warehouse) Close() error { return d.db.Close() }

// Ping checks the database answers.
func (d *Warehouse) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }

// Query runs read-only SQL.
func (d *Warehouse) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.db.QueryContext(ctx, q, args...)
}

// QueryRow runs read-only SQL returning one row.
func (d *Warehouse) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.db.QueryRowContext(ctx, q, args...)
}

// Migrate applies the embedded DuckDB migrations.
func (d *Warehouse) Migrate(ctx context.Context, dryRun bool) (warehouse.MigrateResult, error) {
	return warehouse.Migrator{
		DB:      d.db,
		Dialect: warehouse.DialectDuckDB,
		Bootstrap: []string{
			"CREATE SCHEMA IF NOT EXISTS ops",
			"CREATE TABLE IF NOT EXISTS ops.schema_migrations (version VARCHAR PRIMARY KEY, checksum VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)",
		},
		Read:   "SELECT version, checksum FROM ops.schema_migrations",
		Record: "INSERT INTO ops.schema_migrations (version, checksum, applied_at) VALUES (?, ?, ?)",
	}.Run(ctx, dryRun)
}

// DialectQuery returns the DuckDB text of a dialect-specific read.
func (d *Warehouse) DialectQuery(name string) (string, bool) {
	q, ok := duckDBQueries[name]
	return q, ok
}

var duckDBQueries = map[string]string{
	warehouse.QueryDashboardDaily: `SELECT strftime(date_trunc('day', sold_at), '%Y-%m-%d'), count(*), CAST(sum(total_amount) AS DOUBLE)
FROM prod.orders WHERE sold_at >= ? GROUP BY 1 ORDER BY 1`,
	warehouse.QueryDashboardLastValidation: `SELECT ran_at, status, failed, warned, CAST(report AS VARCHAR) FROM ops.validation_runs ORDER BY ran_at DESC LIMIT 1`,
}

// Offset returns the stored next offset of a partition.
func (d *Warehouse) Offset(ctx context.Context, topic string, partition int) (int64, bool, error) {
	var next int64
	err := d.db.QueryRowContext(ctx, duckSQL(duckOffsetRead), topic, partition).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("warehouse: read offset of %s/%d: %w", topic, partition, err)
	}
	return next, true, nil
}

// InitOffset stores next if the partition has no offset yet.
func (d *Warehouse) InitOffset(ctx context.Context, topic string, partition int, next int64) (int64, error) {
	if _, err := d.db.ExecContext(ctx, duckSQL(duckOffsetInit), topic, partition, next, time.Now().UTC()); err != nil {
		return 0, fmt.Errorf("warehouse: init offset of %s/%d: %w", topic, partition, err)
	}
	stored, _, err := d.Offset(ctx, topic, partition)
	return stored, err
}

// ResetOffset moves a stored offset, fenced on its current value.
func (d *Warehouse) ResetOffset(ctx context.Context, topic string, partition int, from, to int64) error {
	return moveOffset(ctx, d.db, topic, partition, from, to, time.Now().UTC())
}

// moveOffset sets a partition's next offset to `to` only if it is still
// `from`; otherwise another loader owns the partition and it returns ErrFenced.
func moveOffset(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, topic string, partition int, from, to int64, at time.Time) error {
	r, err := db.ExecContext(ctx, duckSQL(duckOffsetMove),
		to, at, topic, partition, from)
	if err != nil {
		return fmt.Errorf("warehouse: move offset of %s/%d: %w", topic, partition, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return warehouse.ErrFenced
	}
	return nil
}

// MemoryTag is one row of duckdb_memory(): what DuckDB's buffer manager holds
// for one purpose, in memory and spilled to temporary files.
type MemoryTag struct {
	Tag       string `json:"tag"`
	Bytes     int64  `json:"memory_usage_bytes"`
	TempBytes int64  `json:"temporary_storage_bytes"`
}

// Memory reports duckdb_memory(), the tags that hold memory first.
func (d *Warehouse) Memory(ctx context.Context) ([]MemoryTag, error) {
	rows, err := d.db.QueryContext(ctx, duckSQL(duckMemory))
	if err != nil {
		return nil, fmt.Errorf("warehouse: duckdb_memory(): %w", err)
	}
	defer rows.Close()
	var out []MemoryTag
	for rows.Next() {
		var t MemoryTag
		if err := rows.Scan(&t.Tag, &t.Bytes, &t.TempBytes); err != nil {
			return nil, fmt.Errorf("warehouse: duckdb_memory(): %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
