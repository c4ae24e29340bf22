SELECT o.topic, o."partition", COALESCE(w.merged_offset, 0), o.next_offset
FROM ops.kafka_offsets o LEFT JOIN ops.merge_watermark w ON w.topic = o.topic AND w."partition" = o."partition"
ORDER BY 1, 2
