package duckdb

import (
	"fmt"
	"strings"
)

// DuckDB statement names: every statement the DuckDB adapter sends (but
// the session settings) is here by name, and testdata/duckdb/<name>.sql pins
// its text (TestDuckDBStatementsGolden), as ../snowflake/sql.go does for
// Snowflake.
const (
	duckCustomersLoad     = "customers_load"
	duckDatasetCurrent    = "dataset_current"
	duckDatasetDelete     = "dataset_delete"
	duckDatasetInsert     = "dataset_insert"
	duckHasUnmerged       = "has_unmerged"
	duckInventoryLoad     = "inventory_load"
	duckLoadIDsCreate     = "load_ids_create"
	duckLoadIDsDrop       = "load_ids_drop"
	duckLoadIDsLookup     = "load_ids_lookup"
	duckMemory            = "memory"
	duckMergeClassify     = "merge_classify"
	duckMergeCount        = "merge_count"
	duckMergeDedupCreate  = "merge_dedup_create"
	duckMergeDedupDrop    = "merge_dedup_drop"
	duckMergeLagSample    = "merge_lag_sample"
	duckMergeOrders       = "merge_orders"
	duckMergePositions    = "merge_positions"
	duckMergeRunInsert    = "merge_run_insert"
	duckMergeBranch       = "merge_window_branch"
	duckOffsetInit        = "offset_init"
	duckOffsetMove        = "offset_move"
	duckOffsetRead        = "offset_read"
	duckPipelineRunInsert = "pipeline_run_insert"
	duckRawAppend         = "raw_append"
	duckRawEventIDs       = "raw_event_ids"
	duckValidationInsert  = "validation_insert"
	duckWatermarkAdvance  = "watermark_advance"
)

