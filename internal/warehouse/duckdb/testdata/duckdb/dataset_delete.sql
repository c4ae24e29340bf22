DELETE FROM ops.seed_datasets WHERE dataset_key = ?
