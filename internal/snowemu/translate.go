package snowemu

import (
	"fmt"
	"strings"
)

// translated is a statement rewritten for DuckDB.
type translated struct {
	sql     string
	streams []string // change tables the statement reads (it consumes them if DML)
	target  string   // DML target, qualified
	// An INSERT's parts, for feeding streams.
	insertTarget, insertColumns, insertSource string
}

// Snowflake types → DuckDB types (https://docs.snowflake.com/en/sql-reference/intro-summary-data-types).
var typeMap = map[string]string{
	"STRING": "VARCHAR", "TEXT": "VARCHAR", "VARCHAR": "VARCHAR", "CHAR": "VARCHAR",
	"VARIANT": "JSON", "OBJECT": "JSON", "ARRAY": "JSON",
	"TIMESTAMP_NTZ": "TIMESTAMP", "DATETIME": "TIMESTAMP", "TIMESTAMP_LTZ": "TIMESTAMPTZ", "TIMESTAMP_TZ": "TIMESTAMPTZ",
	"NUMBER": "DECIMAL", "NUMERIC": "DECIMAL", "FLOAT": "DOUBLE", "FLOAT4": "DOUBLE", "FLOAT8": "DOUBLE", "REAL": "DOUBLE",
}

// translate rewrites Snowflake SQL for DuckDB: VARIANT paths (col:a:b::T),
// types, temporary tables and streams under their session names, and the
// functions DuckDB spells differently. Unknown syntax is left for DuckDB to
// refuse, which the server reports as a compilation error.
func (ss *session) translate(toks []token) (translated, error) {
	var t translated
	w := words(toks)
	if len(w) > 2 {
		switch {
		case w[0].is("INSERT") && w[1].is("INTO"):
			return ss.translateInsert(toks)
		case w[0].is("MERGE") && w[1].is("INTO"), w[0].is("DELETE") && w[1].is("FROM"):
			name, _ := dottedName(w, 2)
			t.target = ss.qualify(name)
		case w[0].is("UPDATE"):
			name, _ := dottedName(w, 1)
			t.target = ss.qualify(name)
		}
	}
	out, err := ss.rewrite(toks, &t, "")
	t.sql = out
	return t, err
}

func (ss *session) translateInsert(toks []token) (translated, error) {
	var t translated
	// INSERT INTO <name> [(cols)] <source>
	i := 0
	for n := 0; n < 2; i++ {
		if toks[i].kind != tSpace {
			n++
		}
	}
	start := next(toks, i-1)
	end := start
	for end < len(toks) && (toks[end].kind == tWord || toks[end].kind == tQuoted || toks[end].sym(".")) {
		end++
	}
	var parts []string
	for _, tk := range toks[start:end] {
		if !tk.sym(".") {
			parts = append(parts, identName(tk))
		}
	}
	t.target = ss.qualify(parts)
	target, err := ss.rewrite(toks[start:end], &t, "")
	if err != nil {
		return t, err
	}
	rest := toks[end:]
	cols := ""
	if p := next(rest, -1); p < len(rest) && rest[p].sym("(") {
		if m := matching(rest, p); m > 0 {
			// A column list, unless the parenthesis opens a subquery.
			if q := next(rest, p); q < len(rest) && !rest[q].is("SELECT", "WITH") {
				cols = join(rest[p : m+1])
				rest = rest[m+1:]
			}
		}
	}
	src, err := ss.rewrite(rest, &t, "")
	if err != nil {
		return t, err
	}
	t.insertTarget, t.insertColumns, t.insertSource = target, cols, strings.TrimSpace(src)
	if w := words(rest); len(w) > 0 && w[0].is("VALUES") {
		t.insertSource = "SELECT * FROM (" + t.insertSource + ")"
	}
	t.sql = "INSERT INTO " + target + " " + cols + " " + src
	return t, nil
}

