-- The same event_id with other content is a conflict, never a silent drop:
-- each event keeps a fingerprint of its content (all but produced_at), compared
-- only when its id is already in RAW; a conflicting event is rejected with the
-- coordinates and value of the event it conflicts with.
ALTER TABLE raw.orders_events ADD COLUMN IF NOT EXISTS content_hash VARCHAR;
ALTER TABLE raw.orders_events_rejected ADD COLUMN IF NOT EXISTS conflict_partition INTEGER;
ALTER TABLE raw.orders_events_rejected ADD COLUMN IF NOT EXISTS conflict_offset BIGINT;
ALTER TABLE raw.orders_events_rejected ADD COLUMN IF NOT EXISTS conflict_value VARCHAR;
