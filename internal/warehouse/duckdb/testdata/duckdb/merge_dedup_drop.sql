DROP TABLE merge_dedup
