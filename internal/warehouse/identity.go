package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Identity says which warehouse an adapter serves: Key compares two workers'
// warehouses, Where names it for people.
type Identity struct {
	Key   string
	Where string
}

// Identity returns the id stored in the DuckDB file (created on first use,
// so a copy of the file keeps it and another file never has it) with the
// file's host and absolute path. It is outside the migrations because a
// worker needs it before any deploy.
func (d *DuckDB) Identity(ctx context.Context) (Identity, error) {
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
		return Identity{}, fmt.Errorf("warehouse: identity of DuckDB file %s: %w", d.path, err)
	}
	host, _ := os.Hostname()
	abs, err := filepath.Abs(d.path)
	if err != nil {
		abs = d.path
	}
	return Identity{Key: "duckdb:" + id, Where: fmt.Sprintf("DuckDB file %s:%s", host, abs)}, nil
}

// Identity of a Snowflake warehouse: the account and database (and the
// explicit endpoint when one is set, as for a local emulator).
func (s *Snowflake) Identity(context.Context) (Identity, error) {
	acct, db := strings.ToUpper(s.o.Account), strings.ToUpper(s.o.Database)
	where := fmt.Sprintf("Snowflake account %s, database %s", acct, db)
	key := "snowflake:" + acct + "/" + db
	if s.o.Host != "" {
		key += "@" + s.o.Host + ":" + fmt.Sprint(s.o.Port)
		where += fmt.Sprintf(" at %s:%d", s.o.Host, s.o.Port)
	}
	return Identity{Key: key, Where: where}, nil
}
