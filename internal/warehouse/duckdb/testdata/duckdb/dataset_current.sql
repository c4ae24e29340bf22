SELECT CAST(dataset AS VARCHAR) FROM ops.seed_datasets ORDER BY recorded_at DESC LIMIT 1