// rewrite translates a token range; dollar1 replaces $1 (COPY transforms).
func (ss *session) rewrite(toks []token, t *translated, dollar1 string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		if tk.kind != tWord && tk.kind != tQuoted {
			b.WriteString(tk.text)
			continue
		}
		// A dotted name starting here (not the tail of one).
		if p := prev(toks, i); p >= 0 && (toks[p].sym(".") || toks[p].sym("@")) {
			b.WriteString(tk.text)
			continue
		}
		j, parts := i, []string{}
		for {
			parts = append(parts, identName(toks[j]))
			if j+2 < len(toks) && toks[j+1].sym(".") && (toks[j+2].kind == tWord || toks[j+2].kind == tQuoted) {
				j += 2
				continue
			}
			break
		}
		after := next(toks, j)
		isCall := after < len(toks) && toks[after].sym("(")
		if isCall && len(parts) == 1 {
			handled, skip, text, err := ss.function(toks, i, after, t, dollar1)
			if err != nil {
				return "", err
			}
			if handled {
				b.WriteString(text)
				i = skip
				continue
			}
		}
		base := join(toks[i : j+1])
		_, typeWord := typeMap[parts[0]]
		if !isCall || (len(parts) == 1 && typeWord) {
			q := ss.qualify(parts)
			// A bare name is a table only where a table goes (not an alias or column).
			if len(parts) == 1 && !tablePosition(toks, i) {
				q = ""
			}
			if tmp, ok := ss.temps[q]; ok {
				base = tmp
			} else if st, ok := ss.eng.streams[q]; ok {
				base = st.changes
				t.streams = append(t.streams, st.changes)
			} else if len(parts) == 1 && tk.kind == tWord {
				if m, ok := typeMap[parts[0]]; ok && isTypePosition(toks, i) {
					base = m
					if m == "DECIMAL" && !(after < len(toks) && toks[after].sym("(")) {
						base = "DECIMAL(38, 0)"
					}
				}
				if parts[0] == "$1" && dollar1 != "" {
					base = dollar1
				}
			}
		}
		// VARIANT path: base:key:key[::TYPE]
		if after < len(toks) && toks[after].sym(":") {
			text, skip, err := ss.path(toks, base, after)
			if err != nil {
				return "", err
			}
			b.WriteString(text)
			i = skip
			continue
		}
		b.WriteString(base)
		i = j
	}
	return b.String(), nil
}

// tablePosition reports whether the name at i follows a keyword that
// introduces a table.
func tablePosition(toks []token, i int) bool {
	p := prev(toks, i)
	return p >= 0 && toks[p].is("FROM", "JOIN", "INTO", "UPDATE", "USING", "TABLE")
}

// isTypePosition: after ::, after AS inside CAST, or as a column's type
// (after a column name in a definition list).
func isTypePosition(toks []token, i int) bool {
	p := prev(toks, i)
	if p < 0 {
		return false
	}
	if toks[p].sym("::") || toks[p].is("AS") {
		return true
	}
	// Column definition: "<name> TYPE" right after "(" or ",".
	if toks[p].kind == tWord || toks[p].kind == tQuoted {
		pp := prev(toks, p)
		return pp >= 0 && (toks[pp].sym("(") || toks[pp].sym(","))
	}
	return false
}

// path turns base:k1:k2[::T] into DuckDB's JSON functions
// (https://docs.snowflake.com/en/user-guide/querying-semistructured#traversing-semi-structured-data).
func (ss *session) path(toks []token, base string, at int) (string, int, error) {
	var keys []string
	k := at
	last := at
	for k < len(toks) && toks[k].sym(":") {
		key := next(toks, k)
		if key >= len(toks) || (toks[key].kind != tWord && toks[key].kind != tQuoted) {
			return "", 0, compileError("syntax error: a key is expected after ':'")
		}
		// Keys keep their case: Snowflake path keys are case-sensitive.
		keys = append(keys, strings.Trim(toks[key].text, `"`))
		last = key
		k = next(toks, key)
	}
	jp := quoteLiteral("$." + strings.Join(keys, "."))
	if k < len(toks) && toks[k].sym("::") {
		ty := next(toks, k)
		if ty >= len(toks) || toks[ty].kind != tWord {
			return "", 0, compileError("syntax error: a type is expected after '::'")
		}
		name := toks[ty].upper()
		end := ty
		args := ""
		if a := next(toks, ty); a < len(toks) && toks[a].sym("(") {
			end = matching(toks, a)
			args = join(toks[a : end+1])
		}
		mapped, ok := typeMap[name]
		if !ok {
			mapped = name
		}
		switch mapped {
		case "VARCHAR":
			return fmt.Sprintf("json_extract_string(%s, %s)", base, jp), end, nil
		case "JSON":
			return fmt.Sprintf("json_extract(%s, %s)", base, jp), end, nil
		}
		return fmt.Sprintf("CAST(json_extract_string(%s, %s) AS %s%s)", base, jp, mapped, args), end, nil
	}
	return fmt.Sprintf("json_extract(%s, %s)", base, jp), last, nil
}

