-- The data sets SeedData generated, by what they are (generator inputs and
-- version, each CSV's SHA-256), so that any worker regenerates and verifies
-- the CSVs instead of reading another host's disk. ProduceOrders without a
-- data set or CSV replays the one recorded last.
CREATE TABLE IF NOT EXISTS ops.seed_datasets (
    dataset_key VARCHAR   NOT NULL PRIMARY KEY,
    dataset     JSON      NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
