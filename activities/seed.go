package activities

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/params"
)

// GenerateCSVs writes customers.csv, inventory.csv and orders.csv. Files
// generated earlier with the same seed and counts are reused unless
// Regenerate is set, so a rerun changes nothing.
func (a *Activities) GenerateCSVs(ctx context.Context, in params.SeedDataInput) (params.SeedDataResult, error) {
	in, err := in.WithDefaults()
	if err != nil {
		return params.SeedDataResult{}, classify(err)
	}
	dir := in.OutputDir
	if dir == "" {
		dir = filepath.Join(a.Settings.DataDir, "seed")
	}
	asOf, err := time.Parse(time.RFC3339, in.AsOf)
	if err != nil {
		return params.SeedDataResult{}, classify(&params.InvalidInputError{Field: "as_of", Reason: err.Error()})
	}
	spec := datagen.Spec{Seed: in.Seed, Customers: in.Customers, Products: in.Products, Orders: in.Orders, AsOf: asOf}
	files := datagen.FilesIn(dir)
	res := params.SeedDataResult{Dir: dir, CustomersCSV: files.Customers, InventoryCSV: files.Inventory, OrdersCSV: files.Orders,
		Customers: in.Customers, Products: in.Products, Orders: in.Orders}
	prev, ok, err := datagen.Existing(dir)
	if err != nil {
		return res, err
	}
	if ok && !in.Regenerate && prev.Seed == spec.Seed && prev.Customers == spec.Customers && prev.Products == spec.Products && prev.Orders == spec.Orders {
		res.Reused, res.AsOf = true, prev.AsOf.UTC().Format(time.RFC3339)
		activity.GetLogger(ctx).Info("seed CSVs reused", "dir", dir, "as_of", res.AsOf)
		return res, nil
	}
	if _, err := datagen.Generate(dir, spec); err != nil {
		return res, classify(fmt.Errorf("generate seed CSVs in %s: %w", dir, err))
	}
	res.AsOf = asOf.UTC().Format(time.RFC3339)
	activity.GetLogger(ctx).Info("seed CSVs generated", "dir", dir, "customers", in.Customers, "products", in.Products, "orders", in.Orders)
	return res, nil
}

// LoadReferenceData upserts PROD.customers and PROD.inventory from the CSVs.
func (a *Activities) LoadReferenceData(ctx context.Context, in params.SeedDataResult) (params.SeedDataResult, error) {
	var err error
	if in.ProdCustomers, err = a.WH.LoadCustomers(ctx, in.CustomersCSV); err != nil {
		return in, classify(err)
	}
	if in.ProdInventory, err = a.WH.LoadInventory(ctx, in.InventoryCSV); err != nil {
		return in, classify(err)
	}
	return in, nil
}
