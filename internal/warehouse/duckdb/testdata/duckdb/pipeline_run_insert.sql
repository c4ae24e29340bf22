INSERT INTO ops.pipeline_runs VALUES (?, ?, ?, ?, ?)
