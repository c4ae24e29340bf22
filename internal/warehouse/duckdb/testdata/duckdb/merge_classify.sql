
SELECT
  count(*) FILTER (WHERE p.order_id IS NULL),
  count(*) FILTER (WHERE p.order_id IS NOT NULL AND s.event_version > p.event_version),
  count(*) FILTER (WHERE p.order_id IS NOT NULL AND s.event_version <= p.event_version)
FROM merge_dedup s LEFT JOIN prod.orders p ON p.order_id = s.order_id
