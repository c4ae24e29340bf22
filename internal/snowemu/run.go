package snowemu

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Statement type ids the driver reads (gosnowflake connection.go).
const (
	typeSelect = 0x1000
	typeDML    = 0x3000
	typeInsert = 0x3100
	typeUpdate = 0x3200
	typeDelete = 0x3300
	typeMerge  = 0x3400
	typeDDL    = 0x6000
)

// statementTokens tokenizes a request's SQL without its leading comments
// and trailing semicolons.
func statementTokens(text string) []token {
	toks := tokenize(strings.TrimSpace(text))
	for len(toks) > 0 && toks[0].kind == tSpace { // leading comments
		toks = toks[1:]
	}
	for len(toks) > 0 && (toks[len(toks)-1].sym(";") || toks[len(toks)-1].kind == tSpace) {
		toks = toks[:len(toks)-1]
	}
	return toks
}

// run executes one statement of the session.
func (ss *session) run(ctx context.Context, toks []token, binds map[string]bindValue) (*queryResult, error) {
	w := words(toks)
	if len(w) == 0 {
		return nil, compileError("Empty SQL statement.")
	}
	for _, t := range w {
		if t.sym(";") {
			return nil, compileError("Actual statement count 2 did not match the desired statement count 1 (multi-statement requests are not supported by the emulator).")
		}
	}
	if err := snowflakeOnly(toks); err != nil {
		return nil, err
	}
	args, arrays, err := convertBinds(binds)
	if err != nil {
		return nil, err
	}
	kw := w[0].upper()
	// DDL commits an open transaction first, as on Snowflake.
	if (kw == "CREATE" || kw == "ALTER" || kw == "DROP") && ss.inTx {
		if err := ss.commit(ctx); err != nil {
			return nil, err
		}
	}
	switch kw {
	case "SELECT", "WITH":
		if len(w) > 1 && w[1].upper() == "SYSTEM$ABORT_TRANSACTION" {
			return ss.abortTransaction(ctx, w)
		}
		if arrays > 0 {
			return nil, compileError("array binds are only supported for DML")
		}
		q, err := ss.translate(toks)
		if err != nil {
			return nil, err
		}
		return ss.selectRows(ctx, q.sql, args)
	case "INSERT", "UPDATE", "DELETE", "MERGE":
		return ss.dml(ctx, kw, toks, args, arrays)
	case "BEGIN", "START":
		name, err := beginName(w)
		if err != nil {
			return nil, err
		}
		if ss.inTx {
			return ddlResult("Statement executed successfully."), nil
		}
		if _, err := ss.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return nil, duckError(err)
		}
		ss.inTx = true
		ss.eng.txns.begin(ss, name)
		return ddlResult("Statement executed successfully."), nil
	case "SHOW":
		if len(w) == 2 && w[1].upper() == "TRANSACTIONS" {
			return ss.showTransactions(), nil
		}
	case "COMMIT":
		if err := ss.commit(ctx); err != nil {
			return nil, err
		}
		return ddlResult("Statement executed successfully."), nil
	case "ROLLBACK":
		if err := ss.rollback(ctx); err != nil {
			return nil, duckError(err)
		}
		return ddlResult("Statement executed successfully."), nil
	case "CREATE":
		return ss.create(ctx, toks, w)
	case "ALTER":
		return ss.alter(ctx, toks, w)
	case "USE":
		return ss.useStatement(ctx, w)
	case "DROP":
		return ss.drop(ctx, w)
	case "PUT":
		return ss.put(join(toks))
	case "REMOVE", "RM":
		return ss.remove(join(toks))
	case "COPY":
		return ss.copyInto(ctx, toks)
	}
	return nil, unsupported(w)
}

func unsupported(w []token) *Error {
	n := min(len(w), 3)
	return compileError("Unsupported statement %q: the Dropflow Snowflake emulator runs the statements of internal/warehouse/testdata/snowflake only.", join(w[:n]))
}

func ddlResult(msg string) *queryResult {
	return &queryResult{stmtType: typeDDL, columns: []column{{name: "status", typ: "text"}}, rows: [][]*string{{&msg}}}
}

