package dashboard

// The dashboard's SQL, portable between the dialects (the two reads that
// differ come from warehouse.DialectQuery); golden-file tests pin it.
const (
	kpisQuery = `SELECT count(*), CAST(sum(total_amount) AS DOUBLE), count(DISTINCT customer_id), count(DISTINCT product_id), CAST(avg(total_amount) AS DOUBLE)
FROM prod.orders WHERE sold_at >= ?`
	topProductsQuery = `SELECT o.product_id, coalesce(i.product_name, 'product ' || o.product_id), coalesce(i.category, ''),
  sum(o.quantity), CAST(sum(o.total_amount) AS DOUBLE), count(*)
FROM prod.orders o LEFT JOIN prod.inventory i ON i.product_id = o.product_id
WHERE o.sold_at >= ? GROUP BY 1, 2, 3 ORDER BY 5 DESC, 1 LIMIT 5`
	recentOrdersQuery = `SELECT o.order_id, coalesce(c.name, 'customer ' || o.customer_id), coalesce(i.product_name, 'product ' || o.product_id),
  o.quantity, CAST(o.unit_price AS DOUBLE), CAST(o.total_amount AS DOUBLE), o.sold_at
FROM prod.orders o LEFT JOIN prod.customers c ON c.customer_id = o.customer_id LEFT JOIN prod.inventory i ON i.product_id = o.product_id
ORDER BY o.sold_at DESC, o.order_id DESC LIMIT ?`
	eventsInQuery  = `SELECT count(*) FROM raw.orders_events WHERE ingested_at >= ?`
	eventsOutQuery = `SELECT count(*) FROM prod.orders WHERE merged_at >= ?`
	conflictsQuery = `SELECT count(*) FROM raw.orders_events_rejected WHERE reason = 'event_id_conflict'`
	lastMergeQuery = `SELECT finished_at, inserted, updated, nothing_new FROM ops.merge_runs ORDER BY finished_at DESC LIMIT 1`
	// Per minute for the trend charts: RAW by ingestion, PROD by the last
	// write of each order (an update moves an order to its newer minute).
	rawPerMinuteQuery  = `SELECT date_trunc('minute', ingested_at), count(*) FROM raw.orders_events WHERE ingested_at >= ? GROUP BY 1 ORDER BY 1`
	prodPerMinuteQuery = `SELECT date_trunc('minute', merged_at), count(*) FROM prod.orders WHERE merged_at >= ? GROUP BY 1 ORDER BY 1`
)

// Queries returns every portable statement the dashboard sends, by name.
func Queries() map[string]string {
	return map[string]string{
		"kpis":          kpisQuery,
		"topProducts":   topProductsQuery,
		"recentOrders":  recentOrdersQuery,
		"eventsIn":      eventsInQuery,
		"eventsOut":     eventsOutQuery,
		"lastMerge":     lastMergeQuery,
		"conflicts":     conflictsQuery,
		"rawPerMinute":  rawPerMinuteQuery,
		"prodPerMinute": prodPerMinuteQuery,
	}
}
