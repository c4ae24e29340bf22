SELECT EXISTS (SELECT 1
FROM ops.kafka_offsets o LEFT JOIN ops.merge_watermark w ON w.topic = o.topic AND w."partition" = o."partition"
WHERE o.next_offset > COALESCE(w.merged_offset, 0))
