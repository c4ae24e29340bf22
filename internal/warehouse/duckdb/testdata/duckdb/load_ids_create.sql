CREATE OR REPLACE TEMP TABLE load_ids (event_id VARCHAR, content_hash VARCHAR)
