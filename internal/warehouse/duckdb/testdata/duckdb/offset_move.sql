UPDATE ops.kafka_offsets SET next_offset = ?, updated_at = ? WHERE topic = ? AND "partition" = ? AND next_offset = ?
