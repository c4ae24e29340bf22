
MERGE INTO prod.orders t
USING merge_dedup s ON t.order_id = s.order_id
WHEN MATCHED AND s.event_version > t.event_version THEN UPDATE SET
  customer_id = s.customer_id, product_id = s.product_id, quantity = s.quantity, unit_price = s.unit_price,
  total_amount = s.quantity * s.unit_price, status = s.status, sold_at = s.sold_at,
  event_id = s.event_id, event_version = s.event_version, merged_at = ?
WHEN NOT MATCHED THEN INSERT (order_id, customer_id, product_id, quantity, unit_price, total_amount, status, sold_at, event_id, event_version, merged_at)
  VALUES (s.order_id, s.customer_id, s.product_id, s.quantity, s.unit_price, s.quantity * s.unit_price, s.status, s.sold_at, s.event_id, s.event_version, ?)
