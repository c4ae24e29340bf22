-- statement 1
-- The data sets SeedData generated, by what they are (generator inputs and
-- version, each CSV's SHA-256), so that any worker regenerates and verifies
-- the CSVs instead of reading another host's disk. ProduceOrders without a
-- data set or CSV replays the one recorded last.
CREATE TABLE IF NOT EXISTS DROPSHIPPING_DB.OPS.SEED_DATASETS (
    DATASET_KEY STRING        NOT NULL,
    DATASET     VARIANT       NOT NULL,
    RECORDED_AT TIMESTAMP_NTZ NOT NULL
);
