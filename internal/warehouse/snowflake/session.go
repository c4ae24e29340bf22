package snowflake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// tag attaches the Dropflow query tag of ctx (workflow, activity) to every statement.
func (s *Warehouse) tag(ctx context.Context) context.Context {
	if s.noDB.Load() && time.Since(time.Unix(0, s.lastDBCheck.Load())) > time.Second {
		s.watchDatabase(ctx)
	}
	return tagged(ctx, warehouse.QueryTagFrom(ctx))
}

// tagged hands the tag to gosnowflake for every statement run under ctx.
func tagged(ctx context.Context, t warehouse.QueryTag) context.Context {
	return gosnowflake.WithQueryTag(ctx, t.String())
}

// Query runs read-only SQL (validation, dashboard).
func (s *Warehouse) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	rows, err := s.db.QueryContext(s.tag(ctx), q, args...)
	if err != nil {
		s.dropIfSessionGone(s.db, err)
		return nil, snowflakeError("query", err)
	}
	return rows, nil
}

// QueryRow runs read-only SQL returning one row.
func (s *Warehouse) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(s.tag(ctx), q, args...)
}

// DialectQuery returns the Snowflake text of a dialect-specific read.
func (s *Warehouse) DialectQuery(name string) (string, bool) {
	switch name {
	case warehouse.QueryDashboardDaily:
		return snowStatement(snowDashboardDailyQuery, s.tokens), true
	case warehouse.QueryDashboardLastValidation:
		return snowStatement(snowDashboardLastReport, s.tokens), true
	}
	return "", false
}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exec runs a named statement; extra supplies the per-call tokens.
func (s *Warehouse) exec(ctx context.Context, q execQuerier, name string, extra map[string]string, args ...any) (sql.Result, error) {
	r, err := q.ExecContext(s.tag(ctx), s.stmt(name, extra), args...)
	if err != nil {
		s.dropIfSessionGone(q, err)
		return nil, snowflakeError(name, err)
	}
	return r, nil
}

// dropIfSessionGone discards sessions the server no longer knows (390111:
// it restarted, or an admin killed them). gosnowflake renews expired tokens
// but keeps such a session in the pool, and every retry would fail on it:
// the connection in hand is marked bad and the idle ones are closed, so the
// next statement logs in anew.
func (s *Warehouse) dropIfSessionGone(q execQuerier, err error) {
	var se *gosnowflake.SnowflakeError
	if !errors.As(err, &se) || se.Number != 390111 {
		return
	}
	if c, ok := q.(*sql.Conn); ok {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
	s.db.SetMaxIdleConns(0)
	if !s.noDB.Load() {
		s.db.SetMaxIdleConns(pooledSessions)
	}
}

func (s *Warehouse) queryRow(ctx context.Context, q execQuerier, name string, dst []any, args ...any) error {
	if err := q.QueryRowContext(s.tag(ctx), s.stmt(name, nil), args...).Scan(dst...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return err
		}
		s.dropIfSessionGone(q, err)
		return snowflakeError(name, err)
	}
	return nil
}

func (s *Warehouse) stmt(name string, extra map[string]string) string {
	if len(extra) == 0 {
		return snowStatement(name, s.tokens)
	}
	t := make(map[string]string, len(s.tokens)+len(extra))
	for k, v := range s.tokens {
		t[k] = v
	}
	for k, v := range extra {
		t[k] = v
	}
	return snowStatement(name, t)
}

// inTx runs fn between BEGIN and COMMIT on one session (temporary tables and
// transactions are per session). DDL commits implicitly on Snowflake, so
// callers create their temporary tables in before, outside the transaction.
func (s *Warehouse) inTx(ctx context.Context, before func(conn *sql.Conn) error, fn func(conn *sql.Conn) error) error {
	conn, err := s.db.Conn(s.tag(ctx))
	if err != nil {
		return snowflakeError("connect", err)
	}
	defer conn.Close()
	if before != nil {
		if err := before(conn); err != nil {
			return err
		}
	}
	if err := s.abortEarlierAttempts(ctx, conn); err != nil {
		return err
	}
	if _, err := s.exec(ctx, conn, snowBegin, map[string]string{"TXN": s.txnName(ctx)}); err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		if _, rbErr := s.exec(context.WithoutCancel(ctx), conn, snowRollback, nil); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	if _, err := s.exec(ctx, conn, snowCommit, nil); err != nil {
		_, _ = s.exec(context.WithoutCancel(ctx), conn, snowRollback, nil)
		return err
	}
	return nil
}

