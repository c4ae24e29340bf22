-- Dropflow warehouse, DuckDB dialect. Timestamps are UTC, without time zone.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS prod;
CREATE SCHEMA IF NOT EXISTS ops;

-- Every Kafka record that decoded and validated, once (exactly once through ops.kafka_offsets).
CREATE TABLE raw.orders_events (
    event_id        VARCHAR   NOT NULL,
    event_type      VARCHAR   NOT NULL,
    payload         JSON      NOT NULL,
    kafka_topic     VARCHAR   NOT NULL,
    kafka_partition INTEGER   NOT NULL,
    kafka_offset    BIGINT    NOT NULL,
    produced_at     TIMESTAMP,
    ingested_at     TIMESTAMP NOT NULL
);

-- Records that did not decode or validate, with the reason; the partition moves on.
CREATE TABLE raw.orders_events_rejected (
    kafka_topic     VARCHAR   NOT NULL,
    kafka_partition INTEGER   NOT NULL,
    kafka_offset    BIGINT    NOT NULL,
    kafka_key       VARCHAR,
    raw_value       VARCHAR,
    reason          VARCHAR   NOT NULL,
    error           VARCHAR   NOT NULL,
    rejected_at     TIMESTAMP NOT NULL
);

-- Typed, flattened events: what MERGE reads.
CREATE VIEW staging.orders_events_flat AS
SELECT
    event_id,
    event_type,
    CAST(payload ->> 'event_version' AS INTEGER)             AS event_version,
    CAST(payload -> 'order' ->> 'order_id' AS BIGINT)         AS order_id,
    CAST(payload -> 'order' ->> 'customer_id' AS BIGINT)      AS customer_id,
    CAST(payload -> 'order' ->> 'product_id' AS BIGINT)       AS product_id,
    CAST(payload -> 'order' ->> 'quantity' AS INTEGER)        AS quantity,
    CAST(payload -> 'order' ->> 'unit_price' AS DECIMAL(12, 2)) AS unit_price,
    payload -> 'order' ->> 'status'                           AS status,
    CAST(CAST(payload -> 'order' ->> 'sold_at' AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS sold_at,
    produced_at,
    kafka_topic,
    kafka_partition,
    kafka_offset,
    ingested_at
FROM raw.orders_events;

CREATE TABLE prod.orders (
    order_id        BIGINT PRIMARY KEY,
    customer_id     BIGINT         NOT NULL,
    product_id      BIGINT         NOT NULL,
    quantity        INTEGER        NOT NULL,
    unit_price      DECIMAL(12, 2) NOT NULL,
    total_amount    DECIMAL(14, 2) NOT NULL,
    status          VARCHAR        NOT NULL,
    sold_at         TIMESTAMP      NOT NULL,
    event_id        VARCHAR        NOT NULL,
    event_version   INTEGER        NOT NULL,
    merged_at       TIMESTAMP      NOT NULL
);

CREATE TABLE prod.customers (
    customer_id BIGINT PRIMARY KEY,
    name        VARCHAR   NOT NULL,
    email       VARCHAR   NOT NULL,
    city        VARCHAR,
    channel     VARCHAR   NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
);

CREATE TABLE prod.inventory (
    product_id     BIGINT PRIMARY KEY,
    product_name   VARCHAR        NOT NULL,
    category       VARCHAR        NOT NULL,
    unit_price     DECIMAL(12, 2) NOT NULL,
    stock_quantity INTEGER        NOT NULL,
    updated_at     TIMESTAMP      NOT NULL,
    loaded_at      TIMESTAMP      NOT NULL
);

-- Next Kafka offset to load per partition: written in the same transaction as each batch.
CREATE TABLE ops.kafka_offsets (
    topic       VARCHAR   NOT NULL,
    "partition" INTEGER   NOT NULL,
    next_offset BIGINT    NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (topic, "partition")
);

-- DuckDB has no STREAM: the merge position is the next RAW offset to merge per partition.
-- One loader per partition commits offsets in order, so this never skips a committed row.
CREATE TABLE ops.merge_watermark (
    topic         VARCHAR   NOT NULL,
    "partition"   INTEGER   NOT NULL,
    merged_offset BIGINT    NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (topic, "partition")
);

CREATE TABLE ops.merge_runs (
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    source_events BIGINT    NOT NULL,
    inserted      BIGINT    NOT NULL,
    updated       BIGINT    NOT NULL,
    unchanged     BIGINT    NOT NULL,
    nothing_new   BOOLEAN   NOT NULL
);

CREATE TABLE ops.validation_runs (
    run_id  VARCHAR   NOT NULL,
    ran_at  TIMESTAMP NOT NULL,
    status  VARCHAR   NOT NULL,
    passed  INTEGER   NOT NULL,
    warned  INTEGER   NOT NULL,
    failed  INTEGER   NOT NULL,
    report  JSON      NOT NULL
);

CREATE TABLE ops.pipeline_runs (
    workflow_id VARCHAR   NOT NULL,
    run_id      VARCHAR   NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    status      VARCHAR   NOT NULL,
    result      JSON      NOT NULL
);
