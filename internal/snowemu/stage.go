package snowemu

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	putRE    = regexp.MustCompile(`(?is)^PUT\s+'file://([^']+)'\s+@(\S+)\s*(.*)$`)
	removeRE = regexp.MustCompile(`(?is)^(?:REMOVE|RM)\s+@(\S+)\s*$`)
	optRE    = regexp.MustCompile(`(?is)(\w+)\s*=\s*('[^']*'|\([^)]*\)|\S+)`)
)

// stageRef splits @DB.SCHEMA.STAGE/path into the stage's qualified name,
// its directory and the path prefix.
func (ss *session) stageRef(ref string) (name, dir, prefix string, err error) {
	n, p, _ := strings.Cut(ref, "/")
	name = ss.qualify(strings.Split(strings.ToUpper(n), "."))
	dir, ok := ss.eng.stages[name]
	if !ok {
		return "", "", "", &Error{Code: 2003, SQLState: "02000", Message: fmt.Sprintf("SQL compilation error:\nStage '%s' does not exist or not authorized.", name)}
	}
	if strings.Contains(p, "..") {
		return "", "", "", compileError("stage path %q may not contain '..'", p)
	}
	return name, dir, p, nil
}

func options(s string) map[string]string {
	out := map[string]string{}
	for _, m := range optRE.FindAllStringSubmatch(s, -1) {
		out[strings.ToUpper(m[1])] = strings.Trim(m[2], "'")
	}
	return out
}

// put answers a PUT with a LOCAL_FS stage: the client copies (and
// compresses) the file into the stage directory itself
// (https://docs.snowflake.com/en/sql-reference/sql/put).
func (ss *session) put(text string) (*queryResult, error) {
	m := putRE.FindStringSubmatch(text)
	if m == nil {
		return nil, compileError("PUT 'file://<path>' @<stage>[/<path>] expected")
	}
	_, dir, prefix, err := ss.stageRef(m[2])
	if err != nil {
		return nil, err
	}
	o := options(m[3])
	for k := range o {
		switch k {
		case "AUTO_COMPRESS", "SOURCE_COMPRESSION", "OVERWRITE", "PARALLEL":
		default:
			return nil, compileError("PUT option %s is not supported by the emulator", k)
		}
	}
	target := filepath.Join(dir, filepath.FromSlash(prefix))
	if strings.HasSuffix(prefix, "/") || prefix == "" {
		target += string(filepath.Separator)
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return nil, fmt.Errorf("snowemu: stage directory: %w", err)
	}
	autoCompress := !strings.EqualFold(o["AUTO_COMPRESS"], "FALSE")
	compression := strings.ToLower(o["SOURCE_COMPRESSION"])
	if compression == "" {
		compression = "auto_detect"
	}
	return &queryResult{stmtType: typeSelect, extra: map[string]any{
		"command": "UPLOAD", "src_locations": []string{m[1]}, "autoCompress": autoCompress, "sourceCompression": compression,
		"overwrite": strings.EqualFold(o["OVERWRITE"], "TRUE"), "parallel": 1, "threshold": 200 << 20,
		"stageInfo": map[string]any{"locationType": "LOCAL_FS", "location": target, "path": prefix},
	}}, nil
}

// stagedFiles lists a stage's files under a path prefix, relative, sorted.
func stagedFiles(dir, prefix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, prefix) {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func (ss *session) remove(text string) (*queryResult, error) {
	m := removeRE.FindStringSubmatch(text)
	if m == nil {
		return nil, compileError("REMOVE @<stage>[/<path>] expected")
	}
	name, dir, prefix, err := ss.stageRef(m[1])
	if err != nil {
		return nil, err
	}
	files, err := stagedFiles(dir, prefix)
	if err != nil {
		return nil, fmt.Errorf("snowemu: list stage: %w", err)
	}
	res := &queryResult{stmtType: typeSelect, columns: []column{{name: "name", typ: "text"}, {name: "result", typ: "text"}}}
	for _, f := range files {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			return nil, fmt.Errorf("snowemu: remove %s: %w", f, err)
		}
		n, r := strings.ToLower(name)+"/"+f, "removed"
		res.rows = append(res.rows, []*string{&n, &r})
	}
	return res, nil
}

var (
	copyTransformRE = regexp.MustCompile(`(?is)^COPY\s+INTO\s+(\S+)\s*(\([^)]*\))?\s*FROM\s*\(\s*SELECT\s+(.*?)\s+FROM\s+@(\S+?)\s*\)\s*(.*)$`)
	copyPlainRE     = regexp.MustCompile(`(?is)^COPY\s+INTO\s+(\S+)\s*(\([^)]*\))?\s*FROM\s+@(\S+)\s*(.*)$`)
	fileFormatRE    = regexp.MustCompile(`(?is)FILE_FORMAT\s*=\s*\(([^)]*)\)`)
)

