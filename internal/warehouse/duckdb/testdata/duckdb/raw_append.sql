
INSERT INTO raw.orders_events
SELECT event_id, event_type, CAST(payload AS JSON), kafka_topic, kafka_partition, kafka_offset, produced_at, ingested_at, content_hash FROM appended_data
