package snowemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

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

// dropTask runs DROP TASK [IF EXISTS] name.
func (ss *session) dropTask(ctx context.Context, w []token) (*queryResult, error) {
	i := 2
	ifExists := false
	if i+1 < len(w) && w[i].is("IF") && w[i+1].is("EXISTS") {
		ifExists, i = true, i+2
	}
	name, _ := dottedName(w, i)
	if len(name) == 0 {
		return nil, compileError("DROP TASK: task name expected")
	}
	qualified := ss.qualify(name)
	r, err := ss.eng.db.ExecContext(ctx, `DELETE FROM snowemu.emu.tasks WHERE name = ?`, qualified)
	if err != nil {
		return nil, duckError(err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		if ifExists {
			return ddlResult("Drop statement executed successfully (" + name[len(name)-1] + " already dropped)."), nil
		}
		return nil, objectMissing(qualified)
	}
	return ddlResult(name[len(name)-1] + " successfully dropped."), nil
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
	if len(w) >= 3 && w[1].is("TASK") {
		return ss.dropTask(ctx, w)
	}
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
