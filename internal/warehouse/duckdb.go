package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dropflow/dropflow/internal/params"
)

// DuckDB is the embedded warehouse: one file, schemas raw, staging, prod, ops.
// DuckDB allows one writing process per file, so the worker owns it and
// serves the dashboard from the same process.
type DuckDB struct {
	db   *sql.DB
	path string

	// seen is a Bloom filter of every event_id in RAW (and of some that a
	// rolled-back batch never committed: harmless). An id it does not hold is
	// certainly new, so most batches skip the RAW lookup; an id it holds is
	// checked exactly. Built from RAW on the first load.
	seenMu sync.Mutex
	seen   *bloom.BloomFilter

	window int64 // merge window per partition; mergeWindow unless a test shrinks it

	// beforeCommit, set only by tests, runs inside LoadBatch's transaction
	// once the batch's rows are written, just before it commits.
	beforeCommit func(conn *sql.Conn) error
}

// bloomCapacity sizes the filter; past it the false-positive rate rises and
// more batches pay the exact lookup, never a wrong answer.
const bloomCapacity = 5_000_000

// LockedError means another process holds the DuckDB file.
type LockedError struct {
	Path string
	Err  error
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("warehouse: DuckDB file %s is locked by another process (%v); stop that process (another worker or demo?) or set DUCKDB_PATH to another file", e.Path, e.Err)
}

func (e *LockedError) Unwrap() error { return e.Err }

// DefaultDuckDBMemoryLimit caps DuckDB's buffer pool so that the worker
// stays small whatever the backlog (DuckDB spills to disk past it).
const DefaultDuckDBMemoryLimit = "128MB"

// DuckDBOptions tune the embedded database.
type DuckDBOptions struct {
	// MemoryLimit is DuckDB's memory_limit, e.g. "192MB" (DUCKDB_MEMORY_LIMIT).
	MemoryLimit string
}

var memoryLimitRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

// OpenDuckDB opens (creating if needed) the DuckDB file at path with default options.
func OpenDuckDB(ctx context.Context, path string) (*DuckDB, error) {
	return OpenDuckDBWithOptions(ctx, path, DuckDBOptions{})
}

// OpenDuckDBWithOptions opens (creating if needed) the DuckDB file at path.
func OpenDuckDBWithOptions(ctx context.Context, path string, o DuckDBOptions) (*DuckDB, error) {
	if o.MemoryLimit == "" {
		o.MemoryLimit = DefaultDuckDBMemoryLimit
	}
	if !memoryLimitRE.MatchString(o.MemoryLimit) {
		return nil, fmt.Errorf("warehouse: DUCKDB_MEMORY_LIMIT=%q: want a size such as 192MB or 1GB", o.MemoryLimit)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("warehouse: create directory for DUCKDB_PATH %s: %w", path, err)
		}
	}
	connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		// All timestamps are UTC; make current_timestamp casts agree.
		if _, err := execer.ExecContext(ctx, "SET TimeZone = 'UTC'", nil); err != nil {
			return err
		}
		_, err := execer.ExecContext(ctx, "SET memory_limit = '"+o.MemoryLimit+"'", nil)
		return err
	})
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, &LockedError{Path: path, Err: err}
		}
		return nil, fmt.Errorf("warehouse: open DuckDB file %s (DUCKDB_PATH): %w", path, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("warehouse: open DuckDB file %s (DUCKDB_PATH): %w", path, err)
	}
	return &DuckDB{db: db, path: path}, nil
}

// Dialect returns "duckdb".
func (d *DuckDB) Dialect() string { return DialectDuckDB }

// Close closes the database.
func (d *DuckDB) Close() error { return d.db.Close() }

// Ping checks the database answers.
func (d *DuckDB) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }

// Query runs read-only SQL.
func (d *DuckDB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.db.QueryContext(ctx, q, args...)
}

// QueryRow runs read-only SQL returning one row.
func (d *DuckDB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.db.QueryRowContext(ctx, q, args...)
}