var duckStatements = map[string]string{
	// The Appender's rows arrive as appended_data with the payload as
	// VARCHAR: DuckDB's cast checks the JSON in C, where the driver's JSON
	// column path would re-marshal every document in Go (a tenth of the
	// drain's CPU).
	duckRawAppend: `
INSERT INTO raw.orders_events
SELECT event_id, event_type, CAST(payload AS JSON), kafka_topic, kafka_partition, kafka_offset, produced_at, ingested_at, content_hash FROM appended_data`,
	duckCustomersLoad: `
INSERT OR REPLACE INTO prod.customers
SELECT customer_id, name, email, city, channel, created_at, ? FROM read_csv(%s, header = true, auto_detect = false,
  columns = {'customer_id': 'BIGINT', 'name': 'VARCHAR', 'email': 'VARCHAR', 'city': 'VARCHAR', 'channel': 'VARCHAR', 'created_at': 'TIMESTAMP'},
  timestampformat = '%%Y-%%m-%%dT%%H:%%M:%%SZ')`,
	duckDatasetCurrent: `SELECT CAST(dataset AS VARCHAR) FROM ops.seed_datasets ORDER BY recorded_at DESC LIMIT 1`,
	duckDatasetDelete:  `DELETE FROM ops.seed_datasets WHERE dataset_key = ?`,
	duckDatasetInsert:  `INSERT INTO ops.seed_datasets VALUES (?, ?, ?)`,
	duckHasUnmerged: `SELECT EXISTS (SELECT 1
FROM ops.kafka_offsets o LEFT JOIN ops.merge_watermark w ON w.topic = o.topic AND w."partition" = o."partition"
WHERE o.next_offset > COALESCE(w.merged_offset, 0))`,
	duckInventoryLoad: `
INSERT OR REPLACE INTO prod.inventory
SELECT product_id, product_name, category, unit_price, stock_quantity, updated_at, ? FROM read_csv(%s, header = true, auto_detect = false,
  columns = {'product_id': 'BIGINT', 'product_name': 'VARCHAR', 'category': 'VARCHAR', 'unit_price': 'DECIMAL(12,2)', 'stock_quantity': 'INTEGER', 'updated_at': 'TIMESTAMP'},
  timestampformat = '%%Y-%%m-%%dT%%H:%%M:%%SZ')`,
	duckLoadIDsCreate: `CREATE OR REPLACE TEMP TABLE load_ids (event_id VARCHAR, content_hash VARCHAR)`,
	duckLoadIDsDrop:   `DROP TABLE load_ids`,
	duckLoadIDsLookup: `SELECT i.event_id, r.kafka_partition, r.kafka_offset,
  CASE WHEN r.content_hash <> i.content_hash THEN CAST(r.payload AS VARCHAR) END
FROM load_ids i JOIN raw.orders_events r ON r.event_id = i.event_id`,
	duckMemory: `SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory() ORDER BY memory_usage_bytes DESC, tag`,
	duckMergeClassify: `
SELECT
  count(*) FILTER (WHERE p.order_id IS NULL),
  count(*) FILTER (WHERE p.order_id IS NOT NULL AND s.event_version > p.event_version),
  count(*) FILTER (WHERE p.order_id IS NOT NULL AND s.event_version <= p.event_version)
FROM merge_dedup s LEFT JOIN prod.orders p ON p.order_id = s.order_id`,
	duckMergeCount: `SELECT count(*) FROM ({{SOURCE}})`,
	duckMergeDedupCreate: `
CREATE OR REPLACE TEMP TABLE merge_dedup AS
SELECT * FROM ({{SOURCE}})
QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY event_version DESC, kafka_offset DESC) = 1`,
	duckMergeDedupDrop: `DROP TABLE merge_dedup`,
	duckMergeLagSample: `SELECT epoch(CAST(? AS TIMESTAMP)) - epoch(produced_at) FROM merge_dedup WHERE produced_at IS NOT NULL USING SAMPLE 1000 ROWS`,
	duckMergeOrders: `
MERGE INTO prod.orders t
USING merge_dedup s ON t.order_id = s.order_id
WHEN MATCHED AND s.event_version > t.event_version THEN UPDATE SET
  customer_id = s.customer_id, product_id = s.product_id, quantity = s.quantity, unit_price = s.unit_price,
  total_amount = s.quantity * s.unit_price, status = s.status, sold_at = s.sold_at,
  event_id = s.event_id, event_version = s.event_version, merged_at = ?
WHEN NOT MATCHED THEN INSERT (order_id, customer_id, product_id, quantity, unit_price, total_amount, status, sold_at, event_id, event_version, merged_at)
  VALUES (s.order_id, s.customer_id, s.product_id, s.quantity, s.unit_price, s.quantity * s.unit_price, s.status, s.sold_at, s.event_id, s.event_version, ?)`,
	duckMergePositions: `SELECT o.topic, o."partition", COALESCE(w.merged_offset, 0), o.next_offset
FROM ops.kafka_offsets o LEFT JOIN ops.merge_watermark w ON w.topic = o.topic AND w."partition" = o."partition"
ORDER BY 1, 2`,
	duckMergeRunInsert:    `INSERT INTO ops.merge_runs VALUES (?, ?, ?, ?, ?, ?, ?)`,
	duckMergeBranch:       `SELECT * FROM staging.orders_events_flat WHERE kafka_topic = ? AND kafka_partition = ? AND kafka_offset >= ? AND kafka_offset < ?`,
	duckOffsetInit:        `INSERT INTO ops.kafka_offsets VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
	duckOffsetMove:        `UPDATE ops.kafka_offsets SET next_offset = ?, updated_at = ? WHERE topic = ? AND "partition" = ? AND next_offset = ?`,
	duckOffsetRead:        `SELECT next_offset FROM ops.kafka_offsets WHERE topic = ? AND "partition" = ?`,
	duckPipelineRunInsert: `INSERT INTO ops.pipeline_runs VALUES (?, ?, ?, ?, ?)`,
	duckRawEventIDs:       `SELECT event_id FROM raw.orders_events`,
	duckValidationInsert:  `INSERT INTO ops.validation_runs VALUES (?, ?, ?, ?, ?, ?, ?)`,
	duckWatermarkAdvance: `INSERT INTO ops.merge_watermark VALUES (?, ?, ?, ?)
ON CONFLICT (topic, "partition") DO UPDATE SET merged_offset = excluded.merged_offset, updated_at = excluded.updated_at`,
}

// duckSQL returns a DuckDB statement by name; an unknown name is a bug.
func duckSQL(name string) string {
	q, ok := duckStatements[name]
	if !ok {
		panic(fmt.Sprintf("warehouse: no DuckDB statement %q", name))
	}
	return q
}

// withSource renders a statement over a source query ({{SOURCE}}): the
// merge's UNION ALL of one branch per partition window.
func withSource(name, source string) string {
	return strings.Replace(duckSQL(name), "{{SOURCE}}", source, 1)
}
