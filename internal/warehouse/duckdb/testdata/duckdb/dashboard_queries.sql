-- dashboard_daily
SELECT strftime(date_trunc('day', sold_at), '%Y-%m-%d'), count(*), CAST(sum(total_amount) AS DOUBLE)
FROM prod.orders WHERE sold_at >= ? GROUP BY 1 ORDER BY 1;

-- dashboard_last_validation
SELECT ran_at, status, failed, warned, CAST(report AS VARCHAR) FROM ops.validation_runs ORDER BY ran_at DESC LIMIT 1;