// commit consumes the streams this transaction's DML read, then commits:
// a stream's offset moves only with the commit of the DML that read it
// (https://docs.snowflake.com/en/user-guide/streams-intro#data-flow).
func (ss *session) commit(ctx context.Context) error {
	if !ss.inTx {
		return nil
	}
	for ch := range ss.consumed {
		// Deletes what this transaction's snapshot saw: rows committed since stay.
		if _, err := ss.conn.ExecContext(ctx, "DELETE FROM "+ch); err != nil {
			_ = ss.rollback(ctx)
			return duckError(err)
		}
	}
	_, err := ss.conn.ExecContext(ctx, "COMMIT")
	ss.inTx, ss.consumed = false, map[string]bool{}
	ss.eng.txns.end(ss)
	if err != nil {
		return duckError(err)
	}
	return nil
}

// rollback ends the open transaction, if any, leaving every stream where it was.
func (ss *session) rollback(ctx context.Context) error {
	if !ss.inTx {
		return nil
	}
	_, err := ss.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	ss.inTx, ss.consumed = false, map[string]bool{}
	ss.eng.txns.end(ss)
	return err
}

// convertBinds turns the driver's bindings ("1".."n", each a typed string or
// an array of them) into DuckDB arguments; arrays is the array length (0
// when the binds are scalars).
func convertBinds(binds map[string]bindValue) ([]any, int, error) {
	if len(binds) == 0 {
		return nil, 0, nil
	}
	args := make([]any, len(binds))
	arrays := 0
	for k, b := range binds {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || i > len(binds) {
			return nil, 0, compileError("named binds (%q) are not supported by the emulator", k)
		}
		raw := strings.TrimSpace(string(b.Value))
		if strings.HasPrefix(raw, "[") {
			var vals []*string
			if err := json.Unmarshal(b.Value, &vals); err != nil {
				return nil, 0, compileError("bind %s: %v", k, err)
			}
			if arrays != 0 && arrays != len(vals) {
				return nil, 0, compileError("array binds of different lengths (%d and %d)", arrays, len(vals))
			}
			arrays = len(vals)
			conv := make([]any, len(vals))
			for j, v := range vals {
				if conv[j], err = bindScalar(b.Type, v); err != nil {
					return nil, 0, err
				}
			}
			args[i-1] = conv
			continue
		}
		var v *string
		if err := json.Unmarshal(b.Value, &v); err != nil {
			return nil, 0, compileError("bind %s: %v", k, err)
		}
		if args[i-1], err = bindScalar(b.Type, v); err != nil {
			return nil, 0, err
		}
	}
	return args, arrays, nil
}

// bindScalar decodes one bind value as gosnowflake encodes it.
func bindScalar(typ string, v *string) (any, error) {
	if v == nil {
		return nil, nil
	}
	s := *v
	switch strings.ToUpper(typ) {
	case "TEXT":
		return s, nil
	case "FIXED":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &Error{Code: 100038, SQLState: "22018", Message: fmt.Sprintf("Numeric value '%s' is not recognized", s)}
		}
		return n, nil
	case "REAL":
		return strconv.ParseFloat(s, 64)
	case "BOOLEAN":
		return strconv.ParseBool(s)
	case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ":
		ns, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &Error{Code: 100035, SQLState: "22007", Message: fmt.Sprintf("Timestamp '%s' is not recognized", s)}
		}
		return time.Unix(0, ns).UTC(), nil
	case "DATE":
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, err
		}
		return time.UnixMilli(ms).UTC(), nil
	case "BINARY":
		return hex.DecodeString(s)
	}
	return nil, compileError("bind type %s is not supported by the emulator", typ)
}

// row picks the i-th element of array binds.
func row(args []any, i int) []any {
	out := make([]any, len(args))
	for k, a := range args {
		if arr, ok := a.([]any); ok {
			out[k] = arr[i]
		} else {
			out[k] = a
		}
	}
	return out
}

var parseJSONInValues = regexp.MustCompile(`(?is)\bVALUES\s*\(([^()]|\([^()]*\))*\bPARSE_JSON\s*\(`)

