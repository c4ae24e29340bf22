SELECT next_offset FROM ops.kafka_offsets WHERE topic = ? AND "partition" = ?
