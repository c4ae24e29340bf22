package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dropflow/dropflow/internal/params"
)

// mergeWindow bounds one merge transaction to this many offsets per
// partition, so that its temporary tables (kept in memory) stay small however
// large the backlog; MergeOrders runs windows until RAW has nothing new.
const mergeWindow = 100_000

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
