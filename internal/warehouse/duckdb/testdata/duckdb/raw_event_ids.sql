SELECT event_id FROM raw.orders_events
