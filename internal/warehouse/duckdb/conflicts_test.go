package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dropflow/dropflow/internal/warehouse/duckdb"
	"github.com/dropflow/dropflow/internal/warehouse/warehousetest"
)

func TestEventIDConflicts(t *testing.T) {
	ctx := context.Background()
	d, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	warehousetest.Conflicts(t, d)
}
