package snowemu

import (
	"context"
	"errors"
	"strings"
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
