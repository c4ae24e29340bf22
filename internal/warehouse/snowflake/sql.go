package snowflake

import (
	"fmt"
	"sort"
	"strings"
)

// Every statement the Snowflake adapter sends, by name, with {{TOKEN}}
// placeholders for validated identifiers ({{DATABASE}}, {{WAREHOUSE}}) and
// for generated stage paths ({{FILE}}, {{PREFIX}}); values are always bind
// parameters. testdata/snowflake/*.sql pins each one (golden files), so a
// reviewer reads in the repository exactly what reaches Snowflake.
const (
	snowBootstrapDatabase = "bootstrap_database"
	snowBootstrapSchema   = "bootstrap_schema"
	snowBootstrapTable    = "bootstrap_migrations_table"
	snowMigrationsRead    = "migrations_read"
	snowMigrationsRecord  = "migrations_record"
	snowTaskResume        = "task_resume"
	snowTaskSuspend       = "task_suspend"

	snowOffsetGet  = "offset_get"
	snowOffsetInit = "offset_init"
	snowOffsetMove = "offset_move"

	snowLoadCreate    = "load_events_create"
	snowLoadClear     = "load_events_clear"
	snowLoadInsert    = "load_events_insert"
	snowLoadPut       = "load_events_put"
	snowLoadCopy      = "load_events_copy"
	snowLoadRemove    = "load_events_remove"
	snowLoadPublish   = "load_events_publish"
	snowRejects       = "rejects_insert"
	snowLoadConflicts = "load_events_conflicts"

	snowMergeHasData  = "merge_has_data"
	snowMergeLock     = "merge_lock"
	snowMergeCreate   = "merge_source_create"
	snowMergeClear    = "merge_source_clear"
	snowMergeFill     = "merge_source_fill"
	snowMergeClassify = "merge_classify"
	snowMergeOrders   = "merge_orders"
	snowMergeLags     = "merge_lag_sample"
	snowMergeRun      = "merge_run_insert"

	snowSeedPut             = "seed_put"
	snowSeedRemove          = "seed_remove"
	snowCustomersCreate     = "customers_load_create"
	snowCustomersClear      = "customers_load_clear"
	snowCustomersCopy       = "customers_copy"
	snowCustomersMerge      = "customers_merge"
	snowInventoryCreate     = "inventory_load_create"
	snowInventoryClear      = "inventory_load_clear"
	snowInventoryCopy       = "inventory_copy"
	snowInventoryMerge      = "inventory_merge"
	snowValidationInsert    = "validation_run_insert"
	snowPipelineRunInsert   = "pipeline_run_insert"
	snowDatasetDelete       = "dataset_delete"
	snowDatasetInsert       = "dataset_insert"
	snowDatasetCurrent      = "dataset_current"
	snowDatabaseReady       = "database_ready"
	snowBegin               = "begin"
	snowShowTxns            = "transactions_show"
	snowAbortTxn            = "transaction_abort"
	snowCommit              = "commit"
	snowRollback            = "rollback"
	snowDashboardDailyQuery = "dashboard_daily"
	snowDashboardLastReport = "dashboard_last_validation"
)

// snowFlatColumns flattens one RAW event: the STAGING view and the task's
// MERGE (sql/migrations/snowflake/0001_init.sql) repeat these expressions, and a test
// holds them equal.
const snowFlatColumns = `EVENT_ID,
    EVENT_TYPE,
    PAYLOAD:event_version::INTEGER AS EVENT_VERSION,
    PAYLOAD:order:order_id::BIGINT AS ORDER_ID,
    PAYLOAD:order:customer_id::BIGINT AS CUSTOMER_ID,
    PAYLOAD:order:product_id::BIGINT AS PRODUCT_ID,
    PAYLOAD:order:quantity::INTEGER AS QUANTITY,
    PAYLOAD:order:unit_price::NUMBER(12, 2) AS UNIT_PRICE,
    PAYLOAD:order:status::STRING AS STATUS,
    PAYLOAD:order:sold_at::TIMESTAMP_NTZ AS SOLD_AT,
    PRODUCED_AT,
    KAFKA_TOPIC,
    KAFKA_PARTITION,
    KAFKA_OFFSET,
    INGESTED_AT`

