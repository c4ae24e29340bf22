INSERT INTO ops.merge_watermark VALUES (?, ?, ?, ?)
ON CONFLICT (topic, "partition") DO UPDATE SET merged_offset = excluded.merged_offset, updated_at = excluded.updated_at
