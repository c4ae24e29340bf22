-- conflicts
SELECT count(*) FROM raw.orders_events_rejected WHERE reason = 'event_id_conflict';

-- eventsIn
SELECT count(*) FROM raw.orders_events WHERE ingested_at >= ?;

-- eventsOut
SELECT count(*) FROM prod.orders WHERE merged_at >= ?;

-- kpis
SELECT count(*), CAST(sum(total_amount) AS DOUBLE), count(DISTINCT customer_id), count(DISTINCT product_id), CAST(avg(total_amount) AS DOUBLE)
FROM prod.orders WHERE sold_at >= ?;

-- lastMerge
SELECT finished_at, inserted, updated, nothing_new FROM ops.merge_runs ORDER BY finished_at DESC LIMIT 1;

-- prodPerMinute
SELECT date_trunc('minute', merged_at), count(*) FROM prod.orders WHERE merged_at >= ? GROUP BY 1 ORDER BY 1;

-- rawPerMinute
SELECT date_trunc('minute', ingested_at), count(*) FROM raw.orders_events WHERE ingested_at >= ? GROUP BY 1 ORDER BY 1;

-- recentOrders
SELECT o.order_id, coalesce(c.name, 'customer ' || o.customer_id), coalesce(i.product_name, 'product ' || o.product_id),
  o.quantity, CAST(o.unit_price AS DOUBLE), CAST(o.total_amount AS DOUBLE), o.sold_at
FROM prod.orders o LEFT JOIN prod.customers c ON c.customer_id = o.customer_id LEFT JOIN prod.inventory i ON i.product_id = o.product_id
ORDER BY o.sold_at DESC, o.order_id DESC LIMIT ?;

-- topProducts
SELECT o.product_id, coalesce(i.product_name, 'product ' || o.product_id), coalesce(i.category, ''),
  sum(o.quantity), CAST(sum(o.total_amount) AS DOUBLE), count(*)
FROM prod.orders o LEFT JOIN prod.inventory i ON i.product_id = o.product_id
WHERE o.sold_at >= ? GROUP BY 1, 2, 3 ORDER BY 5 DESC, 1 LIMIT 5;