// copyInto loads staged files into a table, in the session's transaction
// (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table): JSON
// files through a transform (SELECT $1:… FROM @stage), CSV files by
// position. Files already loaded into the table are skipped unless FORCE.
func (ss *session) copyInto(ctx context.Context, toks []token) (*queryResult, error) {
	text := join(toks)
	var target, cols, exprs, ref, opts string
	if m := copyTransformRE.FindStringSubmatch(text); m != nil {
		target, cols, exprs, ref, opts = m[1], m[2], m[3], m[4], m[5]
	} else if m := copyPlainRE.FindStringSubmatch(text); m != nil {
		target, cols, ref, opts = m[1], m[2], m[3], m[4]
	} else {
		return nil, compileError("COPY INTO <table> [(cols)] FROM @stage | (SELECT … FROM @stage) expected")
	}
	ff := ""
	if m := fileFormatRE.FindStringSubmatch(opts); m != nil {
		ff = m[1]
		opts = strings.Replace(opts, m[0], "", 1)
	}
	format := options(ff)
	o := options(opts)
	for k, v := range o {
		switch {
		case k == "FORCE":
		case k == "ON_ERROR" && strings.EqualFold(v, "ABORT_STATEMENT"):
		default:
			return nil, compileError("COPY option %s = %s is not supported by the emulator", k, v)
		}
	}
	tt, err := ss.translate(tokenize(target))
	if err != nil {
		return nil, err
	}
	tq := ss.qualify(strings.Split(strings.ToUpper(target), "."))
	if len(ss.eng.sources[tq]) > 0 {
		return nil, compileError("COPY into %s, which has a stream, is not supported by the emulator", tq)
	}
	_, dir, prefix, err := ss.stageRef(ref)
	if err != nil {
		return nil, err
	}
	files, err := stagedFiles(dir, prefix)
	if err != nil {
		return nil, fmt.Errorf("snowemu: list stage: %w", err)
	}
	force := strings.EqualFold(o["FORCE"], "TRUE")
	loaded := map[string]bool{}
	if !force {
		done, err := ss.eng.strings(ctx, `SELECT file FROM snowemu.emu.load_history WHERE table_name = ?`, tq)
		if err != nil {
			return nil, err
		}
		for _, f := range done {
			loaded[f] = true
		}
	}
	var load func(path string) string
	switch typ := strings.ToUpper(format["TYPE"]); typ {
	case "JSON":
		if exprs == "" {
			return nil, compileError("COPY of JSON files needs a transform (SELECT $1:… FROM @stage) in the emulator")
		}
		sel, err := ss.rewrite(tokenize(exprs), &translated{}, "t.json")
		if err != nil {
			return nil, err
		}
		load = func(path string) string {
			return fmt.Sprintf("INSERT INTO %s %s SELECT %s FROM read_ndjson_objects(%s) t", tt.sql, cols, sel, quoteLiteral(path))
		}
	case "CSV":
		if exprs != "" {
			return nil, compileError("COPY of CSV files with a transform is not supported by the emulator")
		}
		skip := format["SKIP_HEADER"]
		if skip == "" {
			skip = "0"
		}
		if _, err := strconv.Atoi(skip); err != nil {
			return nil, compileError("SKIP_HEADER = %s", skip)
		}
		for k, v := range format {
			switch k {
			case "TYPE", "SKIP_HEADER":
			case "FIELD_OPTIONALLY_ENCLOSED_BY":
				if v != `"` {
					return nil, compileError("FIELD_OPTIONALLY_ENCLOSED_BY = '%s' is not supported by the emulator", v)
				}
			case "EMPTY_FIELD_AS_NULL":
				if !strings.EqualFold(v, "TRUE") {
					return nil, compileError("EMPTY_FIELD_AS_NULL = %s is not supported by the emulator", v)
				}
			case "TIMESTAMP_FORMAT":
				// ISO 8601 is what DuckDB's cast reads.
				if v != `YYYY-MM-DD"T"HH24:MI:SS"Z"` && !strings.EqualFold(v, "AUTO") {
					return nil, compileError("TIMESTAMP_FORMAT = '%s' is not supported by the emulator", v)
				}
			default:
				return nil, compileError("FILE_FORMAT option %s is not supported by the emulator", k)
			}
		}
		load = func(path string) string {
			return fmt.Sprintf("INSERT INTO %s %s SELECT * FROM read_csv(%s, header = false, skip = %s, all_varchar = true, quote = '\"', delim = ',')", tt.sql, cols, quoteLiteral(path), skip)
		}
	default:
		return nil, compileError("FILE_FORMAT TYPE = %s is not supported by the emulator (JSON, CSV)", typ)
	}
	res := &queryResult{stmtType: typeSelect, columns: []column{{name: "file", typ: "text"}, {name: "status", typ: "text"}, {name: "rows_parsed", typ: "fixed"}, {name: "rows_loaded", typ: "fixed"}, {name: "errors_seen", typ: "fixed"}}}
	for _, f := range files {
		if loaded[f] {
			continue
		}
		r, err := ss.conn.ExecContext(ctx, load(filepath.Join(dir, filepath.FromSlash(f))))
		if err != nil {
			return nil, duckError(err)
		}
		n, _ := r.RowsAffected()
		if _, err := ss.eng.db.ExecContext(ctx, `INSERT INTO snowemu.emu.load_history VALUES (?, ?, ?)`, tq, f, time.Now().UTC()); err != nil {
			return nil, duckError(err)
		}
		file, status, ns, zero := f, "LOADED", strconv.FormatInt(n, 10), "0"
		res.rows = append(res.rows, []*string{&file, &status, &ns, &ns, &zero})
		res.produced += n
	}
	if len(res.rows) == 0 {
		msg := "Copy executed with 0 files processed."
		res.columns, res.rows = []column{{name: "status", typ: "text"}}, [][]*string{{&msg}}
	}
	return res, nil
}
