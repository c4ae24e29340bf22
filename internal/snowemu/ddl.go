package snowemu

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

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