// txnName names a transaction after the activity attempt that runs it
// (DROPFLOW_<key>_<attempt>), or after this process outside activities.
func (s *Warehouse) txnName(ctx context.Context) string {
	if a, ok := warehouse.AttemptFrom(ctx); ok {
		return fmt.Sprintf("DROPFLOW_%s_%d", a.Key, a.N)
	}
	return "DROPFLOW_" + s.process
}

// abortEarlierAttempts runs once per retried activity attempt: it aborts the
// transactions that earlier attempts of the same activity left open. Temporal
// retries an attempt only after it failed or timed out, so such a transaction
// belongs to a dead (or abandoned) worker; Snowflake would keep its locks
// until it idles out, blocking every loader and merge meanwhile. Aborting it
// loses nothing: its batch or merge never committed, and this attempt redoes it.
func (s *Warehouse) abortEarlierAttempts(ctx context.Context, conn *sql.Conn) error {
	a, ok := warehouse.AttemptFrom(ctx)
	if !ok || a.N <= 1 {
		return nil
	}
	attempt := fmt.Sprintf("%s/%d", a.Key, a.N)
	if _, done := s.swept.LoadOrStore(attempt, true); done {
		return nil
	}
	rows, err := conn.QueryContext(s.tag(ctx), s.stmt(snowShowTxns, nil))
	if err != nil {
		s.swept.Delete(attempt)
		s.dropIfSessionGone(conn, err)
		return snowflakeError(snowShowTxns, err)
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		s.swept.Delete(attempt)
		return snowflakeError(snowShowTxns, err)
	}
	idCol, nameCol, stateCol := -1, -1, -1
	for i, c := range cols {
		switch strings.ToLower(c) {
		case "id":
			idCol = i
		case "name":
			nameCol = i
		case "state":
			stateCol = i
		}
	}
	prefix := fmt.Sprintf("DROPFLOW_%s_", a.Key)
	var stale []int64
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dst := make([]any, len(cols))
		for i := range vals {
			dst[i] = &vals[i]
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			s.swept.Delete(attempt)
			return snowflakeError(snowShowTxns, err)
		}
		if idCol < 0 || nameCol < 0 {
			continue
		}
		name := strings.ToUpper(vals[nameCol].String)
		n, err := strconv.Atoi(strings.TrimPrefix(name, prefix))
		if !strings.HasPrefix(name, prefix) || err != nil || n >= a.N {
			continue
		}
		if stateCol >= 0 && !strings.EqualFold(vals[stateCol].String, "running") {
			continue
		}
		if id, err := strconv.ParseInt(vals[idCol].String, 10, 64); err == nil {
			stale = append(stale, id)
		}
	}
	rows.Close()
	for _, id := range stale {
		// The id is an integer from SHOW TRANSACTIONS: Snowflake wants a constant here.
		if _, err := s.exec(ctx, conn, snowAbortTxn, map[string]string{"TXN_ID": strconv.FormatInt(id, 10)}); err != nil {
			s.swept.Delete(attempt)
			return err
		}
	}
	return nil
}

// Migrate applies the embedded Snowflake migrations, then hands merging to
// the native task or takes it back, per SNOW_MERGE_DRIVER.
func (s *Warehouse) Migrate(ctx context.Context, dryRun bool) (warehouse.MigrateResult, error) {
	ctx = s.tag(ctx)
	m := warehouse.Migrator{
		DB:      s.db,
		Dialect: warehouse.DialectSnowflake,
		Bootstrap: []string{
			s.stmt(snowBootstrapDatabase, nil), s.stmt(snowBootstrapSchema, nil), s.stmt(snowBootstrapTable, nil),
		},
		Read:   s.stmt(snowMigrationsRead, nil),
		Record: s.stmt(snowMigrationsRecord, nil),
		Render: func(sql string) string { return snowRender(sql, s.tokens) },
		// Snowflake DDL commits implicitly, so a transaction would not make a
		// migration atomic; its statements are idempotent (IF NOT EXISTS, OR REPLACE) instead.
		NoTx: true,
	}
	res, err := m.Run(ctx, dryRun)
	if err != nil {
		return res, snowflakeError("migrate", err)
	}
	task := snowTaskSuspend
	if s.o.MergeDriver == MergeDriverTask {
		task = snowTaskResume
	}
	if dryRun {
		res.SQL += "-- merge driver " + s.o.MergeDriver + "\n" + s.stmt(task, nil) + ";\n"
		return res, nil
	}
	if _, err := s.exec(ctx, s.db, task, nil); err != nil {
		return res, err
	}
	// Sessions opened before the database existed have no current database;
	// drop the idle ones so the next statements log in with it.
	s.db.SetMaxIdleConns(0)
	s.db.SetMaxIdleConns(pooledSessions)
	return res, nil
}
