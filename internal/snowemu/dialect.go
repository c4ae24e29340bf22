package snowemu

import (
	"strings"
)

// duckOnlyFunctions are DuckDB functions Snowflake does not have. The
// emulator runs on DuckDB, which would accept them: refusing them here keeps
// DuckDB SQL that slipped into the Snowflake path from passing the tests and
// failing on a real account (Snowflake: 002140 Unknown function).
var duckOnlyFunctions = map[string]bool{
	"STRFTIME": true, "STRPTIME": true, "EPOCH": true, "EPOCH_MS": true, "EPOCH_US": true, "EPOCH_NS": true,
	"READ_CSV": true, "READ_CSV_AUTO": true, "READ_JSON": true, "READ_JSON_AUTO": true, "READ_NDJSON": true,
	"READ_NDJSON_OBJECTS": true, "READ_JSON_OBJECTS": true, "READ_PARQUET": true, "PARQUET_SCAN": true,
	"JSON_EXTRACT": true, "JSON_EXTRACT_STRING": true, "JSON_VALID": true, "JSON": true,
	"STRING_AGG": true, "GROUP_CONCAT": true, "LIST_VALUE": true, "STRUCT_PACK": true, "UNNEST": true,
	"REGEXP_MATCHES": true, "DATE_DIFF": true, "DATE_PART": true, "NOW": true, "TODAY": true,
	"GEN_RANDOM_UUID": true, "RANGE": true, "GENERATE_SERIES": true, "LIST": true, "ARRAY_AGG_DISTINCT": true,
}

// duckOnlyStatements are statement keywords Snowflake does not have.
var duckOnlyStatements = map[string]bool{"PRAGMA": true, "ATTACH": true, "DETACH": true, "INSTALL": true, "LOAD": true,
	"EXPORT": true, "IMPORT": true, "CHECKPOINT": true, "VACUUM": true, "SUMMARIZE": true, "PIVOT": false, "DESCRIBE": false}

// snowflakeOnly refuses, before translation, the SQL that DuckDB would run
// and Snowflake would not: DuckDB-only functions, statements and syntax, and
// the emulator's own objects.
func snowflakeOnly(toks []token) error {
	w := words(toks)
	if len(w) > 0 && duckOnlyStatements[w[0].upper()] {
		return compileError("syntax error line 1 at position 0 unexpected '%s'.", w[0].text)
	}
	for i, t := range w {
		u := t.upper()
		switch {
		case t.kind == tWord && i+1 < len(w) && w[i+1].sym("(") && duckOnlyFunctions[u] && (i == 0 || !w[i-1].sym(".")):
			return &Error{Code: 2140, SQLState: "42601", Message: "SQL compilation error:\nUnknown function " + u}
		case t.sym("->>") || t.sym("->"):
			return compileError("syntax error: unexpected '%s' (DuckDB's JSON operators are not Snowflake's; use col:path)", t.text)
		case t.is("USING") && i+1 < len(w) && w[i+1].is("SAMPLE"):
			return compileError("syntax error: unexpected 'SAMPLE' (Snowflake samples with SAMPLE / TABLESAMPLE after the table)")
		case t.is("FILTER") && i+2 < len(w) && w[i+1].sym("(") && w[i+2].is("WHERE"):
			return compileError("syntax error: unexpected 'FILTER' (use COUNT_IF or IFF)")
		case t.is("INSERT") && i+2 < len(w) && w[i+1].is("OR") && w[i+2].is("REPLACE", "IGNORE"):
			return compileError("syntax error: unexpected 'OR' (Snowflake has no INSERT OR %s; use MERGE)", w[i+2].upper())
		case t.is("ON") && i+1 < len(w) && w[i+1].is("CONFLICT"):
			return compileError("syntax error: unexpected 'CONFLICT' (Snowflake has no ON CONFLICT; use MERGE)")
		case (t.kind == tWord || t.kind == tQuoted) && (strings.HasPrefix(u, "__STREAM__") || strings.HasPrefix(u, "__SNOWEMU") || strings.Trim(u, `"`) == "SNOWEMU"):
			return objectMissing(strings.Trim(t.text, `"`))
		}
	}
	return nil
}
