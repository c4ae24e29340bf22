-- 1_raw_events
SELECT count(*) FROM raw.orders_events;

-- 2_raw_rejected
SELECT count(*) FROM raw.orders_events_rejected;

-- 3_prod_orders
SELECT count(*) FROM prod.orders;

-- 4_prod_customers
SELECT count(*) FROM prod.customers;

-- 5_prod_inventory
SELECT count(*) FROM prod.inventory;

