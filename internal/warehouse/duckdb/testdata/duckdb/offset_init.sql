INSERT INTO ops.kafka_offsets VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
