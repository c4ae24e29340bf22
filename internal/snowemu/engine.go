package snowemu

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// engine owns the DuckDB catalog: one attached DuckDB file per Snowflake
// database, plus the emulator's own records (schema snowemu.emu).
type engine struct {
	dir string
	db  *sql.DB
	mu  sync.Mutex // catalog changes: attach, streams, stages
	// streams maps a stream's qualified name to its change table.
	streams map[string]stream
	// stages maps a stage's qualified name to its directory.
	stages map[string]string
	// sources maps a table to the change tables of its streams.
	sources map[string][]string
	// txns are the sessions' open explicit transactions.
	txns txns
}

type stream struct{ source, changes string }

// Session-level Snowflake functions DuckDB lacks, as temporary macros
// (visible from every attached database).
var macros = []string{
	`SET TimeZone = 'UTC'`,
	`CREATE OR REPLACE TEMP MACRO parse_json(x) AS json(x)`,
	`CREATE OR REPLACE TEMP MACRO try_parse_json(x) AS CASE WHEN json_valid(x) THEN json(x) END`,
	`CREATE OR REPLACE TEMP MACRO to_timestamp_ntz(x) AS CAST(x AS TIMESTAMP)`,
	`CREATE OR REPLACE TEMP MACRO try_to_timestamp_ntz(x) AS TRY_CAST(x AS TIMESTAMP)`,
	`CREATE OR REPLACE TEMP MACRO sysdate() AS CAST(current_timestamp AS TIMESTAMP)`,
	`CREATE OR REPLACE TEMP MACRO current_account() AS 'SNOWEMU'`,
}

const catalogDDL = `
CREATE SCHEMA IF NOT EXISTS snowemu.emu;
CREATE TABLE IF NOT EXISTS snowemu.emu.databases (name VARCHAR PRIMARY KEY, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS snowemu.emu.warehouses (name VARCHAR PRIMARY KEY, definition VARCHAR, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS snowemu.emu.stages (name VARCHAR PRIMARY KEY, definition VARCHAR, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS snowemu.emu.streams (name VARCHAR PRIMARY KEY, source VARCHAR, changes VARCHAR, append_only BOOLEAN, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS snowemu.emu.tasks (name VARCHAR PRIMARY KEY, warehouse VARCHAR, schedule VARCHAR, condition VARCHAR, definition VARCHAR, state VARCHAR, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS snowemu.emu.load_history (table_name VARCHAR, file VARCHAR, loaded_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS snowemu.emu.query_history (query_id VARCHAR, query_text VARCHAR, query_type VARCHAR, session_id BIGINT,
  user_name VARCHAR, role_name VARCHAR, database_name VARCHAR, schema_name VARCHAR, warehouse_name VARCHAR, query_tag VARCHAR,
  execution_status VARCHAR, error_code VARCHAR, error_message VARCHAR, start_time TIMESTAMP, end_time TIMESTAMP, rows_produced BIGINT);
`