// snowNewestPerOrder keeps, per order, the newest event: highest version, then latest offset.
const snowNewestPerOrder = `QUALIFY ROW_NUMBER() OVER (PARTITION BY ORDER_ID ORDER BY EVENT_VERSION DESC, KAFKA_OFFSET DESC) = 1`

// snowMergeTemplate is the MERGE of both drivers: {{SOURCE}} is the
// deduplicated new events (the activity's temporary table, or the stream
// itself in the native task).
const snowMergeTemplate = `MERGE INTO {{DATABASE}}.PROD.ORDERS t
USING (
  {{SOURCE}}
) s
ON t.ORDER_ID = s.ORDER_ID
WHEN MATCHED AND s.EVENT_VERSION > t.EVENT_VERSION THEN UPDATE SET
  CUSTOMER_ID = s.CUSTOMER_ID, PRODUCT_ID = s.PRODUCT_ID, QUANTITY = s.QUANTITY, UNIT_PRICE = s.UNIT_PRICE,
  TOTAL_AMOUNT = s.QUANTITY * s.UNIT_PRICE, STATUS = s.STATUS, SOLD_AT = s.SOLD_AT,
  EVENT_ID = s.EVENT_ID, EVENT_VERSION = s.EVENT_VERSION, MERGED_AT = SYSDATE()
WHEN NOT MATCHED THEN INSERT (ORDER_ID, CUSTOMER_ID, PRODUCT_ID, QUANTITY, UNIT_PRICE, TOTAL_AMOUNT, STATUS, SOLD_AT, EVENT_ID, EVENT_VERSION, MERGED_AT)
  VALUES (s.ORDER_ID, s.CUSTOMER_ID, s.PRODUCT_ID, s.QUANTITY, s.UNIT_PRICE, s.QUANTITY * s.UNIT_PRICE, s.STATUS, s.SOLD_AT, s.EVENT_ID, s.EVENT_VERSION, SYSDATE())`

const snowMergeSourceColumns = `EVENT_ID STRING, EVENT_TYPE STRING, EVENT_VERSION INTEGER, ORDER_ID BIGINT, CUSTOMER_ID BIGINT,
  PRODUCT_ID BIGINT, QUANTITY INTEGER, UNIT_PRICE NUMBER(12, 2), STATUS STRING, SOLD_AT TIMESTAMP_NTZ,
  PRODUCED_AT TIMESTAMP_NTZ, KAFKA_TOPIC STRING, KAFKA_PARTITION INTEGER, KAFKA_OFFSET BIGINT, INGESTED_AT TIMESTAMP_NTZ`

// The seed CSVs' timestamps are RFC 3339 UTC (2026-01-31T12:00:00Z).
const snowSeedFormat = `FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '"' TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS"Z"' EMPTY_FIELD_AS_NULL = TRUE)`

