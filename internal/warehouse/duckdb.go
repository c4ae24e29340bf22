package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dropflow/dropflow/internal/params"
)

// DuckDB is the embedded warehouse: one file, schemas raw, staging, prod, ops.
// DuckDB allows one writing process per file, so the worker owns it and
// serves the dashboard from the same process.
type DuckDB struct {
	db   *sql.DB
	path string
}

// LockedError means another process holds the DuckDB file.
type LockedError struct {
	Path string
	Err  error
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("warehouse: DuckDB file %s is locked by another process (%v); stop that process (another worker or demo?) or set DUCKDB_PATH to another file", e.Path, e.Err)
}

func (e *LockedError) Unwrap() error { return e.Err }

// OpenDuckDB opens (creating if needed) the DuckDB file at path.
func OpenDuckDB(ctx context.Context, path string) (*DuckDB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("warehouse: create directory for DUCKDB_PATH %s: %w", path, err)
		}
	}
	connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		// All timestamps are UTC; make current_timestamp casts agree.
		_, err := execer.ExecContext(ctx, "SET TimeZone = 'UTC'", nil)
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
		table: "ops.schema_migrations",
	}.run(ctx, dryRun)
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
	r, err := d.db.ExecContext(ctx, `UPDATE ops.kafka_offsets SET next_offset = ?, updated_at = ? WHERE topic = ? AND "partition" = ? AND next_offset = ?`,
		to, time.Now().UTC(), topic, partition, from)
	if err != nil {
		return fmt.Errorf("warehouse: reset offset of %s/%d: %w", topic, partition, err)
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
		r, err := conn.ExecContext(ctx, `UPDATE ops.kafka_offsets SET next_offset = ?, updated_at = ? WHERE topic = ? AND "partition" = ? AND next_offset = ?`,
			b.NextOffset, now, b.Topic, b.Partition, b.FromOffset)
		if err != nil {
			return fmt.Errorf("warehouse: advance offset of %s/%d: %w", b.Topic, b.Partition, err)
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return ErrFenced
		}
		if len(b.Events) > 0 {
			if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE load_buffer (event_id VARCHAR, event_type VARCHAR, payload VARCHAR, kafka_offset BIGINT, produced_at TIMESTAMP)`); err != nil {
				return fmt.Errorf("warehouse: create load buffer: %w", err)
			}
			err := appendRows(conn, "temp", "main", "load_buffer", len(b.Events), func(i int) []driver.Value {
				e := b.Events[i]
				var produced any
				if !e.ProducedAt.IsZero() {
					produced = e.ProducedAt.UTC()
				}
				return []driver.Value{e.EventID, e.EventType, string(e.Payload), e.Offset, produced}
			})
			if err != nil {
				return err
			}
			// A resent event (same event_id) is a duplicate: keep the first copy only.
			r, err := conn.ExecContext(ctx, `
INSERT INTO raw.orders_events
SELECT b.event_id, b.event_type, CAST(b.payload AS JSON), ?, ?, b.kafka_offset, b.produced_at, ?
FROM load_buffer b
WHERE NOT EXISTS (SELECT 1 FROM raw.orders_events r WHERE r.event_id = b.event_id)
QUALIFY ROW_NUMBER() OVER (PARTITION BY b.event_id ORDER BY b.kafka_offset) = 1`, b.Topic, b.Partition, now)
			if err != nil {
				return fmt.Errorf("warehouse: insert RAW events of %s/%d: %w", b.Topic, b.Partition, err)
			}
			res.Inserted, _ = r.RowsAffected()
			res.Duplicates = int64(len(b.Events)) - res.Inserted
			if _, err := conn.ExecContext(ctx, `DROP TABLE load_buffer`); err != nil {
				return fmt.Errorf("warehouse: drop load buffer: %w", err)
			}
		}
		if len(b.Rejects) > 0 {
			err := appendRows(conn, "", "raw", "orders_events_rejected", len(b.Rejects), func(i int) []driver.Value {
				rj := b.Rejects[i]
				return []driver.Value{b.Topic, int32(b.Partition), rj.Offset, text(rj.Key), text(rj.Value), rj.Reason, rj.Error, now}
			})
			if err != nil {
				return err
			}
			res.Rejected = int64(len(b.Rejects))
		}
		return nil
	})
	if err != nil {
		return LoadResult{}, err
	}
	return res, nil
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

// MergeOrders merges new RAW events into PROD.orders in one transaction with
// the advance of the watermark.
func (d *DuckDB) MergeOrders(ctx context.Context) (params.MergeOrdersResult, error) {
	var res params.MergeOrdersResult
	started := time.Now().UTC()
	err := d.withTx(ctx, func(conn *sql.Conn) error {
		// The new events: offsets at or past each partition's watermark.
		if _, err := conn.ExecContext(ctx, `
CREATE OR REPLACE TEMP TABLE merge_source AS
SELECT s.* FROM staging.orders_events_flat s
LEFT JOIN ops.merge_watermark w ON w.topic = s.kafka_topic AND w."partition" = s.kafka_partition
WHERE s.kafka_offset >= COALESCE(w.merged_offset, 0)`); err != nil {
			return fmt.Errorf("warehouse: select new RAW events: %w", err)
		}
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM merge_source`).Scan(&res.SourceEvents); err != nil {
			return fmt.Errorf("warehouse: count new RAW events: %w", err)
		}
		if res.SourceEvents == 0 {
			res.NothingNew = true
		} else {
			// Newest event per order: highest version, then latest offset.
			if _, err := conn.ExecContext(ctx, `
CREATE OR REPLACE TEMP TABLE merge_dedup AS
SELECT * FROM merge_source
QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY event_version DESC, kafka_offset DESC) = 1`); err != nil {
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
			if _, err := conn.ExecContext(ctx, `
INSERT INTO ops.merge_watermark
SELECT kafka_topic, kafka_partition, max(kafka_offset) + 1, ? FROM merge_source GROUP BY kafka_topic, kafka_partition
ON CONFLICT (topic, "partition") DO UPDATE SET merged_offset = excluded.merged_offset, updated_at = excluded.updated_at`, started); err != nil {
				return fmt.Errorf("warehouse: advance merge watermark: %w", err)
			}
			if _, err := conn.ExecContext(ctx, `DROP TABLE merge_dedup`); err != nil {
				return fmt.Errorf("warehouse: drop merge_dedup: %w", err)
			}
		}
		if _, err := conn.ExecContext(ctx, `DROP TABLE merge_source`); err != nil {
			return fmt.Errorf("warehouse: drop merge_source: %w", err)
		}
		_, err := conn.ExecContext(ctx, `INSERT INTO ops.merge_runs VALUES (?, ?, ?, ?, ?, ?, ?)`,
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
