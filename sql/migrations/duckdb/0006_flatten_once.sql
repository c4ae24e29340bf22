-- The same flattening as 0001's view, each payload parsed once (json_transform into a struct
-- of texts, then the same casts) instead of once per extracted field: the merge reads this
-- view for every new event.
CREATE OR REPLACE VIEW staging.orders_events_flat AS
SELECT
    event_id,
    event_type,
    CAST(f.event_version AS INTEGER)             AS event_version,
    CAST(f."order".order_id AS BIGINT)           AS order_id,
    CAST(f."order".customer_id AS BIGINT)        AS customer_id,
    CAST(f."order".product_id AS BIGINT)         AS product_id,
    CAST(f."order".quantity AS INTEGER)          AS quantity,
    CAST(f."order".unit_price AS DECIMAL(12, 2)) AS unit_price,
    f."order".status                             AS status,
    CAST(CAST(f."order".sold_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS sold_at,
    produced_at,
    kafka_topic,
    kafka_partition,
    kafka_offset,
    ingested_at
FROM (
    SELECT *, json_transform(payload, '{"event_version": "VARCHAR", "order": {"order_id": "VARCHAR", "customer_id": "VARCHAR", "product_id": "VARCHAR", "quantity": "VARCHAR", "unit_price": "VARCHAR", "status": "VARCHAR", "sold_at": "VARCHAR"}}') AS f
    FROM raw.orders_events
) e;