// function rewrites the calls DuckDB spells differently; handled is false
// for the others (left to DuckDB or to the session macros).
func (ss *session) function(toks []token, i, open int, t *translated, dollar1 string) (bool, int, string, error) {
	name := toks[i].upper()
	closeAt := matching(toks, open)
	if closeAt < 0 {
		return false, 0, "", compileError("syntax error: unbalanced parenthesis after %s", name)
	}
	inner := toks[open+1 : closeAt]
	switch name {
	case "SYSTEM$STREAM_HAS_DATA":
		w := words(inner)
		if len(w) != 1 || w[0].kind != tString {
			return false, 0, "", compileError("SYSTEM$STREAM_HAS_DATA takes one stream name literal")
		}
		parts := strings.Split(strings.ToUpper(unquote(w[0])), ".")
		q := ss.qualify(parts)
		st, ok := ss.eng.streams[q]
		if !ok {
			return false, 0, "", objectMissing(q)
		}
		// Reading it does not consume the stream.
		return true, closeAt, fmt.Sprintf("(SELECT count(*) > 0 FROM %s)", st.changes), nil
	case "TO_CHAR", "TO_VARCHAR":
		// TO_CHAR(expr, 'format') with a date/time format.
		depth, comma := 0, -1
		for k, tk := range inner {
			switch {
			case tk.sym("("):
				depth++
			case tk.sym(")"):
				depth--
			case tk.sym(",") && depth == 0:
				comma = k
			}
		}
		if comma < 0 {
			return false, 0, "", nil
		}
		fw := words(inner[comma+1:])
		if len(fw) != 1 || fw[0].kind != tString {
			return false, 0, "", compileError("TO_CHAR: the emulator supports a literal format only")
		}
		f, err := strftimeFormat(unquote(fw[0]))
		if err != nil {
			return false, 0, "", err
		}
		expr, err := ss.rewrite(inner[:comma], t, dollar1)
		if err != nil {
			return false, 0, "", err
		}
		return true, closeAt, fmt.Sprintf("strftime(%s, %s)", expr, quoteLiteral(f)), nil
	case "DATEDIFF", "TIMEDIFF", "TIMESTAMPDIFF":
		// Snowflake's date part is a bare word (DATEDIFF(millisecond, a, b)); DuckDB's a string.
		w := words(inner)
		if len(w) == 0 || w[0].kind != tWord || len(w) < 2 || !w[1].sym(",") {
			return false, 0, "", nil
		}
		rest := inner
		for k, tk := range inner {
			if tk.sym(",") {
				rest = inner[k+1:]
				break
			}
		}
		args, err := ss.rewrite(rest, t, dollar1)
		if err != nil {
			return false, 0, "", err
		}
		return true, closeAt, fmt.Sprintf("date_diff(%s, %s)", quoteLiteral(strings.ToLower(w[0].text)), args), nil
	case "TABLE":
		w := words(inner)
		if len(w) >= 5 && w[0].is("INFORMATION_SCHEMA") && w[1].sym(".") && w[2].is("QUERY_HISTORY") {
			return true, closeAt, "snowemu.emu.query_history", nil
		}
		return false, 0, "", compileError("TABLE(%s): only INFORMATION_SCHEMA.QUERY_HISTORY() is emulated", join(inner))
	}
	return false, 0, "", nil
}

// dateFormatElements map Snowflake's format elements to strftime's, longest first.
var dateFormatElements = []struct{ snowflake, strftime string }{
	{"YYYY", "%Y"}, {"HH24", "%H"}, {"MM", "%m"}, {"DD", "%d"}, {"MI", "%M"}, {"SS", "%S"},
}

// strftimeFormat converts a Snowflake date/time format
// (https://docs.snowflake.com/en/sql-reference/functions-conversion#date-and-time-formats-in-conversion-functions).
func strftimeFormat(f string) (string, error) {
	var b strings.Builder
next:
	for i := 0; i < len(f); {
		rest := strings.ToUpper(f[i:])
		for _, e := range dateFormatElements {
			if strings.HasPrefix(rest, e.snowflake) {
				b.WriteString(e.strftime)
				i += len(e.snowflake)
				continue next
			}
		}
		switch {
		case f[i] == '"':
			j := strings.IndexByte(f[i+1:], '"')
			if j < 0 {
				return "", compileError("Can't parse '%s' as date/time format", f)
			}
			b.WriteString(strings.ReplaceAll(f[i+1:i+1+j], "%", "%%"))
			i += j + 2
		case strings.ContainsRune("-:/ .T", rune(f[i])):
			b.WriteByte(f[i])
			i++
		default:
			return "", compileError("Can't parse '%s' as date/time format (the emulator knows YYYY MM DD HH24 MI SS)", f)
		}
	}
	return b.String(), nil
}
