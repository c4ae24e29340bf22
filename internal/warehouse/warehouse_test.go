package warehouse

import (
	"path/filepath"
	"strconv"
	"testing"
	"testing/fstest"

	goldenfile "github.com/dropflow/dropflow/internal/golden"
)

// TestLayerQueriesGolden pins the layer counts, which both dialects run as
// they are.
func TestLayerQueriesGolden(t *testing.T) {
	layers := map[string]string{}
	for i, q := range layerQueries {
		layers[strconv.Itoa(i+1)+"_"+q.name] = q.q
	}
	goldenfile.Check(t, filepath.Join("testdata", "layer_counts.sql"), goldenfile.Statements(layers))
}

func TestSameMigrationNamesInBothDialects(t *testing.T) {
	a, err := Migrations(DialectDuckDB)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Migrations(DialectSnowflake)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d duckdb vs %d snowflake migrations", len(a), len(b))
	}
	for i := range a {
		if a[i].Version != b[i].Version {
			t.Fatalf("migration %d: %s vs %s", i, a[i].Version, b[i].Version)
		}
	}
	if _, err := migrationsFrom(fstest.MapFS{}, "none"); err == nil {
		t.Fatal("a missing directory must fail")
	}
}
