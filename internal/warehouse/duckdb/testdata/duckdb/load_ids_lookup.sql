SELECT i.event_id, r.kafka_partition, r.kafka_offset,
  CASE WHEN r.content_hash <> i.content_hash THEN CAST(r.payload AS VARCHAR) END
FROM load_ids i JOIN raw.orders_events r ON r.event_id = i.event_id