// Migrate applies the embedded DuckDB migrations.
func (d *DuckDB) Migrate(ctx context.Context, dryRun bool) (params.DeploySchemaResult, error) {
	return migrator{
		db:      d.db,
		dialect: DialectDuckDB,
		bootstrap: []string{
			"CREATE SCHEMA IF NOT EXISTS ops",
			"CREATE TABLE IF NOT EXISTS ops.schema_migrations (version VARCHAR PRIMARY KEY, checksum VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)",
		},
		read:   "SELECT version, checksum FROM ops.schema_migrations",
		record: "INSERT INTO ops.schema_migrations (version, checksum, applied_at) VALUES (?, ?, ?)",
	}.run(ctx, dryRun)
}

// DialectQuery returns the DuckDB text of a dialect-specific read.
func (d *DuckDB) DialectQuery(name string) (string, bool) {
	q, ok := duckDBQueries[name]
	return q, ok
}

var duckDBQueries = map[string]string{
	QueryDashboardDaily: `SELECT strftime(date_trunc('day', sold_at), '%Y-%m-%d'), count(*), CAST(sum(total_amount) AS DOUBLE)
FROM prod.orders WHERE sold_at >= ? GROUP BY 1 ORDER BY 1`,
	QueryDashboardLastValidation: `SELECT ran_at, status, failed, warned, CAST(report AS VARCHAR) FROM ops.validation_runs ORDER BY ran_at DESC LIMIT 1`,
}

// Offset returns the stored next offset of a partition.
func (d *DuckDB) Offset(ctx context.Context, topic string, partition int) (int64, bool, error) {
	var next int64
	err := d.db.QueryRowContext(ctx, `SELECT next_offset FROM ops.kafka_offsets WHERE topic = ? AND "partition" = ?`, topic, partition).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("warehouse: read offset of %s/%d: %w", topic, partition, err)
	}
	return next, true, nil
}

