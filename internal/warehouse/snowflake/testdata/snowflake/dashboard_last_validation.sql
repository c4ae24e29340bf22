SELECT ran_at, status, failed, warned, TO_JSON(report) FROM ops.validation_runs ORDER BY ran_at DESC LIMIT 1