func openEngine(dir string) (*engine, error) {
	connector, err := duckdb.NewConnector(filepath.Join(dir, "snowemu.duckdb"), func(ex driver.ExecerContext) error {
		for _, m := range macros {
			if _, err := ex.ExecContext(context.Background(), m, nil); err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snowemu: open catalog in %s: %w", dir, err)
	}
	e := &engine{dir: dir, db: sql.OpenDB(connector), streams: map[string]stream{}, stages: map[string]string{}, sources: map[string][]string{}}
	ctx := context.Background()
	for _, stmt := range strings.Split(catalogDDL, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := e.db.ExecContext(ctx, stmt); err != nil {
			e.db.Close()
			return nil, fmt.Errorf("snowemu: catalog: %w", err)
		}
	}
	// Databases, streams and stages of a previous run.
	names, err := e.strings(ctx, `SELECT name FROM snowemu.emu.databases`)
	if err == nil {
		for _, n := range names {
			if err = e.attach(ctx, n); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = e.loadRegistry(ctx)
	}
	if err != nil {
		e.db.Close()
		return nil, err
	}
	return e, nil
}

func (e *engine) close() error { return e.db.Close() }

func (e *engine) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := e.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("snowemu: %s: %w", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (e *engine) loadRegistry(ctx context.Context) error {
	rows, err := e.db.QueryContext(ctx, `SELECT name, source, changes FROM snowemu.emu.streams`)
	if err != nil {
		return fmt.Errorf("snowemu: read streams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, src, ch string
		if err := rows.Scan(&n, &src, &ch); err != nil {
			return err
		}
		e.streams[n] = stream{src, ch}
		e.sources[src] = append(e.sources[src], ch)
	}
	stages, err := e.strings(ctx, `SELECT name FROM snowemu.emu.stages`)
	for _, s := range stages {
		e.stages[s] = stageDir(e.dir, s)
	}
	return err
}

// attach makes a Snowflake database a DuckDB catalog of the same name.
func (e *engine) attach(ctx context.Context, name string) error {
	path := filepath.Join(e.dir, name+".duckdb")
	if _, err := e.db.ExecContext(ctx, fmt.Sprintf(`ATTACH IF NOT EXISTS %s AS "%s"`, quoteLiteral(path), name)); err != nil {
		return fmt.Errorf("snowemu: attach database %s: %w", name, err)
	}
	return nil
}

func (e *engine) databaseExists(ctx context.Context, name string) bool {
	var n int
	_ = e.db.QueryRowContext(ctx, `SELECT count(*) FROM snowemu.emu.databases WHERE name = ?`, name).Scan(&n)
	return n > 0
}

// session is one Snowflake session: a DuckDB connection of its own (its
// transaction and temporary tables), the current database and schema.
type session struct {
	eng                                     *engine
	id                                      int64
	user, database, schema, warehouse, role string
	conn                                    *sql.Conn
	inTx                                    bool
	consumed                                map[string]bool // change tables a DML read in this transaction
	temps                                   map[string]string
	queryTag                                string
	mu                                      sync.Mutex
}

func (e *engine) newSession(ctx context.Context, user, database, schema, warehouse, role string) (*session, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("snowemu: session: %w", err)
	}
	ss := &session{eng: e, user: user, warehouse: strings.ToUpper(warehouse), role: strings.ToUpper(role), conn: conn, consumed: map[string]bool{}, temps: map[string]string{}}
	if role == "" {
		ss.role = "PUBLIC"
	}
	// Like Snowflake, a database that does not exist leaves the session without one.
	if db := strings.ToUpper(database); db != "" && e.databaseExists(ctx, db) {
		if err := ss.use(ctx, db, strings.ToUpper(schema)); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return ss, nil
}

func (ss *session) use(ctx context.Context, db, schema string) error {
	target := fmt.Sprintf(`"%s"`, db)
	if schema != "" {
		var n int
		_ = ss.conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_schemas() WHERE database_name = ? AND upper(schema_name) = ?`, db, schema).Scan(&n)
		if n > 0 {
			target += fmt.Sprintf(`."%s"`, schema)
		} else {
			schema = ""
		}
	}
	if _, err := ss.conn.ExecContext(ctx, "USE "+target); err != nil {
		return fmt.Errorf("snowemu: USE %s: %w", target, err)
	}
	ss.database, ss.schema = db, schema
	return nil
}

func (ss *session) close() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.inTx {
		_, _ = ss.conn.ExecContext(context.Background(), "ROLLBACK")
		ss.eng.txns.end(ss)
	}
	ss.conn.Close()
}

// qualify resolves a dotted name against the session's database and schema.
func (ss *session) qualify(parts []string) string {
	switch len(parts) {
	case 1:
		return ss.database + "." + ss.schema + "." + parts[0]
	case 2:
		return ss.database + "." + parts[0] + "." + parts[1]
	}
	return strings.Join(parts, ".")
}

// execute runs one statement and records it in QUERY_HISTORY.
func (ss *session) execute(ctx context.Context, qid, text string, binds map[string]bindValue, tag string) (*queryResult, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	start := time.Now().UTC()
	if tag == "" {
		tag = ss.queryTag
	}
	toks := statementTokens(text)
	res, err := ss.run(ctx, toks, binds)
	status, code, msg, rows := "SUCCESS", "", "", int64(0)
	if err != nil {
		status, msg = "FAILED_WITH_ERROR", err.Error()
		var e *Error
		if errors.As(err, &e) {
			code = fmt.Sprintf("%06d", e.Code)
		}
	} else {
		rows = res.produced
	}
	_, herr := ss.eng.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO snowemu.emu.query_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		qid, text, queryType(toks), ss.id, ss.user, ss.role, ss.database, ss.schema, ss.warehouse, tag, status, code, msg, start, time.Now().UTC(), rows)
	if herr != nil && err == nil {
		err = fmt.Errorf("snowemu: record query history: %w", herr)
	}
	return res, err
}

func queryType(toks []token) string {
	w := words(toks)
	if len(w) == 0 {
		return "UNKNOWN"
	}
	t := w[0].upper()
	if t == "CREATE" || t == "ALTER" || t == "DROP" {
		for _, x := range w[1:] {
			if x.kind == tWord && !x.is("OR", "REPLACE", "TEMPORARY", "TEMP", "TRANSIENT", "IF", "NOT", "EXISTS") {
				return t + "_" + x.upper()
			}
		}
	}
	return t
}
