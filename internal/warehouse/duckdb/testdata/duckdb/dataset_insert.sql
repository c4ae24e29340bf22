INSERT INTO ops.seed_datasets VALUES (?, ?, ?)
