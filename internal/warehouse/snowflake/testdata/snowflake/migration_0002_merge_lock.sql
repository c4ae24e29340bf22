-- statement 1
-- One merge at a time across every worker: MergeOrders updates this row first
-- in its transaction, so a second merge waits for the first to commit and then
-- reads only what the stream still holds.
CREATE TABLE IF NOT EXISTS DROPSHIPPING_DB.OPS.MERGE_LOCK (
    ID        INTEGER       NOT NULL,
    LOCKED_AT TIMESTAMP_NTZ,
    LOCKED_BY STRING
);
-- statement 2
MERGE INTO DROPSHIPPING_DB.OPS.MERGE_LOCK t
USING (SELECT 1 AS ID) s ON t.ID = s.ID
WHEN NOT MATCHED THEN INSERT (ID) VALUES (s.ID);
