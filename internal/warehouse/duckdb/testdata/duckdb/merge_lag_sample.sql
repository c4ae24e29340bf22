SELECT epoch(CAST(? AS TIMESTAMP)) - epoch(produced_at) FROM merge_dedup WHERE produced_at IS NOT NULL USING SAMPLE 1000 ROWS
