// Package golden compares test output with files checked into testdata/,
// rewritten with `go test -update`; reviewers read the exact text there.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Updating reports whether the run rewrites golden files.
func Updating() bool { return *update }

// Check compares got with the file at path (or writes it with -update).
func Check(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s changed: review the difference and rerun the test with -update\n--- golden\n%s\n--- now\n%s", path, want, got)
	}
}

// Statements renders named statements in name order, one block each.
func Statements(stmts map[string]string) string {
	names := make([]string, 0, len(stmts))
	for n := range stmts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("-- " + n + "\n" + strings.TrimSpace(stmts[n]) + ";\n\n")
	}
	return b.String()
}