// InitOffset stores next if the partition has no offset yet.
func (d *DuckDB) InitOffset(ctx context.Context, topic string, partition int, next int64) (int64, error) {
	if _, err := d.db.ExecContext(ctx, `INSERT INTO ops.kafka_offsets VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, topic, partition, next, time.Now().UTC()); err != nil {
		return 0, fmt.Errorf("warehouse: init offset of %s/%d: %w", topic, partition, err)
	}
	stored, _, err := d.Offset(ctx, topic, partition)
	return stored, err
}

// ResetOffset moves a stored offset, fenced on its current value.
func (d *DuckDB) ResetOffset(ctx context.Context, topic string, partition int, from, to int64) error {
	return moveOffset(ctx, d.db, topic, partition, from, to, time.Now().UTC())
}

// moveOffset sets a partition's next offset to `to` only if it is still
// `from`; otherwise another loader owns the partition and it returns ErrFenced.
func moveOffset(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, topic string, partition int, from, to int64, at time.Time) error {
	r, err := db.ExecContext(ctx, `UPDATE ops.kafka_offsets SET next_offset = ?, updated_at = ? WHERE topic = ? AND "partition" = ? AND next_offset = ?`,
		to, at, topic, partition, from)
	if err != nil {
		return fmt.Errorf("warehouse: move offset of %s/%d: %w", topic, partition, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return ErrFenced
	}
	return nil
}

// withTx runs fn inside one transaction on one connection, so that
// Appenders (which work on the raw connection) join the transaction.
func (d *DuckDB) withTx(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("warehouse: get connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("warehouse: begin: %w", err)
	}
	if err := fn(conn); err != nil {
		// Rollback on a fresh context: the caller's may be the one cancelled.
		if _, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
			return errors.Join(err, fmt.Errorf("warehouse: rollback: %w", rbErr))
		}
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("warehouse: commit: %w", err)
	}
	return nil
}

func appendRows(conn *sql.Conn, catalog, schema, table string, n int, row func(i int) []driver.Value) error {
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), catalog, schema, table)
		if err != nil {
			return fmt.Errorf("warehouse: appender on %s.%s: %w", schema, table, err)
		}
		for i := 0; i < n; i++ {
			if err := a.AppendRow(row(i)...); err != nil {
				a.Close()
				return fmt.Errorf("warehouse: append to %s.%s: %w", schema, table, err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("warehouse: flush %s.%s: %w", schema, table, err)
		}
		return nil
	})
}

// LoadBatch writes one batch and its offset in one transaction.
func (d *DuckDB) LoadBatch(ctx context.Context, b Batch) (LoadResult, error) {
	var res LoadResult
	now := time.Now().UTC()
	err := d.withTx(ctx, func(conn *sql.Conn) error {
		// Fence first: if another loader advanced this partition, write nothing.
		if err := moveOffset(ctx, conn, b.Topic, b.Partition, b.FromOffset, b.NextOffset, now); err != nil {
			return err
		}
		rejects := b.Rejects
		if len(b.Events) > 0 {
			fresh, conflicts, err := d.newEvents(ctx, conn, b)
			if err != nil {
				return err
			}
			if len(fresh) > 0 {
				// Straight into RAW: the Appender joins this transaction.
				err = appendRows(conn, "", "raw", "orders_events", len(fresh), func(i int) []driver.Value {
					e := fresh[i]
					var produced any
					if !e.ProducedAt.IsZero() {
						produced = e.ProducedAt.UTC()
					}
					// RawMessage: the driver writes the document itself, not a JSON string of it.
					return []driver.Value{e.EventID, e.EventType, json.RawMessage(e.Payload), b.Topic, int32(b.Partition), e.Offset, produced, now, nullString(e.ContentHash)}
				})
				if err != nil {
					return err
				}
			}
			res.Inserted = int64(len(fresh))
			res.Conflicts = int64(len(conflicts))
			res.Duplicates = int64(len(b.Events)-len(fresh)) - res.Conflicts
			rejects = append(append([]Reject(nil), b.Rejects...), conflicts...)
		}
		if len(rejects) > 0 {
			err := appendRows(conn, "", "raw", "orders_events_rejected", len(rejects), func(i int) []driver.Value {
				rj := rejects[i]
				var cp, co, cv any
				if c := rj.Conflict; c != nil {
					cp, co, cv = int32(c.Partition), c.Offset, text(c.Value)
				}
				return []driver.Value{b.Topic, int32(b.Partition), rj.Offset, text(rj.Key), text(rj.Value), rj.Reason, rj.Error, now, cp, co, cv}
			})
			if err != nil {
				return err
			}
			res.Rejected = int64(len(rejects))
		}
		if d.beforeCommit != nil {
			return d.beforeCommit(conn)
		}
		return nil
	})
	if err != nil {
		return LoadResult{}, err
	}
	return res, nil
}

// seenFilter returns the Bloom filter of RAW's event_ids, building it once.
func (d *DuckDB) seenFilter(ctx context.Context) (*bloom.BloomFilter, error) {
	if d.seen != nil {
		return d.seen, nil
	}
	f := bloom.NewWithEstimates(bloomCapacity, 0.001)
	rows, err := d.db.QueryContext(ctx, `SELECT event_id FROM raw.orders_events`)
	if err != nil {
		return nil, fmt.Errorf("warehouse: read RAW event ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("warehouse: read RAW event ids: %w", err)
		}
		f.AddString(id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("warehouse: read RAW event ids: %w", err)
	}
	d.seen = f
	return f, nil
}

// newEvents drops the batch's events whose event_id is already in RAW with
// the same content (a resend) or earlier in the batch, keeping the first
// copy, and returns those whose id is there with other content as
// event_id_conflict rejects. Ids the Bloom filter has never seen are new for
// certain; only the others are looked up in RAW, through a temporary table of
// ids and hashes and one hash join that reads the stored value of conflicts only.
func (d *DuckDB) newEvents(ctx context.Context, conn *sql.Conn, b Batch) ([]Event, []Reject, error) {
	unique, conflicts := uniqueEvents(b)
	var maybe []Event
	d.seenMu.Lock()
	filter, err := d.seenFilter(ctx)
	if err != nil {
		d.seenMu.Unlock()
		return nil, nil, err
	}
	for _, e := range unique {
		if filter.TestOrAddString(e.EventID) {
			maybe = append(maybe, e)
		}
	}
	d.seenMu.Unlock()
	if len(maybe) == 0 {
		return unique, conflicts, nil
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE load_ids (event_id VARCHAR, content_hash VARCHAR)`); err != nil {
		return nil, nil, fmt.Errorf("warehouse: create id buffer: %w", err)
	}
	if err := appendRows(conn, "temp", "main", "load_ids", len(maybe), func(i int) []driver.Value {
		return []driver.Value{maybe[i].EventID, nullString(maybe[i].ContentHash)}
	}); err != nil {
		return nil, nil, err
	}
	// A stored event without a hash predates fingerprints: same id, a duplicate.
	rows, err := conn.QueryContext(ctx, `SELECT i.event_id, r.kafka_partition, r.kafka_offset,
  CASE WHEN r.content_hash <> i.content_hash THEN CAST(r.payload AS VARCHAR) END
FROM load_ids i JOIN raw.orders_events r ON r.event_id = i.event_id`)
	if err != nil {
		return nil, nil, fmt.Errorf("warehouse: look up resent events: %w", err)
	}
	type stored struct {
		partition int
		offset    int64
		conflict  sql.NullString
	}
	existing := map[string]stored{}
	for rows.Next() {
		var id string
		var st stored
		if err := rows.Scan(&id, &st.partition, &st.offset, &st.conflict); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("warehouse: look up resent events: %w", err)
		}
		existing[id] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("warehouse: look up resent events: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `DROP TABLE load_ids`); err != nil {
		return nil, nil, fmt.Errorf("warehouse: drop id buffer: %w", err)
	}
	if len(existing) == 0 {
		return unique, conflicts, nil
	}
	fresh := unique[:0]
	for _, e := range unique {
		st, dup := existing[e.EventID]
		switch {
		case !dup:
			fresh = append(fresh, e)
		case st.conflict.Valid:
			conflicts = append(conflicts, conflictReject(e, st.partition, st.offset, []byte(st.conflict.String)))
		}
	}
	return fresh, conflicts, nil
}

