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

	"github.com/dropflow/dropflow/internal/params"
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

// migrator applies migrations over database/sql; the dialect supplies the
// bookkeeping statements.
type migrator struct {
	db        *sql.DB
	dialect   string
	bootstrap []string // creates OPS and schema_migrations if missing
	read      string   // SELECT version, checksum FROM schema_migrations
	record    string   // INSERT (version, checksum, applied_at) VALUES (?, ?, ?)
	// render substitutes a dialect's tokens in a migration (nil: none); the
	// checksum is of the file as written.
	render func(string) string
	// noTx applies statements one by one (Snowflake DDL commits implicitly,
	// so a transaction would promise an atomicity it cannot keep).
	noTx bool
}

func (m migrator) run(ctx context.Context, dryRun bool) (params.DeploySchemaResult, error) {
	var res params.DeploySchemaResult
	migs, err := Migrations(m.dialect)
	if err != nil {
		return res, err
	}
	applied := map[string]string{}
	if !dryRun {
		for _, s := range m.bootstrap {
			if _, err := m.db.ExecContext(ctx, s); err != nil {
				return res, fmt.Errorf("warehouse: bootstrap migrations table: %w", err)
			}
		}
	}
	rows, err := m.db.QueryContext(ctx, m.read)
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
				return res, &ChecksumMismatchError{File: "sql/migrations/" + m.dialect + "/" + mig.Version + ".sql", Applied: sum, OnDisk: mig.Checksum}
			}
			res.Already = append(res.Already, mig.Version)
			continue
		}
		if m.render != nil {
			mig.SQL = m.render(mig.SQL)
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

func (m migrator) apply(ctx context.Context, mig Migration) error {
	if m.noTx {
		for i, stmt := range SplitStatements(mig.SQL) {
			if _, err := m.db.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("warehouse: migration %s statement %d: %w\n%s", mig.Version, i+1, err, stmt)
			}
		}
		if _, err := m.db.ExecContext(ctx, m.record, mig.Version, mig.Checksum, time.Now().UTC()); err != nil {
			return fmt.Errorf("warehouse: record migration %s: %w", mig.Version, err)
		}
		return nil
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("warehouse: migration %s: begin: %w", mig.Version, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	for i, stmt := range SplitStatements(mig.SQL) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("warehouse: migration %s statement %d: %w\n%s", mig.Version, i+1, err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, m.record, mig.Version, mig.Checksum, time.Now().UTC()); err != nil {
		return fmt.Errorf("warehouse: record migration %s: %w", mig.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("warehouse: migration %s: commit: %w", mig.Version, err)
	}
	return nil
}