// dml runs INSERT, UPDATE, DELETE or MERGE, once per array-bind row.
func (ss *session) dml(ctx context.Context, kw string, toks []token, args []any, arrays int) (*queryResult, error) {
	text := join(toks)
	if parseJSONInValues.MatchString(text) {
		// Snowflake evaluates VALUES rows as constants
		// (https://docs.snowflake.com/en/sql-reference/sql/insert#usage-notes).
		m := regexp.MustCompile(`(?is)PARSE_JSON\s*\([^)]*\)`).FindString(text)
		return nil, &Error{Code: 2014, SQLState: "22000", Message: fmt.Sprintf("SQL compilation error:\nInvalid expression [%s] in VALUES clause", m)}
	}
	q, err := ss.translate(toks)
	if err != nil {
		return nil, err
	}
	var capture []string // change tables of an INSERT's target
	if kw == "INSERT" {
		capture = ss.eng.sources[q.target]
	} else if kw == "MERGE" && len(ss.eng.sources[q.target]) > 0 {
		return nil, compileError("MERGE into %s, which has a stream, is not supported by the emulator", q.target)
	}
	// Autocommit DML that reads a stream, or feeds one, runs in a transaction of its own.
	own := !ss.inTx && (len(q.streams) > 0 || len(capture) > 0)
	if own {
		if _, err := ss.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return nil, duckError(err)
		}
		ss.inTx = true
	}
	total, err := ss.execDML(ctx, kw, q, capture, args, arrays)
	if err != nil {
		if own {
			_ = ss.rollback(ctx)
		}
		return nil, duckError(err)
	}
	for _, ch := range q.streams {
		ss.consumed[ch] = true
	}
	if own {
		if err := ss.commit(ctx); err != nil {
			return nil, err
		}
	}
	return dmlResult(kw, total), nil
}

