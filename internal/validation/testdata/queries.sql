-- freshness
SELECT count(*) FROM raw.orders_events WHERE ingested_at >= ?;

-- last_merge
SELECT max(finished_at) FROM ops.merge_runs;

-- newest_event_age
SELECT max(ingested_at) FROM raw.orders_events;

-- prod_duplicate_order_ids
SELECT count(*) FROM (SELECT order_id FROM prod.orders GROUP BY order_id HAVING count(*) > 1) d;

-- prod_future_timestamps
SELECT count(*) FROM prod.orders WHERE sold_at > ?;

-- prod_negative_price
SELECT count(*) FROM prod.orders WHERE unit_price IS NULL OR unit_price < 0;

-- prod_non_positive_quantity
SELECT count(*) FROM prod.orders WHERE quantity IS NULL OR quantity <= 0;

-- prod_null_keys
SELECT count(*) FROM prod.orders WHERE order_id IS NULL OR customer_id IS NULL OR product_id IS NULL;

-- prod_orders_missing_in_raw
SELECT count(*) FROM prod.orders p WHERE NOT EXISTS (SELECT 1 FROM staging.orders_events_flat r WHERE r.order_id = p.order_id);

-- prod_orders_unknown_customer
SELECT count(*) FROM prod.orders o LEFT JOIN prod.customers c ON c.customer_id = o.customer_id WHERE c.customer_id IS NULL;

-- prod_orders_unknown_product
SELECT count(*) FROM prod.orders o LEFT JOIN prod.inventory i ON i.product_id = o.product_id WHERE i.product_id IS NULL;

-- prod_total_mismatch
SELECT count(*) FROM prod.orders WHERE total_amount <> quantity * unit_price;

-- prod_version_behind_raw
SELECT count(*) FROM prod.orders p WHERE EXISTS (SELECT 1 FROM staging.orders_events_flat r
WHERE r.order_id = p.order_id AND r.event_version > p.event_version AND r.ingested_at < ?);

-- raw_duplicate_event_ids
SELECT count(*) FROM (SELECT event_id FROM raw.orders_events GROUP BY event_id HAVING count(*) > 1) d;

-- raw_event_id_conflicts
SELECT count(*) FROM raw.orders_events_rejected WHERE reason = 'event_id_conflict';

-- raw_orders_awaiting_merge
SELECT count(*) FROM (SELECT order_id, min(ingested_at) AS first_ingested FROM staging.orders_events_flat GROUP BY order_id) r
LEFT JOIN prod.orders p ON p.order_id = r.order_id WHERE p.order_id IS NULL AND r.first_ingested >= ?;

-- raw_orders_missing_in_prod
SELECT count(*) FROM (SELECT order_id, min(ingested_at) AS first_ingested FROM staging.orders_events_flat GROUP BY order_id) r
LEFT JOIN prod.orders p ON p.order_id = r.order_id WHERE p.order_id IS NULL AND r.first_ingested < ?;

-- raw_rejected_events
SELECT count(*) FROM raw.orders_events_rejected;

-- rejects_since_last_validation
SELECT count(*) FROM raw.orders_events_rejected WHERE rejected_at > (SELECT coalesce(max(ran_at), CAST('1970-01-01' AS TIMESTAMP)) FROM ops.validation_runs);

-- top_reject_reasons
SELECT reason, count(*) AS n FROM raw.orders_events_rejected GROUP BY reason ORDER BY n DESC, reason LIMIT 5;

