package warehouse

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/dropflow/dropflow/sql/migrations"
)

// Migration is one versioned SQL file.
type Migration struct {
	Version  string // file name without .sql, e.g. 0001_init
	SQL      string
	Checksum string // sha256 of the file
}

// ChecksumMismatchError stops a deploy when an applied migration's file changed.
type ChecksumMismatchError struct {
	File            string
	Applied, OnDisk string
}

func (e *ChecksumMismatchError) Error() string {
	return fmt.Sprintf("migration %s changed after it was applied: applied checksum %s, file checksum %s; add a new migration instead of editing an applied one", e.File, e.Applied, e.OnDisk)
}

// Migrations returns the embedded migrations of a dialect in order.
func Migrations(dialect string) ([]Migration, error) {
	return migrationsFrom(migrations.FS, dialect)
}

func migrationsFrom(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("warehouse: list migrations %s: %w", dir, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("warehouse: read migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrator applies a dialect's migrations over database/sql; the adapter
// supplies the bookkeeping statements.
type Migrator struct {
	DB        *sql.DB
	Dialect   string
	Bootstrap []string // creates OPS and schema_migrations if missing
	Read      string   // SELECT version, checksum FROM schema_migrations
	Record    string   // INSERT (version, checksum, applied_at) VALUES (?, ?, ?)
	// Render substitutes a dialect's tokens in a migration (nil: none); the
	// checksum is of the file as written.
	Render func(string) string
	// NoTx applies statements one by one (Snowflake DDL commits implicitly,
	// so a transaction would promise an atomicity it cannot keep).
	NoTx bool
}

// Run applies the migrations not applied yet (dryRun: only renders them),
// and stops at an applied one whose file changed (ChecksumMismatchError).
func (m Migrator) Run(ctx context.Context, dryRun bool) (MigrateResult, error) {
	var res MigrateResult
	migs, err := Migrations(m.Dialect)
	if err != nil {
		return res, err
	}
	applied := map[string]string{}
	if !dryRun {
		for _, s := range m.Bootstrap {
			if _, err := m.DB.ExecContext(ctx, s); err != nil {
				return res, fmt.Errorf("warehouse: bootstrap migrations table: %w", err)
			}
		}
	}
	rows, err := m.DB.QueryContext(ctx, m.Read)
	if err == nil {
		for rows.Next() {
			var v, c string
			if err := rows.Scan(&v, &c); err != nil {
				rows.Close()
				return res, fmt.Errorf("warehouse: read schema_migrations: %w", err)
			}
			applied[v] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, fmt.Errorf("warehouse: read schema_migrations: %w", err)
		}
	} else if !dryRun {
		return res, fmt.Errorf("warehouse: read schema_migrations: %w", err)
	}
	var script strings.Builder
	for _, mig := range migs {
		if sum, ok := applied[mig.Version]; ok {
			if sum != mig.Checksum {
				return res, &ChecksumMismatchError{File: "sql/migrations/" + m.Dialect + "/" + mig.Version + ".sql", Applied: sum, OnDisk: mig.Checksum}
			}
			res.Already = append(res.Already, mig.Version)
			continue
		}
		if m.Render != nil {
			mig.SQL = m.Render(mig.SQL)
		}
		fmt.Fprintf(&script, "-- %s (%s)\n%s\n", mig.Version, mig.Checksum, strings.TrimSpace(mig.SQL))
		res.Applied = append(res.Applied, mig.Version)
		if dryRun {
			continue
		}
		if err := m.apply(ctx, mig); err != nil {
			return res, err
		}
	}
	res.SQL = script.String()
	return res, nil
}

func (m Migrator) apply(ctx context.Context, mig Migration) error {
	if m.NoTx {
		for i, stmt := range SplitStatements(mig.SQL) {
			if _, err := m.DB.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("warehouse: migration %s statement %d: %w\n%s", mig.Version, i+1, err, stmt)
			}
		}
		if _, err := m.DB.ExecContext(ctx, m.Record, mig.Version, mig.Checksum, time.Now().UTC()); err != nil {
			return fmt.Errorf("warehouse: record migration %s: %w", mig.Version, err)
		}
		return nil
	}
	tx, err := m.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("warehouse: migration %s: begin: %w", mig.Version, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	for i, stmt := range SplitStatements(mig.SQL) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("warehouse: migration %s statement %d: %w\n%s", mig.Version, i+1, err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, m.Record, mig.Version, mig.Checksum, time.Now().UTC()); err != nil {
		return fmt.Errorf("warehouse: record migration %s: %w", mig.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("warehouse: migration %s: commit: %w", mig.Version, err)
	}
	return nil
}
