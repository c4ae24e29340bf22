package snowemu

import (
	"context"
	"database/sql/driver"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

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
