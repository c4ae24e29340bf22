package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// Identity returns the id stored in the DuckDB file (created on first use,
// so a copy of the file keeps it and another file never has it) with the
// file's host and absolute path. It is outside the migrations because a
// worker needs it before any deploy.
func (d *Warehouse) Identity(ctx context.Context) (warehouse.Identity, error) {
	var id string
	err := d.withTx(ctx, func(conn *sql.Conn) error {
		for _, q := range []string{
			"CREATE SCHEMA IF NOT EXISTS ops",
			"CREATE TABLE IF NOT EXISTS ops.warehouse_identity (id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)",
		} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		err := conn.QueryRowContext(ctx, "SELECT id FROM ops.warehouse_identity ORDER BY created_at LIMIT 1").Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = uuid.NewString()
			_, err = conn.ExecContext(ctx, "INSERT INTO ops.warehouse_identity VALUES (?, ?)", id, time.Now().UTC())
		}
		return err
	})
	if err != nil {
		return warehouse.Identity{}, fmt.Errorf("warehouse: identity of DuckDB file %s: %w", d.path, err)
	}
	host, _ := os.Hostname()
	abs, err := filepath.Abs(d.path)
	if err != nil {
		abs = d.path
	}
	return warehouse.Identity{Key: "duckdb:" + id, Where: fmt.Sprintf("DuckDB file %s:%s", host, abs)}, nil
}
