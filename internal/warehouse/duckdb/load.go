package duckdb

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

	"github.com/bits-and-blooms/bloom/v3"
	duckdbgo "github.com/duckdb/duckdb-go/v2"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// withTx runs fn inside one transaction on one connection, so that
// Appenders (which work on the raw connection) join the transaction; then
// checkpoints if the WAL has grown past walCheckpointBytes.
func (d *Warehouse) withTx(ctx context.Context, fn func(conn *sql.Conn) error) error {
	if err := d.inTx(ctx, fn); err != nil {
		return err
	}
	d.maybeCheckpoint(ctx)
	return nil
}

// inTx is withTx without the checkpoint, under the checkpoint lock.
func (d *Warehouse) inTx(ctx context.Context, fn func(conn *sql.Conn) error) error {
	d.ckpt.RLock()
	defer d.ckpt.RUnlock()
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
		a, err := duckdbgo.NewAppender(dc.(driver.Conn), catalog, schema, table)
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

// rawAppendColumns are appended_data's columns for duckRawAppend.
var rawAppendColumns = []struct {
	name string
	t    duckdbgo.Type
}{
	{"event_id", duckdbgo.TYPE_VARCHAR}, {"event_type", duckdbgo.TYPE_VARCHAR}, {"payload", duckdbgo.TYPE_VARCHAR},
	{"kafka_topic", duckdbgo.TYPE_VARCHAR}, {"kafka_partition", duckdbgo.TYPE_INTEGER}, {"kafka_offset", duckdbgo.TYPE_BIGINT},
	{"produced_at", duckdbgo.TYPE_TIMESTAMP}, {"ingested_at", duckdbgo.TYPE_TIMESTAMP}, {"content_hash", duckdbgo.TYPE_VARCHAR},
}

// appendEvents appends n rows to raw.orders_events through duckRawAppend,
// in the connection's transaction.
func appendEvents(conn *sql.Conn, n int, row func(i int) []driver.Value) error {
	types := make([]duckdbgo.TypeInfo, len(rawAppendColumns))
	names := make([]string, len(rawAppendColumns))
	for i, c := range rawAppendColumns {
		ti, err := duckdbgo.NewTypeInfo(c.t)
		if err != nil {
			return fmt.Errorf("warehouse: appender type of %s: %w", c.name, err)
		}
		types[i], names[i] = ti, c.name
	}
	return conn.Raw(func(dc any) error {
		a, err := duckdbgo.NewQueryAppender(dc.(driver.Conn), duckSQL(duckRawAppend), "appended_data", types, names)
		if err != nil {
			return fmt.Errorf("warehouse: appender on raw.orders_events: %w", err)
		}
		for i := 0; i < n; i++ {
			if err := a.AppendRow(row(i)...); err != nil {
				a.Close()
				return fmt.Errorf("warehouse: append to raw.orders_events: %w", err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("warehouse: flush raw.orders_events: %w", err)
		}
		return nil
	})
}

// LoadBatch writes one batch and its offset in one transaction.
func (d *Warehouse) LoadBatch(ctx context.Context, b warehouse.Batch) (warehouse.LoadResult, error) {
	var res warehouse.LoadResult
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
				err = appendEvents(conn, len(fresh), func(i int) []driver.Value {
					e := fresh[i]
					var produced any
					if !e.ProducedAt.IsZero() {
						produced = e.ProducedAt.UTC()
					}
					return []driver.Value{e.EventID, e.EventType, e.Payload, b.Topic, int32(b.Partition), e.Offset, produced, now, nullString(e.ContentHash)}
				})
				if err != nil {
					return err
				}
			}
			res.Inserted = int64(len(fresh))
			res.Conflicts = int64(len(conflicts))
			res.Duplicates = int64(len(b.Events)-len(fresh)) - res.Conflicts
			rejects = append(append([]warehouse.Reject(nil), b.Rejects...), conflicts...)
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
		return warehouse.LoadResult{}, err
	}
	return res, nil
}

// seenFilter returns the Bloom filter of RAW's event_ids, building it once.
func (d *Warehouse) seenFilter(ctx context.Context) (*bloom.BloomFilter, error) {
	if d.seen != nil {
		return d.seen, nil
	}
	f := bloom.NewWithEstimates(bloomCapacity, 0.001)
	rows, err := d.db.QueryContext(ctx, duckSQL(duckRawEventIDs))
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
func (d *Warehouse) newEvents(ctx context.Context, conn *sql.Conn, b warehouse.Batch) ([]warehouse.Event, []warehouse.Reject, error) {
	unique, conflicts := warehouse.UniqueEvents(b)
	var maybe []warehouse.Event
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
	if _, err := conn.ExecContext(ctx, duckSQL(duckLoadIDsCreate)); err != nil {
		return nil, nil, fmt.Errorf("warehouse: create id buffer: %w", err)
	}
	if err := appendRows(conn, "temp", "main", "load_ids", len(maybe), func(i int) []driver.Value {
		return []driver.Value{maybe[i].EventID, nullString(maybe[i].ContentHash)}
	}); err != nil {
		return nil, nil, err
	}
	// A stored event without a hash predates fingerprints: same id, a duplicate.
	rows, err := conn.QueryContext(ctx, duckSQL(duckLoadIDsLookup))
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
	if _, err := conn.ExecContext(ctx, duckSQL(duckLoadIDsDrop)); err != nil {
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
			conflicts = append(conflicts, warehouse.ConflictReject(e, st.partition, st.offset, []byte(st.conflict.String)))
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
func (d *Warehouse) LoadCustomers(ctx context.Context, csvPath string) (int64, error) {
	return d.loadCSV(ctx, csvPath, "prod.customers", duckSQL(duckCustomersLoad))
}

// LoadInventory upserts PROD.inventory from inventory.csv.
func (d *Warehouse) LoadInventory(ctx context.Context, csvPath string) (int64, error) {
	return d.loadCSV(ctx, csvPath, "prod.inventory", duckSQL(duckInventoryLoad))
}

func (d *Warehouse) loadCSV(ctx context.Context, csvPath, table, query string) (int64, error) {
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

// walCheckpointBytes is the WAL size past which a commit is followed by a
// checkpoint: a bound on the WAL and on the rows spilled to temp_directory
// under a sustained backlog, not a tuning (DuckDB's own threshold is 16 MB;
// at 32 MB the pauses cost the bench's drain a third of its rate, at
// 256 MB a few percent, within its noise).
const walCheckpointBytes = 256 << 20

// maybeCheckpoint checkpoints once the WAL passed d.walLimit:
// new transactions wait while the open ones finish and the checkpoint
// writes their rows to the file. One caller checkpoints at a time; a failed
// checkpoint is retried after a later commit, and the data is in the WAL.
func (d *Warehouse) maybeCheckpoint(ctx context.Context) {
	fi, err := os.Stat(d.walPath())
	if err != nil || fi.Size() < d.walLimit || !d.checkpointing.CompareAndSwap(false, true) {
		return
	}
	defer d.checkpointing.Store(false)
	d.ckpt.Lock()
	defer d.ckpt.Unlock()
	if _, err := d.db.ExecContext(context.WithoutCancel(ctx), "CHECKPOINT "+duckCatalog); err == nil {
		d.checkpoints.Add(1)
	}
}

// walPath is the write-ahead log DuckDB keeps beside the file.
func (d *Warehouse) walPath() string { return d.abs + ".wal" }
