-- statement 1
-- The same event_id with other content is a conflict, never a silent drop:
-- each event keeps a fingerprint of its content (all but produced_at), compared
-- only when its id is already in RAW; a conflicting event is rejected with the
-- coordinates and value of the event it conflicts with.
ALTER TABLE DROPSHIPPING_DB.RAW.ORDERS_EVENTS ADD COLUMN IF NOT EXISTS CONTENT_HASH STRING;
-- statement 2
ALTER TABLE DROPSHIPPING_DB.RAW.ORDERS_EVENTS_REJECTED ADD COLUMN IF NOT EXISTS CONFLICT_PARTITION INTEGER;
-- statement 3
ALTER TABLE DROPSHIPPING_DB.RAW.ORDERS_EVENTS_REJECTED ADD COLUMN IF NOT EXISTS CONFLICT_OFFSET BIGINT;
-- statement 4
ALTER TABLE DROPSHIPPING_DB.RAW.ORDERS_EVENTS_REJECTED ADD COLUMN IF NOT EXISTS CONFLICT_VALUE STRING;
