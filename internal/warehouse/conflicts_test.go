package warehouse_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/warehousetest"
)

func TestEventIDConflicts(t *testing.T) {
	ctx := context.Background()
	d, err := warehouse.OpenDuckDB(ctx, filepath.Join(t.TempDir(), "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx, false); err != nil {
		t.Fatal(err)
	}
	warehousetest.Conflicts(t, d)
}
