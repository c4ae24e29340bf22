package snowflake

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// LoadCustomers upserts PROD.customers from customers.csv through the seed
// stage: PUT, COPY INTO a temporary table, MERGE.
func (s *Warehouse) LoadCustomers(ctx context.Context, csvPath string) (int64, error) {
	return s.loadSeed(ctx, csvPath, seedLoad{"customers/", snowCustomersCreate, snowCustomersClear, snowCustomersCopy, snowCustomersMerge})
}

// LoadInventory upserts PROD.inventory from inventory.csv.
func (s *Warehouse) LoadInventory(ctx context.Context, csvPath string) (int64, error) {
	return s.loadSeed(ctx, csvPath, seedLoad{"inventory/", snowInventoryCreate, snowInventoryClear, snowInventoryCopy, snowInventoryMerge})
}

// seedLoad names the stage prefix and statements of one seed table.
type seedLoad struct {
	prefix, create, clear, copy, merge string
}

func (s *Warehouse) loadSeed(ctx context.Context, csvPath string, l seedLoad) (int64, error) {
	if _, err := os.Stat(csvPath); err != nil {
		return 0, fmt.Errorf("warehouse: load %s: %w", csvPath, err)
	}
	tok := map[string]string{"PREFIX": l.prefix}
	if _, err := s.exec(ctx, s.db, snowSeedRemove, tok); err != nil {
		return 0, err
	}
	if err := s.put(ctx, snowSeedPut, csvPath, l.prefix); err != nil {
		return 0, err
	}
	var n int64
	now := time.Now().UTC()
	err := s.inTx(ctx, func(conn *sql.Conn) error {
		_, err := s.exec(ctx, conn, l.create, nil)
		return err
	}, func(conn *sql.Conn) error {
		if _, err := s.exec(ctx, conn, l.clear, nil); err != nil {
			return err
		}
		if _, err := s.exec(ctx, conn, l.copy, tok); err != nil {
			return err
		}
		r, err := s.exec(ctx, conn, l.merge, nil, now, now)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("warehouse: load %s: %w", csvPath, err)
	}
	_, _ = s.exec(context.WithoutCancel(ctx), s.db, snowSeedRemove, tok)
	return n, nil
}

// MergeOrders merges the stream's new events into PROD.orders: one
// transaction reads the stream into a temporary table (which moves the
// stream's offset at commit), classifies, MERGEs and records the run.
// HasUnmerged asks the stream (SYSTEM$STREAM_HAS_DATA, a metadata read that
// scans no table). With the native task merging, MergeOrders has nothing to do.
func (s *Warehouse) HasUnmerged(ctx context.Context) (bool, error) {
	if s.o.MergeDriver == MergeDriverTask {
		return false, nil
	}
	var has bool
	if err := s.queryRow(ctx, s.db, snowMergeHasData, []any{&has}); err != nil {
		return false, err
	}
	return has, nil
}

func (s *Warehouse) MergeOrders(ctx context.Context) (warehouse.MergeResult, error) {
	if s.o.MergeDriver == MergeDriverTask {
		// The native task owns the stream; a second consumer would split it.
		return warehouse.MergeResult{NothingNew: true, DelegatedToTask: true, Merges: 1}, nil
	}
	var res warehouse.MergeResult
	res.Merges = 1
	started := time.Now().UTC()
	var has bool
	if err := s.queryRow(ctx, s.db, snowMergeHasData, []any{&has}); err != nil {
		return res, err
	}
	if !has {
		res.NothingNew = true
		_, err := s.exec(ctx, s.db, snowMergeRun, nil, started, time.Now().UTC(), 0, 0, 0, 0, true)
		return res, err
	}
	err := s.inTx(ctx, func(conn *sql.Conn) error {
		_, err := s.exec(ctx, conn, snowMergeCreate, nil)
		return err
	}, func(conn *sql.Conn) error {
		// Another worker's merge holds this row until it commits; the stream
		// read below then sees only what that merge left.
		if _, err := s.exec(ctx, conn, snowMergeLock, nil, started, warehouse.QueryTagFrom(ctx).WorkflowID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, conn, snowMergeClear, nil); err != nil {
			return err
		}
		r, err := s.exec(ctx, conn, snowMergeFill, nil)
		if err != nil {
			return err
		}
		res.SourceEvents, _ = r.RowsAffected()
		if res.SourceEvents == 0 {
			res.NothingNew = true
		} else {
			if err := s.queryRow(ctx, conn, snowMergeClassify, []any{&res.Inserted, &res.Updated, &res.Unchanged}); err != nil {
				return err
			}
			if _, err := s.exec(ctx, conn, snowMergeOrders, nil); err != nil {
				return err
			}
			if err := s.sampleLags(ctx, conn, started, &res); err != nil {
				return err
			}
		}
		_, err = s.exec(ctx, conn, snowMergeRun, nil, started, time.Now().UTC(), res.SourceEvents, res.Inserted, res.Updated, res.Unchanged, res.NothingNew)
		return err
	})
	if err != nil {
		return warehouse.MergeResult{}, err
	}
	return res, nil
}

func (s *Warehouse) sampleLags(ctx context.Context, conn *sql.Conn, at time.Time, res *warehouse.MergeResult) error {
	rows, err := conn.QueryContext(s.tag(ctx), s.stmt(snowMergeLags, nil), at)
	if err != nil {
		s.dropIfSessionGone(conn, err)
		return snowflakeError(snowMergeLags, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v float64
		if err := rows.Scan(&v); err != nil {
			return snowflakeError(snowMergeLags, err)
		}
		res.LagSample = append(res.LagSample, v)
	}
	if err := rows.Err(); err != nil {
		return snowflakeError(snowMergeLags, err)
	}
	return nil
}

// RecordValidation stores a validation run.
func (s *Warehouse) RecordValidation(ctx context.Context, r warehouse.ValidationRun) error {
	_, err := s.exec(ctx, s.db, snowValidationInsert, nil, r.RunID, r.RanAt.UTC(), r.Status, r.Pass, r.Warn, r.Fail, string(r.Report))
	if err != nil {
		return fmt.Errorf("warehouse: record validation run: %w", err)
	}
	return nil
}

// RecordPipelineRun stores a finished pipeline run.
func (s *Warehouse) RecordPipelineRun(ctx context.Context, workflowID, runID, status string, result []byte) error {
	_, err := s.exec(ctx, s.db, snowPipelineRunInsert, nil, workflowID, runID, time.Now().UTC(), status, string(result))
	if err != nil {
		return fmt.Errorf("warehouse: record pipeline run: %w", err)
	}
	return nil
}

// RecordDataset stores a seeded data set as the current one.
func (s *Warehouse) RecordDataset(ctx context.Context, key string, doc []byte) error {
	return s.inTx(ctx, nil, func(conn *sql.Conn) error {
		if _, err := s.exec(ctx, conn, snowDatasetDelete, nil, key); err != nil {
			return fmt.Errorf("warehouse: record data set: %w", err)
		}
		if _, err := s.exec(ctx, conn, snowDatasetInsert, nil, key, string(doc), time.Now().UTC()); err != nil {
			return fmt.Errorf("warehouse: record data set: %w", err)
		}
		return nil
	})
}

// CurrentDataset returns the data set recorded last.
func (s *Warehouse) CurrentDataset(ctx context.Context) ([]byte, bool, error) {
	var body string
	err := s.queryRow(ctx, s.db, snowDatasetCurrent, []any{&body})
	return warehouse.Document(body, err, "current data set")
}
