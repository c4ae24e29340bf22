package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// mergeWindow bounds one merge transaction to this many offsets per
// partition, so that its temporary tables (kept in memory) stay small however
// large the backlog; MergeOrders runs windows until RAW has nothing new.
const mergeWindow = 100_000

// mergeWindow merges up to mergeWindow new offsets per partition. An empty
// window is recorded in OPS.merge_runs only when it is the first (a skip).
func (d *Warehouse) mergeWindow(ctx context.Context, recordEmpty bool) (warehouse.MergeResult, error) {
	var res warehouse.MergeResult
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
			union.WriteString(duckSQL(duckMergeBranch))
			binds = append(binds, w.topic, w.partition, w.from, w.to)
		}
		if len(wins) == 0 {
			res.NothingNew = true
		} else {
			if err := conn.QueryRowContext(ctx, withSource(duckMergeCount, union.String()), binds...).Scan(&res.SourceEvents); err != nil {
				return fmt.Errorf("warehouse: count new RAW events: %w", err)
			}
			res.NothingNew = res.SourceEvents == 0
		}
		if !res.NothingNew {
			// Newest event per order: highest version, then latest offset.
			if _, err := conn.ExecContext(ctx, withSource(duckMergeDedupCreate, union.String()), binds...); err != nil {
				return fmt.Errorf("warehouse: dedupe new events: %w", err)
			}
			if err := conn.QueryRowContext(ctx, duckSQL(duckMergeClassify)).Scan(&res.Inserted, &res.Updated, &res.Unchanged); err != nil {
				return fmt.Errorf("warehouse: classify merge rows: %w", err)
			}
			if _, err := conn.ExecContext(ctx, duckSQL(duckMergeOrders),
				started, started); err != nil {
				return fmt.Errorf("warehouse: merge into prod.orders: %w", err)
			}
			if err := sampleLags(ctx, conn, started, &res); err != nil {
				return err
			}
			if _, err := conn.ExecContext(ctx, duckSQL(duckMergeDedupDrop)); err != nil {
				return fmt.Errorf("warehouse: drop merge_dedup: %w", err)
			}
		}
		// Offsets whose records were all duplicates or rejects hold no RAW
		// rows: the watermark passes them too, so HasUnmerged stays exact.
		for _, w := range advance {
			if _, err := conn.ExecContext(ctx, duckSQL(duckWatermarkAdvance), w.topic, w.partition, w.to, started); err != nil {
				return fmt.Errorf("warehouse: advance merge watermark: %w", err)
			}
		}
		if res.NothingNew && !recordEmpty {
			return nil
		}
		_, err = conn.ExecContext(ctx, duckSQL(duckMergeRunInsert),
			started, time.Now().UTC(), res.SourceEvents, res.Inserted, res.Updated, res.Unchanged, res.NothingNew)
		if err != nil {
			return fmt.Errorf("warehouse: record merge run: %w", err)
		}
		return nil
	})
	if err != nil {
		return warehouse.MergeResult{}, err
	}
	return res, nil
}

func (d *Warehouse) windowSize() int64 {
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
	rows, err := conn.QueryContext(ctx, duckSQL(duckMergePositions))
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
func (d *Warehouse) HasUnmerged(ctx context.Context) (bool, error) {
	var has bool
	err := d.db.QueryRowContext(ctx, duckSQL(duckHasUnmerged)).Scan(&has)
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
func (d *Warehouse) MergeOrders(ctx context.Context) (warehouse.MergeResult, error) {
	var total warehouse.MergeResult
	for i := 0; i < maxWindows; i++ {
		res, err := d.mergeWindow(ctx, i == 0)
		if err != nil {
			return total, err
		}
		total.Add(res)
		if res.NothingNew {
			break
		}
	}
	return total, nil
}

// sampleLags reads produced_at → merge time of up to 1000 merged events.
func sampleLags(ctx context.Context, conn *sql.Conn, mergedAt time.Time, res *warehouse.MergeResult) error {
	rows, err := conn.QueryContext(ctx, duckSQL(duckMergeLagSample), mergedAt)
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

// RecordValidation stores a validation run.
func (d *Warehouse) RecordValidation(ctx context.Context, r warehouse.ValidationRun) error {
	_, err := d.db.ExecContext(ctx, duckSQL(duckValidationInsert),
		r.RunID, r.RanAt.UTC(), r.Status, r.Pass, r.Warn, r.Fail, string(r.Report))
	if err != nil {
		return fmt.Errorf("warehouse: record validation run: %w", err)
	}
	return nil
}

// RecordPipelineRun stores a finished pipeline run.
func (d *Warehouse) RecordPipelineRun(ctx context.Context, workflowID, runID, status string, result []byte) error {
	_, err := d.db.ExecContext(ctx, duckSQL(duckPipelineRunInsert), workflowID, runID, time.Now().UTC(), status, string(result))
	if err != nil {
		return fmt.Errorf("warehouse: record pipeline run: %w", err)
	}
	return nil
}

// RecordDataset stores a seeded data set as the current one.
func (d *Warehouse) RecordDataset(ctx context.Context, key string, doc []byte) error {
	return d.withTx(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, duckSQL(duckDatasetDelete), key); err != nil {
			return fmt.Errorf("warehouse: record data set: %w", err)
		}
		if _, err := conn.ExecContext(ctx, duckSQL(duckDatasetInsert), key, string(doc), time.Now().UTC()); err != nil {
			return fmt.Errorf("warehouse: record data set: %w", err)
		}
		return nil
	})
}

// CurrentDataset returns the data set recorded last.
func (d *Warehouse) CurrentDataset(ctx context.Context) ([]byte, bool, error) {
	var body string
	err := d.db.QueryRowContext(ctx, duckSQL(duckDatasetCurrent)).Scan(&body)
	return warehouse.Document(body, err, "current data set")
}