// execDML runs a translated DML once, or once per array-bind row, and
// returns the rows affected.
func (ss *session) execDML(ctx context.Context, kw string, q translated, capture []string, args []any, arrays int) (int64, error) {
	if arrays > 0 && kw == "INSERT" {
		// Snowflake runs an array-bound INSERT … SELECT as one statement over
		// all rows; so does the emulator, through a table of the binds.
		if src, ok := bulkSource(q.insertSource); ok {
			return ss.insertArrays(ctx, q, src, capture, args, arrays)
		}
	}
	var total int64
	for i := 0; i < max(arrays, 1); i++ {
		a := args
		if arrays > 0 {
			a = row(args, i)
		}
		n, err := ss.execOnce(ctx, q, capture, a)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// execOnce runs the statement with scalar args, feeding the target's
// streams when it has any.
func (ss *session) execOnce(ctx context.Context, q translated, capture []string, args []any) (int64, error) {
	if len(capture) > 0 {
		return ss.insertCapturing(ctx, q, capture, args)
	}
	r, err := ss.conn.ExecContext(ctx, q.sql, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// insertCapturing inserts and appends the same rows to the change tables of
// the target's streams, in the statement's transaction.
func (ss *session) insertCapturing(ctx context.Context, q translated, changes []string, args []any) (int64, error) {
	if q.insertSource == "" {
		return 0, compileError("INSERT into %s (which has a stream) needs a column list and a SELECT or VALUES source", q.target)
	}
	if _, err := ss.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE __snowemu_capture AS SELECT * FROM ("+q.insertSource+") s", args...); err != nil {
		return 0, err
	}
	r, err := ss.conn.ExecContext(ctx, "INSERT INTO "+q.insertTarget+" "+q.insertColumns+" SELECT * FROM __snowemu_capture")
	if err != nil {
		return 0, err
	}
	for _, ch := range changes {
		if _, err := ss.conn.ExecContext(ctx, "INSERT INTO "+ch+" "+q.insertColumns+" SELECT * FROM __snowemu_capture"); err != nil {
			return 0, err
		}
	}
	if _, err := ss.conn.ExecContext(ctx, "DROP TABLE __snowemu_capture"); err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// bulkSource rewrites "SELECT <exprs with ?>" (no FROM) to read the i-th
// bind from column c<i> of the bind table; ok is false for other shapes.
func bulkSource(src string) (string, bool) {
	toks := tokenize(src)
	w := words(toks)
	if len(w) == 0 || !w[0].is("SELECT") {
		return "", false
	}
	depth, n := 0, 0
	var b strings.Builder
	for _, t := range toks {
		switch {
		case t.sym("("):
			depth++
		case t.sym(")"):
			depth--
		case depth == 0 && t.is("FROM", "WHERE", "UNION", "GROUP", "ORDER", "LIMIT"):
			return "", false
		case t.sym("?"):
			n++
			b.WriteString(fmt.Sprintf("__b.c%d", n))
			continue
		}
		b.WriteString(t.text)
	}
	return b.String() + " FROM temp.main.__snowemu_binds __b", true
}

// insertArrays loads the array binds into a temporary table with DuckDB's
// Appender and runs the INSERT once over it.
func (ss *session) insertArrays(ctx context.Context, q translated, src string, capture []string, args []any, rows int) (int64, error) {
	cols := make([]string, len(args))
	for i, a := range args {
		typ := "VARCHAR"
		vals, _ := a.([]any)
		probe := a
		for _, v := range vals {
			if v != nil {
				probe = v
				break
			}
		}
		switch probe.(type) {
		case int64:
			typ = "BIGINT"
		case float64:
			typ = "DOUBLE"
		case bool:
			typ = "BOOLEAN"
		case time.Time:
			typ = "TIMESTAMP"
		case []byte:
			typ = "BLOB"
		}
		cols[i] = fmt.Sprintf("c%d %s", i+1, typ)
	}
	if _, err := ss.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE __snowemu_binds ("+strings.Join(cols, ", ")+")"); err != nil {
		return 0, err
	}
	err := ss.conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "__snowemu_binds")
		if err != nil {
			return err
		}
		for i := 0; i < rows; i++ {
			vals := make([]driver.Value, len(args))
			for k, v := range row(args, i) {
				vals[k] = v
			}
			if err := a.AppendRow(vals...); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		return 0, err
	}
	bulk := q
	bulk.insertSource = src
	bulk.sql = "INSERT INTO " + q.insertTarget + " " + q.insertColumns + " " + src
	n, err := ss.execOnce(ctx, bulk, capture, nil)
	if err != nil {
		return 0, err
	}
	_, err = ss.conn.ExecContext(ctx, "DROP TABLE temp.main.__snowemu_binds")
	return n, err
}

func dmlResult(kw string, n int64) *queryResult {
	s, zero := strconv.FormatInt(n, 10), "0"
	col := func(name string) column { return column{name: name, typ: "fixed", precision: 19} }
	switch kw {
	case "INSERT":
		return &queryResult{stmtType: typeInsert, columns: []column{col("number of rows inserted")}, rows: [][]*string{{&s}}, produced: n}
	case "UPDATE":
		return &queryResult{stmtType: typeUpdate, columns: []column{col("number of rows updated"), col("number of multi-joined rows updated")}, rows: [][]*string{{&s, &zero}}, produced: n}
	case "DELETE":
		return &queryResult{stmtType: typeDelete, columns: []column{col("number of rows deleted")}, rows: [][]*string{{&s}}, produced: n}
	}
	// DuckDB reports one count for a MERGE: it is given as inserted, and the
	// sum (what RowsAffected returns) is right.
	return &queryResult{stmtType: typeMerge, columns: []column{col("number of rows inserted"), col("number of rows updated")}, rows: [][]*string{{&s, &zero}}, produced: n}
}

// create handles the CREATE statements of Dropflow's migrations.
func (ss *session) create(ctx context.Context, toks []token, w []token) (*queryResult, error) {
	i := 1
	orReplace, temporary := false, false
	if w[i].is("OR") && i+1 < len(w) && w[i+1].is("REPLACE") {
		orReplace, i = true, i+2 // views reach DuckDB as written
	}
	if w[i].is("TEMPORARY", "TEMP") {
		temporary, i = true, i+1
	}
	if w[i].is("TRANSIENT") {
		i++
	}
	kind := w[i].upper()
	i++
	ifNotExists := false
	if i+2 < len(w) && w[i].is("IF") && w[i+1].is("NOT") && w[i+2].is("EXISTS") {
		ifNotExists, i = true, i+3
	}
	name, j := dottedName(w, i)
	if name == nil {
		return nil, compileError("syntax error: object name expected after CREATE %s", kind)
	}
	qualified := ss.qualify(name)
	rest := w[j:]
	switch kind {
	case "WAREHOUSE":
		_, err := ss.eng.db.ExecContext(ctx, `INSERT INTO snowemu.emu.warehouses VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, strings.Join(name, "."), join(toks), time.Now().UTC())
		if err != nil {
			return nil, duckError(err)
		}
		return ddlResult(fmt.Sprintf("Warehouse %s successfully created.", strings.Join(name, "."))), nil
	case "DATABASE":
		db := name[0]
		ss.eng.mu.Lock()
		defer ss.eng.mu.Unlock()
		exists := ss.eng.databaseExists(ctx, db)
		if exists && !ifNotExists {
			return nil, &Error{Code: 2002, SQLState: "42710", Message: fmt.Sprintf("SQL compilation error:\nObject '%s' already exists.", db)}
		}
		if !exists {
			if err := ss.eng.attach(ctx, db); err != nil {
				return nil, err
			}
			if _, err := ss.eng.db.ExecContext(ctx, `INSERT INTO snowemu.emu.databases VALUES (?, ?)`, db, time.Now().UTC()); err != nil {
				return nil, duckError(err)
			}
			if _, err := ss.conn.ExecContext(ctx, fmt.Sprintf(`CREATE SCHEMA IF NOT EXISTS "%s".PUBLIC`, db)); err != nil {
				return nil, duckError(err)
			}
		}
		// Like Snowflake, the session now uses the database.
		if err := ss.use(ctx, db, "PUBLIC"); err != nil {
			return nil, err
		}
		return ddlResult(fmt.Sprintf("Database %s successfully created.", db)), nil
	case "SCHEMA", "TABLE", "VIEW":
		if kind == "TABLE" && temporary {
			return ss.createTemp(ctx, toks, qualified)
		}
		q, err := ss.translate(stripPrimaryKeys(toks))
		if err != nil {
			return nil, err
		}
		if _, err := ss.conn.ExecContext(ctx, q.sql); err != nil {
			return nil, duckError(err)
		}
		return ddlResult(fmt.Sprintf("%s%s %s successfully created.", kind[:1], strings.ToLower(kind[1:]), name[len(name)-1])), nil
	case "STAGE":
		ss.eng.mu.Lock()
		defer ss.eng.mu.Unlock()
		if err := os.MkdirAll(stageDir(ss.eng.dir, qualified), 0o755); err != nil {
			return nil, fmt.Errorf("snowemu: stage %s: %w", qualified, err)
		}
		if _, err := ss.eng.db.ExecContext(ctx, `INSERT INTO snowemu.emu.stages VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, qualified, join(toks), time.Now().UTC()); err != nil {
			return nil, duckError(err)
		}
		ss.eng.stages[qualified] = stageDir(ss.eng.dir, qualified)
		return ddlResult(fmt.Sprintf("Stage area %s successfully created.", name[len(name)-1])), nil
	case "STREAM":
		return ss.createStream(ctx, qualified, rest, ifNotExists)
	case "TASK":
		return ss.createTask(ctx, toks, qualified, orReplace, ifNotExists)
	}
	return nil, unsupported(w)
}

// dottedName reads a.b.c from w at i and returns its parts and the next index.
func dottedName(w []token, i int) ([]string, int) {
	var parts []string
	for i < len(w) && (w[i].kind == tWord || w[i].kind == tQuoted) {
		parts = append(parts, identName(w[i]))
		if i+1 < len(w) && w[i+1].sym(".") {
			i += 2
			continue
		}
		return parts, i + 1
	}
	return parts, i
}

// stripPrimaryKeys drops PRIMARY KEY constraints: Snowflake records but does
// not enforce them (https://docs.snowflake.com/en/sql-reference/constraints-overview),
// DuckDB would.
func stripPrimaryKeys(toks []token) []token {
	var out []token
	for i := 0; i < len(toks); i++ {
		if toks[i].is("PRIMARY") {
			k := next(toks, i)
			if k < len(toks) && toks[k].is("KEY") {
				end := k
				if p := next(toks, k); p < len(toks) && toks[p].sym("(") {
					end = matching(toks, p)
					// A table constraint: drop the comma before it too.
					for len(out) > 0 && (out[len(out)-1].kind == tSpace || out[len(out)-1].sym(",")) {
						out = out[:len(out)-1]
					}
				}
				i = end
				continue
			}
		}
		out = append(out, toks[i])
	}
	return out
}

// createTemp makes a session-temporary table under the qualified name the
// session uses for it.
func (ss *session) createTemp(ctx context.Context, toks []token, qualified string) (*queryResult, error) {
	local := `"` + strings.ReplaceAll(qualified, ".", "__") + `"`
	// Columns: everything from the first parenthesis on.
	p := -1
	for i, t := range toks {
		if t.sym("(") {
			p = i
			break
		}
	}
	if p < 0 {
		return nil, compileError("CREATE TEMPORARY TABLE %s needs a column list in the emulator", qualified)
	}
	q, err := ss.translate(stripPrimaryKeys(toks[p:]))
	if err != nil {
		return nil, err
	}
	if _, err := ss.conn.ExecContext(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+local+" "+q.sql); err != nil {
		return nil, duckError(err)
	}
	ss.temps[qualified] = "temp.main." + local
	return ddlResult(fmt.Sprintf("Table %s successfully created.", qualified)), nil
}

// createStream records an APPEND_ONLY stream: a change table that every
// INSERT into the source also fills, and that a committed DML reading the
// stream empties (https://docs.snowflake.com/en/user-guide/streams-intro).
func (ss *session) createStream(ctx context.Context, qualified string, rest []token, ifNotExists bool) (*queryResult, error) {
	if len(rest) < 3 || !rest[0].is("ON") || !rest[1].is("TABLE") {
		return nil, compileError("CREATE STREAM %s: the emulator supports ON TABLE <name> APPEND_ONLY = TRUE", qualified)
	}
	src, j := dottedName(rest, 2)
	appendOnly := false
	for k := j; k+2 < len(rest); k++ {
		if rest[k].is("APPEND_ONLY") && rest[k+1].sym("=") && rest[k+2].is("TRUE") {
			appendOnly = true
		}
	}
	if !appendOnly {
		return nil, compileError("CREATE STREAM %s: only APPEND_ONLY = TRUE streams are emulated", qualified)
	}
	source := ss.qualify(src)
	ss.eng.mu.Lock()
	defer ss.eng.mu.Unlock()
	if _, ok := ss.eng.streams[qualified]; ok {
		if ifNotExists {
			return ddlResult(fmt.Sprintf("%s already exists, statement succeeded.", qualified)), nil
		}
		return nil, &Error{Code: 2002, SQLState: "42710", Message: fmt.Sprintf("SQL compilation error:\nObject '%s' already exists.", qualified)}
	}
	parts := strings.Split(qualified, ".")
	changes := fmt.Sprintf(`"%s"."%s"."__STREAM__%s"`, parts[0], parts[1], parts[2])
	srcParts := strings.Split(source, ".")
	if _, err := ss.conn.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE %s AS SELECT * FROM "%s"."%s"."%s" LIMIT 0`, changes, srcParts[0], srcParts[1], srcParts[2])); err != nil {
		return nil, duckError(err)
	}
	if _, err := ss.eng.db.ExecContext(ctx, `INSERT INTO snowemu.emu.streams VALUES (?, ?, ?, true, ?)`, qualified, source, changes, time.Now().UTC()); err != nil {
		return nil, duckError(err)
	}
	ss.eng.streams[qualified] = stream{source, changes}
	ss.eng.sources[source] = append(ss.eng.sources[source], changes)
	return ddlResult(fmt.Sprintf("Stream %s successfully created.", parts[2])), nil
}

var taskRE = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TASK\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+(.*?)\bAS\s+(.*)$`)

// createTask stores a task with its warehouse, schedule, condition and
// body, suspended as Snowflake creates it
// (https://docs.snowflake.com/en/sql-reference/sql/create-task); the body
// is compiled now so that a task that could never run is refused.
func (ss *session) createTask(ctx context.Context, toks []token, qualified string, orReplace, ifNotExists bool) (*queryResult, error) {
	m := taskRE.FindStringSubmatch(join(toks))
	if m == nil {
		return nil, compileError("CREATE TASK %s: AS <statement> expected", qualified)
	}
	opts, body := m[1], strings.TrimSpace(m[2])
	get := func(re string) string {
		if x := regexp.MustCompile(`(?is)` + re).FindStringSubmatch(opts); x != nil {
			return strings.TrimSpace(x[1])
		}
		return ""
	}
	wh, sched, cond := get(`WAREHOUSE\s*=\s*(\S+)`), get(`SCHEDULE\s*=\s*'([^']*)'`), get(`WHEN\s+(.*)$`)
	q, err := ss.translate(tokenize(body))
	if err != nil {
		return nil, err
	}
	if st, err := ss.conn.PrepareContext(ctx, q.sql); err != nil {
		return nil, duckError(err)
	} else {
		st.Close()
	}
	if orReplace {
		if _, err := ss.eng.db.ExecContext(ctx, `DELETE FROM snowemu.emu.tasks WHERE name = ?`, qualified); err != nil {
			return nil, duckError(err)
		}
	}
	res, err := ss.eng.db.ExecContext(ctx, `INSERT INTO snowemu.emu.tasks VALUES (?, ?, ?, ?, ?, 'suspended', ?) ON CONFLICT DO NOTHING`, qualified, wh, sched, cond, body, time.Now().UTC())
	if err != nil {
		return nil, duckError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if ifNotExists {
			return ddlResult(fmt.Sprintf("%s already exists, statement succeeded.", qualified)), nil
		}
		return nil, &Error{Code: 2002, SQLState: "42710", Message: fmt.Sprintf("SQL compilation error:\nObject '%s' already exists.", qualified)}
	}
	return ddlResult(fmt.Sprintf("Task %s successfully created.", qualified)), nil
}

func (ss *session) alter(ctx context.Context, toks []token, w []token) (*queryResult, error) {
	switch {
	case len(w) >= 5 && w[1].is("TABLE"):
		return ss.alterTable(ctx, toks, w)
	case len(w) >= 3 && w[1].is("TASK"):
		name, j := dottedName(w, 2)
		if j >= len(w) || !w[j].is("RESUME", "SUSPEND") {
			return nil, unsupported(w)
		}
		state := "started"
		if w[j].is("SUSPEND") {
			state = "suspended"
		}
		r, err := ss.eng.db.ExecContext(ctx, `UPDATE snowemu.emu.tasks SET state = ? WHERE name = ?`, state, ss.qualify(name))
		if err != nil {
			return nil, duckError(err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil, objectMissing(ss.qualify(name))
		}
		return ddlResult("Statement executed successfully."), nil
	case len(w) >= 6 && w[1].is("SESSION") && w[2].is("SET") && w[3].is("QUERY_TAG") && w[4].sym("=") && w[5].kind == tString:
		ss.queryTag = unquote(w[5])
		return ddlResult("Statement executed successfully."), nil
	case len(w) >= 4 && w[1].is("SESSION") && w[2].is("UNSET") && w[3].is("QUERY_TAG"):
		ss.queryTag = ""
		return ddlResult("Statement executed successfully."), nil
	}
	return nil, unsupported(w)
}

func objectMissing(name string) *Error {
	return &Error{Code: 2003, SQLState: "02000", Message: fmt.Sprintf("SQL compilation error:\nObject '%s' does not exist or not authorized.", name)}
}

func (ss *session) useStatement(ctx context.Context, w []token) (*queryResult, error) {
	i := 1
	what := "DATABASE"
	if i < len(w) && w[i].is("DATABASE", "SCHEMA", "WAREHOUSE", "ROLE") {
		what, i = w[i].upper(), i+1
	}
	name, _ := dottedName(w, i)
	if len(name) == 0 {
		return nil, compileError("USE: object name expected")
	}
	switch what {
	case "WAREHOUSE":
		ss.warehouse = name[0]
	case "ROLE":
		ss.role = name[0]
	case "SCHEMA":
		db, sc := ss.database, name[0]
		if len(name) == 2 {
			db, sc = name[0], name[1]
		}
		if err := ss.use(ctx, db, sc); err != nil || ss.schema != sc {
			return nil, objectMissing(db + "." + sc)
		}
	default:
		if !ss.eng.databaseExists(ctx, name[0]) {
			return nil, objectMissing(name[0])
		}
		sc := ""
		if len(name) == 2 {
			sc = name[1]
		}
		if err := ss.use(ctx, name[0], sc); err != nil {
			return nil, err
		}
	}
	return ddlResult("Statement executed successfully."), nil
}

func (ss *session) drop(ctx context.Context, w []token) (*queryResult, error) {
	if len(w) < 3 || !w[1].is("DATABASE") {
		return nil, unsupported(w)
	}
	i := 2
	ifExists := false
	if i+1 < len(w) && w[i].is("IF") && w[i+1].is("EXISTS") {
		ifExists, i = true, i+2
	}
	name, _ := dottedName(w, i)
	if len(name) != 1 {
		return nil, compileError("DROP DATABASE: one name expected")
	}
	db := name[0]
	ss.eng.mu.Lock()
	defer ss.eng.mu.Unlock()
	if !ss.eng.databaseExists(ctx, db) {
		if ifExists {
			return ddlResult(fmt.Sprintf("Drop statement executed successfully (%s already dropped).", db)), nil
		}
		return nil, objectMissing(db)
	}
	if ss.database == db {
		if _, err := ss.conn.ExecContext(ctx, "USE snowemu.main"); err != nil {
			return nil, duckError(err)
		}
		ss.database, ss.schema = "", ""
	}
	if _, err := ss.eng.db.ExecContext(ctx, fmt.Sprintf(`DETACH "%s"`, db)); err != nil {
		return nil, duckError(err)
	}
	for _, q := range []string{`DELETE FROM snowemu.emu.databases WHERE name = ?`, `DELETE FROM snowemu.emu.streams WHERE name LIKE ? || '.%'`, `DELETE FROM snowemu.emu.stages WHERE name LIKE ? || '.%'`, `DELETE FROM snowemu.emu.tasks WHERE name LIKE ? || '.%'`} {
		if _, err := ss.eng.db.ExecContext(ctx, q, db); err != nil {
			return nil, duckError(err)
		}
	}
	for n, st := range ss.eng.streams {
		if strings.HasPrefix(n, db+".") {
			delete(ss.eng.streams, n)
			delete(ss.eng.sources, st.source)
		}
	}
	for n := range ss.eng.stages {
		if strings.HasPrefix(n, db+".") {
			delete(ss.eng.stages, n)
		}
	}
	_ = os.Remove(filepath.Join(ss.eng.dir, db+".duckdb"))
	_ = os.RemoveAll(stageDir(ss.eng.dir, db))
	return ddlResult(fmt.Sprintf("%s successfully dropped.", db)), nil
}

// duckError turns a DuckDB error into Snowflake's shape: compilation errors
// for unknown objects and bad SQL, the data errors for bad values.
func duckError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Catalog Error") && (strings.Contains(msg, "does not exist") || strings.Contains(msg, "not found")):
		return &Error{Code: 2003, SQLState: "42S02", Message: "SQL compilation error:\n" + msg}
	case strings.Contains(msg, "Parser Error"), strings.Contains(msg, "Binder Error"), strings.Contains(msg, "Catalog Error"):
		return &Error{Code: 1003, SQLState: "42000", Message: "SQL compilation error:\n" + msg}
	case strings.Contains(msg, "NOT NULL constraint"):
		return &Error{Code: 100072, SQLState: "22000", Message: "NULL result in a non-nullable column: " + msg}
	case strings.Contains(msg, "Conversion Error"), strings.Contains(msg, "Invalid Input Error"):
		return &Error{Code: 100038, SQLState: "22018", Message: msg}
	case strings.Contains(msg, "Conflict"):
		// Snowflake would wait for the lock; the client retries this one.
		return &Error{Code: 625, SQLState: "57014", Message: "Statement aborted by a concurrent transaction (retry): " + msg}
	}
	return &Error{Code: 100000, SQLState: "XX000", Message: msg}
}

// alterTable runs ALTER TABLE … ADD COLUMN [IF NOT EXISTS] …: on the table,
// then on its streams' change tables, which (as on Snowflake) show the new
// column from then on.
func (ss *session) alterTable(ctx context.Context, toks []token, w []token) (*queryResult, error) {
	name, j := dottedName(w, 2)
	if name == nil || j >= len(w) || !w[j].is("ADD") {
		return nil, compileError("ALTER TABLE: the emulator supports ADD COLUMN only")
	}
	q, err := ss.translate(toks)
	if err != nil {
		return nil, err
	}
	if _, err := ss.conn.ExecContext(ctx, q.sql); err != nil {
		return nil, duckError(err)
	}
	source := ss.qualify(name)
	ss.eng.mu.Lock()
	changes := append([]string(nil), ss.eng.sources[source]...)
	ss.eng.mu.Unlock()
	parts := strings.Split(source, ".")
	for _, ch := range changes {
		cparts := strings.Split(strings.ReplaceAll(ch, `"`, ""), ".")
		rows, err := ss.conn.QueryContext(ctx, `SELECT s.column_name, s.data_type FROM information_schema.columns s
WHERE s.table_catalog = ? AND s.table_schema = ? AND s.table_name = ?
  AND s.column_name NOT IN (SELECT c.column_name FROM information_schema.columns c WHERE c.table_catalog = ? AND c.table_schema = ? AND c.table_name = ?)
ORDER BY s.ordinal_position`, parts[0], parts[1], parts[2], cparts[0], cparts[1], cparts[2])
		if err != nil {
			return nil, duckError(err)
		}
		var add []string
		for rows.Next() {
			var col, typ string
			if err := rows.Scan(&col, &typ); err != nil {
				rows.Close()
				return nil, duckError(err)
			}
			add = append(add, fmt.Sprintf(`ALTER TABLE %s ADD COLUMN "%s" %s`, ch, col, typ))
		}
		rows.Close()
		for _, a := range add {
			if _, err := ss.conn.ExecContext(ctx, a); err != nil {
				return nil, duckError(err)
			}
		}
	}
	return ddlResult("Statement executed successfully."), nil
}