var snowStatements = map[string]string{
	snowBootstrapDatabase: `CREATE DATABASE IF NOT EXISTS {{DATABASE}}`,
	snowBootstrapSchema:   `CREATE SCHEMA IF NOT EXISTS {{DATABASE}}.OPS`,
	snowBootstrapTable:    `CREATE TABLE IF NOT EXISTS {{DATABASE}}.OPS.SCHEMA_MIGRATIONS (VERSION STRING NOT NULL PRIMARY KEY, CHECKSUM STRING NOT NULL, APPLIED_AT TIMESTAMP_NTZ NOT NULL)`,
	snowMigrationsRead:    `SELECT VERSION, CHECKSUM FROM {{DATABASE}}.OPS.SCHEMA_MIGRATIONS`,
	snowMigrationsRecord:  `INSERT INTO {{DATABASE}}.OPS.SCHEMA_MIGRATIONS (VERSION, CHECKSUM, APPLIED_AT) VALUES (?, ?, ?)`,
	snowTaskResume:        `ALTER TASK {{DATABASE}}.PROD.MERGE_ORDERS_TASK RESUME`,
	snowTaskSuspend:       `ALTER TASK {{DATABASE}}.PROD.MERGE_ORDERS_TASK SUSPEND`,

	snowOffsetGet: `SELECT NEXT_OFFSET FROM {{DATABASE}}.OPS.KAFKA_OFFSETS WHERE TOPIC = ? AND "PARTITION" = ?`,
	// Snowflake does not enforce primary keys: MERGE is the insert-if-absent.
	snowOffsetInit: `MERGE INTO {{DATABASE}}.OPS.KAFKA_OFFSETS t
USING (SELECT ? AS TOPIC, ? AS "PARTITION", ? AS NEXT_OFFSET, ? AS UPDATED_AT) s
ON t.TOPIC = s.TOPIC AND t."PARTITION" = s."PARTITION"
WHEN NOT MATCHED THEN INSERT (TOPIC, "PARTITION", NEXT_OFFSET, UPDATED_AT) VALUES (s.TOPIC, s."PARTITION", s.NEXT_OFFSET, s.UPDATED_AT)`,
	snowOffsetMove: `UPDATE {{DATABASE}}.OPS.KAFKA_OFFSETS SET NEXT_OFFSET = ?, UPDATED_AT = ? WHERE TOPIC = ? AND "PARTITION" = ? AND NEXT_OFFSET = ?`,

	snowLoadCreate: `CREATE TEMPORARY TABLE IF NOT EXISTS {{DATABASE}}.RAW.LOAD_EVENTS (EVENT_ID STRING, EVENT_TYPE STRING, PAYLOAD VARIANT, KAFKA_OFFSET BIGINT, PRODUCED_AT TIMESTAMP_NTZ, CONTENT_HASH STRING)`,
	snowLoadClear:  `DELETE FROM {{DATABASE}}.RAW.LOAD_EVENTS`,
	// VARIANT is never bound inside VALUES (Snowflake refuses PARSE_JSON there):
	// INSERT … SELECT with array binding, one row per array element.
	snowLoadInsert: `INSERT INTO {{DATABASE}}.RAW.LOAD_EVENTS (EVENT_ID, EVENT_TYPE, PAYLOAD, KAFKA_OFFSET, PRODUCED_AT, CONTENT_HASH)
SELECT ?, ?, PARSE_JSON(?), ?, TO_TIMESTAMP_NTZ(NULLIF(?, '')), NULLIF(?, '')`,
	snowLoadPut: `PUT 'file://{{FILE}}' @{{DATABASE}}.RAW.LOAD_STAGE/{{PREFIX}} SOURCE_COMPRESSION = GZIP AUTO_COMPRESS = FALSE OVERWRITE = TRUE`,
	snowLoadCopy: `COPY INTO {{DATABASE}}.RAW.LOAD_EVENTS (EVENT_ID, EVENT_TYPE, PAYLOAD, KAFKA_OFFSET, PRODUCED_AT, CONTENT_HASH)
FROM (SELECT $1:event_id::STRING, $1:event_type::STRING, $1:payload, $1:kafka_offset::BIGINT, $1:produced_at::TIMESTAMP_NTZ, $1:content_hash::STRING FROM @{{DATABASE}}.RAW.LOAD_STAGE/{{PREFIX}})
FILE_FORMAT = (TYPE = JSON) ON_ERROR = ABORT_STATEMENT`,
	snowLoadRemove: `REMOVE @{{DATABASE}}.RAW.LOAD_STAGE/{{PREFIX}}`,
	// Resends (an event_id already in RAW) are skipped here, in the batch's transaction.
	snowLoadPublish: `INSERT INTO {{DATABASE}}.RAW.ORDERS_EVENTS (EVENT_ID, EVENT_TYPE, PAYLOAD, KAFKA_TOPIC, KAFKA_PARTITION, KAFKA_OFFSET, PRODUCED_AT, INGESTED_AT, CONTENT_HASH)
SELECT l.EVENT_ID, l.EVENT_TYPE, l.PAYLOAD, ?, ?, l.KAFKA_OFFSET, l.PRODUCED_AT, ?, l.CONTENT_HASH
FROM {{DATABASE}}.RAW.LOAD_EVENTS l
WHERE NOT EXISTS (SELECT 1 FROM {{DATABASE}}.RAW.ORDERS_EVENTS r WHERE r.EVENT_ID = l.EVENT_ID)`,
	snowRejects: `INSERT INTO {{DATABASE}}.RAW.ORDERS_EVENTS_REJECTED (KAFKA_TOPIC, KAFKA_PARTITION, KAFKA_OFFSET, KAFKA_KEY, RAW_VALUE, REASON, ERROR, REJECTED_AT, CONFLICT_PARTITION, CONFLICT_OFFSET, CONFLICT_VALUE)
SELECT ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?, CAST(NULLIF(?, '') AS INTEGER), CAST(NULLIF(?, '') AS BIGINT), NULLIF(?, '')`,
	// An event whose id RAW holds with other content (a stored event without
	// a fingerprint predates them: a duplicate) is a conflict, kept with both values.
	snowLoadConflicts: `INSERT INTO {{DATABASE}}.RAW.ORDERS_EVENTS_REJECTED (KAFKA_TOPIC, KAFKA_PARTITION, KAFKA_OFFSET, KAFKA_KEY, RAW_VALUE, REASON, ERROR, REJECTED_AT, CONFLICT_PARTITION, CONFLICT_OFFSET, CONFLICT_VALUE)
SELECT ?, ?, l.KAFKA_OFFSET, NULL, TO_JSON(l.PAYLOAD), 'event_id_conflict', 'event_id is already loaded with other content (at conflict_partition, conflict_offset); a resend must carry the same content', ?, r.KAFKA_PARTITION, r.KAFKA_OFFSET, TO_JSON(r.PAYLOAD)
FROM {{DATABASE}}.RAW.LOAD_EVENTS l
JOIN {{DATABASE}}.RAW.ORDERS_EVENTS r ON r.EVENT_ID = l.EVENT_ID
WHERE r.CONTENT_HASH <> l.CONTENT_HASH`,

	snowMergeHasData: `SELECT SYSTEM$STREAM_HAS_DATA('{{DATABASE}}.RAW.ORDERS_STREAM')`,
	snowMergeCreate:  "CREATE TEMPORARY TABLE IF NOT EXISTS {{DATABASE}}.STAGING.MERGE_SOURCE (\n  " + snowMergeSourceColumns + "\n)",
	snowMergeClear:   `DELETE FROM {{DATABASE}}.STAGING.MERGE_SOURCE`,
	// First in the merge transaction: serialises merges across workers.
	snowMergeLock: `UPDATE {{DATABASE}}.OPS.MERGE_LOCK SET LOCKED_AT = ?, LOCKED_BY = ? WHERE ID = 1`,
	// Reading the stream in a DML advances its offset when the transaction commits.
	snowMergeFill: "INSERT INTO {{DATABASE}}.STAGING.MERGE_SOURCE\nSELECT\n    " + snowFlatColumns + "\nFROM {{DATABASE}}.RAW.ORDERS_STREAM",
	snowMergeClassify: `SELECT
  COUNT_IF(p.ORDER_ID IS NULL),
  COUNT_IF(p.ORDER_ID IS NOT NULL AND s.EVENT_VERSION > p.EVENT_VERSION),
  COUNT_IF(p.ORDER_ID IS NOT NULL AND s.EVENT_VERSION <= p.EVENT_VERSION)
FROM (SELECT * FROM {{DATABASE}}.STAGING.MERGE_SOURCE ` + snowNewestPerOrder + `) s
LEFT JOIN {{DATABASE}}.PROD.ORDERS p ON p.ORDER_ID = s.ORDER_ID`,
	snowMergeOrders: strings.Replace(snowMergeTemplate, "{{SOURCE}}", "SELECT * FROM {{DATABASE}}.STAGING.MERGE_SOURCE\n  "+snowNewestPerOrder, 1),
	snowMergeLags:   `SELECT DATEDIFF(millisecond, PRODUCED_AT, ?) / 1000.0 FROM {{DATABASE}}.STAGING.MERGE_SOURCE WHERE PRODUCED_AT IS NOT NULL LIMIT 1000`,
	snowMergeRun: `INSERT INTO {{DATABASE}}.OPS.MERGE_RUNS (STARTED_AT, FINISHED_AT, SOURCE_EVENTS, INSERTED, UPDATED, UNCHANGED, NOTHING_NEW)
VALUES (?, ?, ?, ?, ?, ?, ?)`,

	snowSeedPut:         `PUT 'file://{{FILE}}' @{{DATABASE}}.PROD.SEED_STAGE/{{PREFIX}} AUTO_COMPRESS = TRUE OVERWRITE = TRUE`,
	snowSeedRemove:      `REMOVE @{{DATABASE}}.PROD.SEED_STAGE/{{PREFIX}}`,
	snowCustomersCreate: `CREATE TEMPORARY TABLE IF NOT EXISTS {{DATABASE}}.PROD.CUSTOMERS_LOAD (CUSTOMER_ID BIGINT, NAME STRING, EMAIL STRING, CITY STRING, CHANNEL STRING, CREATED_AT TIMESTAMP_NTZ)`,
	snowCustomersClear:  `DELETE FROM {{DATABASE}}.PROD.CUSTOMERS_LOAD`,
	snowCustomersCopy: `COPY INTO {{DATABASE}}.PROD.CUSTOMERS_LOAD (CUSTOMER_ID, NAME, EMAIL, CITY, CHANNEL, CREATED_AT)
FROM @{{DATABASE}}.PROD.SEED_STAGE/{{PREFIX}}
` + snowSeedFormat + ` FORCE = TRUE ON_ERROR = ABORT_STATEMENT`,
	snowCustomersMerge: `MERGE INTO {{DATABASE}}.PROD.CUSTOMERS t
USING {{DATABASE}}.PROD.CUSTOMERS_LOAD s ON t.CUSTOMER_ID = s.CUSTOMER_ID
WHEN MATCHED THEN UPDATE SET NAME = s.NAME, EMAIL = s.EMAIL, CITY = s.CITY, CHANNEL = s.CHANNEL, CREATED_AT = s.CREATED_AT, LOADED_AT = ?
WHEN NOT MATCHED THEN INSERT (CUSTOMER_ID, NAME, EMAIL, CITY, CHANNEL, CREATED_AT, LOADED_AT)
  VALUES (s.CUSTOMER_ID, s.NAME, s.EMAIL, s.CITY, s.CHANNEL, s.CREATED_AT, ?)`,
	snowInventoryCreate: `CREATE TEMPORARY TABLE IF NOT EXISTS {{DATABASE}}.PROD.INVENTORY_LOAD (PRODUCT_ID BIGINT, PRODUCT_NAME STRING, CATEGORY STRING, UNIT_PRICE NUMBER(12, 2), STOCK_QUANTITY INTEGER, UPDATED_AT TIMESTAMP_NTZ)`,
	snowInventoryClear:  `DELETE FROM {{DATABASE}}.PROD.INVENTORY_LOAD`,
	snowInventoryCopy: `COPY INTO {{DATABASE}}.PROD.INVENTORY_LOAD (PRODUCT_ID, PRODUCT_NAME, CATEGORY, UNIT_PRICE, STOCK_QUANTITY, UPDATED_AT)
FROM @{{DATABASE}}.PROD.SEED_STAGE/{{PREFIX}}
` + snowSeedFormat + ` FORCE = TRUE ON_ERROR = ABORT_STATEMENT`,
	snowInventoryMerge: `MERGE INTO {{DATABASE}}.PROD.INVENTORY t
USING {{DATABASE}}.PROD.INVENTORY_LOAD s ON t.PRODUCT_ID = s.PRODUCT_ID
WHEN MATCHED THEN UPDATE SET PRODUCT_NAME = s.PRODUCT_NAME, CATEGORY = s.CATEGORY, UNIT_PRICE = s.UNIT_PRICE, STOCK_QUANTITY = s.STOCK_QUANTITY, UPDATED_AT = s.UPDATED_AT, LOADED_AT = ?
WHEN NOT MATCHED THEN INSERT (PRODUCT_ID, PRODUCT_NAME, CATEGORY, UNIT_PRICE, STOCK_QUANTITY, UPDATED_AT, LOADED_AT)
  VALUES (s.PRODUCT_ID, s.PRODUCT_NAME, s.CATEGORY, s.UNIT_PRICE, s.STOCK_QUANTITY, s.UPDATED_AT, ?)`,
	snowValidationInsert: `INSERT INTO {{DATABASE}}.OPS.VALIDATION_RUNS (RUN_ID, RAN_AT, STATUS, PASSED, WARNED, FAILED, REPORT)
SELECT ?, ?, ?, ?, ?, ?, PARSE_JSON(?)`,
	snowPipelineRunInsert: `INSERT INTO {{DATABASE}}.OPS.PIPELINE_RUNS (WORKFLOW_ID, RUN_ID, FINISHED_AT, STATUS, RESULT)
SELECT ?, ?, ?, ?, PARSE_JSON(?)`,
	snowDatasetDelete: `DELETE FROM {{DATABASE}}.OPS.SEED_DATASETS WHERE DATASET_KEY = ?`,
	snowDatasetInsert: `INSERT INTO {{DATABASE}}.OPS.SEED_DATASETS (DATASET_KEY, DATASET, RECORDED_AT)
SELECT ?, PARSE_JSON(?), ?`,
	snowDatasetCurrent: `SELECT TO_JSON(DATASET) FROM {{DATABASE}}.OPS.SEED_DATASETS ORDER BY RECORDED_AT DESC LIMIT 1`,
	// Named after the activity attempt (or the process), so a later attempt
	// can find and abort what a dead one left open.
	snowBegin:    `BEGIN NAME {{TXN}}`,
	snowShowTxns: `SHOW TRANSACTIONS`,
	// Fully qualified: answers whether the first deploy has run, whatever the session's database.
	snowDatabaseReady: `SELECT COUNT(*) FROM {{DATABASE}}.OPS.SCHEMA_MIGRATIONS`,
	snowAbortTxn:      `SELECT SYSTEM$ABORT_TRANSACTION({{TXN_ID}})`,
	snowCommit:        `COMMIT`,
	snowRollback:      `ROLLBACK`,

	// Dialect-specific reads of the dashboard (the rest of its SQL and the
	// validation checks are portable and pinned by their own packages).
	snowDashboardDailyQuery: `SELECT TO_CHAR(DATE_TRUNC('day', sold_at), 'YYYY-MM-DD'), count(*), CAST(sum(total_amount) AS DOUBLE)
FROM prod.orders WHERE sold_at >= ? GROUP BY 1 ORDER BY 1`,
	snowDashboardLastReport: `SELECT ran_at, status, failed, warned, TO_JSON(report) FROM ops.validation_runs ORDER BY ran_at DESC LIMIT 1`,
}

// snowRender substitutes the tokens of a statement template.
func snowRender(tmpl string, tokens map[string]string) string {
	keys := make([]string, 0, len(tokens))
	for k := range tokens {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic output whatever the map order
	pairs := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, "{{"+k+"}}", tokens[k])
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}

// snowStatement returns a named statement with tokens substituted; an
// unknown name is a programming error.
func snowStatement(name string, tokens map[string]string) string {
	tmpl, ok := snowStatements[name]
	if !ok {
		panic(fmt.Sprintf("warehouse: no Snowflake statement %q", name))
	}
	return snowRender(tmpl, tokens)
}