// nullString stores "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// text stores bytes as VARCHAR; invalid UTF-8 is replaced so that a binary
// poison record is still kept (and visibly marked) rather than failing the batch.
func text(b []byte) any {
	if b == nil {
		return nil
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// LoadCustomers upserts PROD.customers from customers.csv with DuckDB's CSV
// reader (no row inserts).
func (d *DuckDB) LoadCustomers(ctx context.Context, csvPath string) (int64, error) {
	return d.loadCSV(ctx, csvPath, "prod.customers", `
INSERT OR REPLACE INTO prod.customers
SELECT customer_id, name, email, city, channel, created_at, ? FROM read_csv(%s, header = true, auto_detect = false,
  columns = {'customer_id': 'BIGINT', 'name': 'VARCHAR', 'email': 'VARCHAR', 'city': 'VARCHAR', 'channel': 'VARCHAR', 'created_at': 'TIMESTAMP'},
  timestampformat = '%%Y-%%m-%%dT%%H:%%M:%%SZ')`)
}

// LoadInventory upserts PROD.inventory from inventory.csv.
func (d *DuckDB) LoadInventory(ctx context.Context, csvPath string) (int64, error) {
	return d.loadCSV(ctx, csvPath, "prod.inventory", `
INSERT OR REPLACE INTO prod.inventory
SELECT product_id, product_name, category, unit_price, stock_quantity, updated_at, ? FROM read_csv(%s, header = true, auto_detect = false,
  columns = {'product_id': 'BIGINT', 'product_name': 'VARCHAR', 'category': 'VARCHAR', 'unit_price': 'DECIMAL(12,2)', 'stock_quantity': 'INTEGER', 'updated_at': 'TIMESTAMP'},
  timestampformat = '%%Y-%%m-%%dT%%H:%%M:%%SZ')`)
}

func (d *DuckDB) loadCSV(ctx context.Context, csvPath, table, query string) (int64, error) {
	abs, err := filepath.Abs(csvPath)
	if err != nil {
		return 0, fmt.Errorf("warehouse: load %s: %w", table, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return 0, fmt.Errorf("warehouse: load %s: %w", table, err)
	}
	r, err := d.db.ExecContext(ctx, fmt.Sprintf(query, sqlString(abs)), time.Now().UTC())
	if err != nil {
		return 0, fmt.Errorf("warehouse: load %s from %s: %w", table, csvPath, err)
	}
	n, _ := r.RowsAffected()
	return n, nil
}

// mergeWindow bounds one merge transaction to this many offsets per
// partition, so that its temporary tables (kept in memory) stay small however
// large the backlog; MergeOrders runs windows until RAW has nothing new.
const mergeWindow = 100_000

func (d *DuckDB) windowSize() int64 {
	if d.window > 0 {
		return d.window
	}
	return mergeWindow
}

// window is one partition's slice of offsets to merge.
type window struct {
	topic     string
	partition int
	from, to  int64
}

// mergeWindows lists, in this transaction's snapshot, the offsets each loaded
// partition has committed past its merge watermark. Rows below a partition's
// next offset are committed in the same snapshot, so none is skipped.
func mergeWindows(ctx context.Context, conn *sql.Conn, size int64) ([]window, error) {
	rows, err := conn.QueryContext(ctx, `SELECT o.topic, o."partition", COALESCE(w.merged_offset, 0), o.next_offset
FROM ops.kafka_offsets o LEFT JOIN ops.merge_watermark w ON w.topic = o.topic AND w."partition" = o."partition"
ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("warehouse: read merge positions: %w", err)
	}
	defer rows.Close()
	var out []window
	for rows.Next() {
		var w window
		var next int64
		if err := rows.Scan(&w.topic, &w.partition, &w.from, &next); err != nil {
			return nil, fmt.Errorf("warehouse: read merge positions: %w", err)
		}
		if w.to = min(w.from+size, next); w.to > w.from {
			out = append(out, w)
		}
	}
	return out, rows.Err()
}

// HasUnmerged reports whether a partition's loaded offset is past its merge
// watermark (see mergeWindow: the watermark passes offsets without RAW rows).
func (d *DuckDB) HasUnmerged(ctx context.Context) (bool, error) {
	var has bool
	err := d.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1
FROM ops.kafka_offsets o LEFT JOIN ops.merge_watermark w ON w.topic = o.topic AND w."partition" = o."partition"
WHERE o.next_offset > COALESCE(w.merged_offset, 0))`).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("warehouse: read merge positions: %w", err)
	}
	return has, nil
}

// maxWindows returns control after this many windows even if events keep
// arriving; the next merge continues from the watermark.
const maxWindows = 50

// MergeOrders merges new RAW events into PROD.orders, window by window; each
// window is one transaction with the advance of the watermark. Windowing
// keeps the semantics: an older version in a later window never overwrites a
// newer one, and a newer one updates.
func (d *DuckDB) MergeOrders(ctx context.Context) (params.MergeOrdersResult, error) {
	var total params.MergeOrdersResult
	for i := 0; i < maxWindows; i++ {
		res, err := d.mergeWindow(ctx, i == 0)
		if err != nil {
			return total, err
		}
		total.Add(res)
		if room := 1000 - len(total.LagSample); room > 0 {
			total.LagSample = append(total.LagSample, res.LagSample[:min(room, len(res.LagSample))]...)
		}
		if res.NothingNew {
			break
		}
	}
	return total, nil
}

// mergeWindow merges up to mergeWindow new offsets per partition. An empty
// window is recorded in OPS.merge_runs only when it is the first (a skip).
func (d *DuckDB) mergeWindow(ctx context.Context, recordEmpty bool) (params.MergeOrdersResult, error) {
	var res params.MergeOrdersResult
	var advance []window
	started := time.Now().UTC()
	err := d.withTx(ctx, func(conn *sql.Conn) error {
		// Per loaded partition, the window [watermark, min(watermark+window,
		// next offset)): constant bounds, so the scan skips row groups by their
		// offset zonemaps and the view flattens only the new rows.
		wins, err := mergeWindows(ctx, conn, d.windowSize())
		if err != nil {
			return err
		}
		advance = wins
		// One temporary table, the newest event per order of the window,
		// straight from RAW: each branch has constant bounds (zonemaps skip
		// the rest), and no copy of the whole window is kept.
		var union strings.Builder
		var binds []any
		for i, w := range wins {
			if i > 0 {
				union.WriteString("\n  UNION ALL ")
			}
			union.WriteString(`SELECT * FROM staging.orders_events_flat WHERE kafka_topic = ? AND kafka_partition = ? AND kafka_offset >= ? AND kafka_offset < ?`)
			binds = append(binds, w.topic, w.partition, w.from, w.to)
		}
		if len(wins) == 0 {
			res.NothingNew = true
		} else {
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (`+union.String()+`)`, binds...).Scan(&res.SourceEvents); err != nil {
				return fmt.Errorf("warehouse: count new RAW events: %w", err)
			}
			res.NothingNew = res.SourceEvents == 0
		}
		if !res.NothingNew {
			// Newest event per order: highest version, then latest offset.
			if _, err := conn.ExecContext(ctx, `
CREATE OR REPLACE TEMP TABLE merge_dedup AS
SELECT * FROM (`+union.String()+`)
QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY event_version DESC, kafka_offset DESC) = 1`, binds...); err != nil {
				return fmt.Errorf("warehouse: dedupe new events: %w", err)
			}
			if err := conn.QueryRowContext(ctx, `
SELECT
  count(*) FILTER (WHERE p.order_id IS NULL),
  count(*) FILTER (WHERE p.order_id IS NOT NULL AND s.event_version > p.event_version),
  count(*) FILTER (WHERE p.order_id IS NOT NULL AND s.event_version <= p.event_version)
FROM merge_dedup s LEFT JOIN prod.orders p ON p.order_id = s.order_id`).Scan(&res.Inserted, &res.Updated, &res.Unchanged); err != nil {
				return fmt.Errorf("warehouse: classify merge rows: %w", err)
			}
			if _, err := conn.ExecContext(ctx, `
MERGE INTO prod.orders t
USING merge_dedup s ON t.order_id = s.order_id
WHEN MATCHED AND s.event_version > t.event_version THEN UPDATE SET
  customer_id = s.customer_id, product_id = s.product_id, quantity = s.quantity, unit_price = s.unit_price,
  total_amount = s.quantity * s.unit_price, status = s.status, sold_at = s.sold_at,
  event_id = s.event_id, event_version = s.event_version, merged_at = ?
WHEN NOT MATCHED THEN INSERT (order_id, customer_id, product_id, quantity, unit_price, total_amount, status, sold_at, event_id, event_version, merged_at)
  VALUES (s.order_id, s.customer_id, s.product_id, s.quantity, s.unit_price, s.quantity * s.unit_price, s.status, s.sold_at, s.event_id, s.event_version, ?)`,
				started, started); err != nil {
				return fmt.Errorf("warehouse: merge into prod.orders: %w", err)
			}
			if err := sampleLags(ctx, conn, started, &res); err != nil {
				return err
			}
			if _, err := conn.ExecContext(ctx, `DROP TABLE merge_dedup`); err != nil {
				return fmt.Errorf("warehouse: drop merge_dedup: %w", err)
			}
		}
		// Offsets whose records were all duplicates or rejects hold no RAW
		// rows: the watermark passes them too, so HasUnmerged stays exact.
		for _, w := range advance {
			if _, err := conn.ExecContext(ctx, `INSERT INTO ops.merge_watermark VALUES (?, ?, ?, ?)
ON CONFLICT (topic, "partition") DO UPDATE SET merged_offset = excluded.merged_offset, updated_at = excluded.updated_at`, w.topic, w.partition, w.to, started); err != nil {
				return fmt.Errorf("warehouse: advance merge watermark: %w", err)
			}
		}
		if res.NothingNew && !recordEmpty {
			return nil
		}
		_, err = conn.ExecContext(ctx, `INSERT INTO ops.merge_runs VALUES (?, ?, ?, ?, ?, ?, ?)`,
			started, time.Now().UTC(), res.SourceEvents, res.Inserted, res.Updated, res.Unchanged, res.NothingNew)
		if err != nil {
			return fmt.Errorf("warehouse: record merge run: %w", err)
		}
		return nil
	})
	if err != nil {
		return params.MergeOrdersResult{}, err
	}
	return res, nil
}

// sampleLags reads produced_at → merge time of up to 1000 merged events.
func sampleLags(ctx context.Context, conn *sql.Conn, mergedAt time.Time, res *params.MergeOrdersResult) error {
	rows, err := conn.QueryContext(ctx, `SELECT epoch(CAST(? AS TIMESTAMP)) - epoch(produced_at) FROM merge_dedup WHERE produced_at IS NOT NULL USING SAMPLE 1000 ROWS`, mergedAt)
	if err != nil {
		return fmt.Errorf("warehouse: sample merge freshness: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v float64
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("warehouse: sample merge freshness: %w", err)
		}
		res.LagSample = append(res.LagSample, v)
	}
	return rows.Err()
}

// RecordValidation stores a report.
func (d *DuckDB) RecordValidation(ctx context.Context, r params.ValidationReport, report []byte) error {
	ranAt, err := time.Parse(time.RFC3339Nano, r.Timestamp)
	if err != nil {
		ranAt = time.Now().UTC()
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO ops.validation_runs VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.RunID, ranAt.UTC(), r.Status, r.Summary.Pass, r.Summary.Warn, r.Summary.Fail, string(report))
	if err != nil {
		return fmt.Errorf("warehouse: record validation run: %w", err)
	}
	return nil
}

// RecordPipelineRun stores a finished pipeline run.
func (d *DuckDB) RecordPipelineRun(ctx context.Context, workflowID, runID, status string, result []byte) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO ops.pipeline_runs VALUES (?, ?, ?, ?, ?)`, workflowID, runID, time.Now().UTC(), status, string(result))
	if err != nil {
		return fmt.Errorf("warehouse: record pipeline run: %w", err)
	}
	return nil
}

// RecordDataset stores a seeded data set as the current one.
func (d *DuckDB) RecordDataset(ctx context.Context, key string, ds params.Dataset) error {
	body, err := json.Marshal(ds)
	if err != nil {
		return fmt.Errorf("warehouse: encode data set: %w", err)
	}
	return d.withTx(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `DELETE FROM ops.seed_datasets WHERE dataset_key = ?`, key); err != nil {
			return fmt.Errorf("warehouse: record data set: %w", err)
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO ops.seed_datasets VALUES (?, ?, ?)`, key, string(body), time.Now().UTC()); err != nil {
			return fmt.Errorf("warehouse: record data set: %w", err)
		}
		return nil
	})
}

// CurrentDataset returns the data set recorded last.
func (d *DuckDB) CurrentDataset(ctx context.Context) (params.Dataset, bool, error) {
	var body string
	err := d.db.QueryRowContext(ctx, `SELECT CAST(dataset AS VARCHAR) FROM ops.seed_datasets ORDER BY recorded_at DESC LIMIT 1`).Scan(&body)
	return decodeDataset(body, err)
}

// decodeDataset reads the stored data set a CurrentDataset query returned.
func decodeDataset(body string, err error) (params.Dataset, bool, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return params.Dataset{}, false, nil
	}
	if err != nil {
		return params.Dataset{}, false, fmt.Errorf("warehouse: current data set: %w", err)
	}
	var ds params.Dataset
	if err := json.Unmarshal([]byte(body), &ds); err != nil {
		return params.Dataset{}, false, fmt.Errorf("warehouse: current data set: %w", err)
	}
	return ds, true, nil
}

// MemoryTag is one row of duckdb_memory(): what DuckDB's buffer manager holds
// for one purpose, in memory and spilled to temporary files.
type MemoryTag struct {
	Tag       string `json:"tag"`
	Bytes     int64  `json:"memory_usage_bytes"`
	TempBytes int64  `json:"temporary_storage_bytes"`
}

// Memory reports duckdb_memory(), the tags that hold memory first.
func (d *DuckDB) Memory(ctx context.Context) ([]MemoryTag, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory() ORDER BY memory_usage_bytes DESC, tag`)
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
