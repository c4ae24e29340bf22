SELECT TO_CHAR(DATE_TRUNC('day', sold_at), 'YYYY-MM-DD'), count(*), CAST(sum(total_amount) AS DOUBLE)
FROM prod.orders WHERE sold_at >= ? GROUP BY 1 ORDER BY 1
