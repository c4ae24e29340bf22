DROP TABLE load_ids
