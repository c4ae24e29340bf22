package duckdb

import (
	"path/filepath"
	"sort"
	"testing"

	goldenfile "github.com/dropflow/dropflow/internal/golden"
)

// TestDuckDBStatementsGolden pins every statement the DuckDB adapter sends,
// one file per statement, and its dialect-specific dashboard reads.
func TestDuckDBStatementsGolden(t *testing.T) {
	names := make([]string, 0, len(duckStatements))
	for n := range duckStatements {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for _, n := range names {
		goldenfile.Check(t, filepath.Join("testdata", "duckdb", n+".sql"), duckSQL(n)+"\n")
		seen[n+".sql"] = true
	}
	goldenfile.Check(t, filepath.Join("testdata", "duckdb", "dashboard_queries.sql"), goldenfile.Statements(duckDBQueries))
	seen["dashboard_queries.sql"] = true
	files, _ := filepath.Glob(filepath.Join("testdata", "duckdb", "*.sql"))
	for _, f := range files {
		if !seen[filepath.Base(f)] && !goldenfile.Updating() {
			t.Errorf("%s pins no statement any more: delete it", f)
		}
	}
}
