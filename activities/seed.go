package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/params"
)

// GenerateCSVs writes customers.csv, inventory.csv and orders.csv on this
// worker and records the data set (spec and checksums) in the warehouse, so
// that later steps on any worker regenerate and verify the same files. Files
// generated earlier with the same seed and counts are reused unless
// Regenerate is set, so a rerun changes nothing.
func (a *Activities) GenerateCSVs(ctx context.Context, in params.SeedDataInput) (params.SeedDataResult, error) {
	defer heartbeatEvery(ctx, 2*time.Second)()
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
	spec := datagen.Spec{Seed: in.Seed, Customers: in.Customers, Products: in.Products, Orders: in.Orders, AsOf: asOf, Generator: datagen.GeneratorVersion}
	files := datagen.FilesIn(dir)
	res := params.SeedDataResult{Host: a.host(), Dir: dir, CustomersCSV: files.Customers, InventoryCSV: files.Inventory, OrdersCSV: files.Orders,
		Customers: in.Customers, Products: in.Products, Orders: in.Orders}
	prev, ok, err := datagen.Existing(dir)
	if err != nil {
		return res, err
	}
	if ok && !in.Regenerate && prev.Seed == spec.Seed && prev.Customers == spec.Customers && prev.Products == spec.Products && prev.Orders == spec.Orders && max(prev.Generator, 1) == spec.Generator {
		res.Reused, spec = true, prev
		activity.GetLogger(ctx).Info("seed CSVs reused", "dir", dir, "as_of", prev.AsOf)
	} else {
		if _, err := datagen.Generate(dir, spec); err != nil {
			return res, classify(fmt.Errorf("generate seed CSVs in %s: %w", dir, err))
		}
		activity.GetLogger(ctx).Info("seed CSVs generated", "dir", dir, "customers", in.Customers, "products", in.Products, "orders", in.Orders)
	}
	res.AsOf = spec.AsOf.UTC().Format(time.RFC3339)
	if res.Dataset, err = a.describe(dir, spec); err != nil {
		return res, err
	}
	doc, err := json.Marshal(res.Dataset)
	if err != nil {
		return res, fmt.Errorf("encode data set: %w", err)
	}
	if err := a.WH.RecordDataset(ctx, spec.Key(), doc); err != nil {
		return res, classify(err)
	}
	return res, nil
}

// LoadReferenceData upserts PROD.customers and PROD.inventory from the data
// set's CSVs, regenerated on this worker when it does not hold them.
func (a *Activities) LoadReferenceData(ctx context.Context, in params.SeedDataResult) (params.SeedDataResult, error) {
	defer heartbeatEvery(ctx, 2*time.Second)()
	customers, inventory := in.CustomersCSV, in.InventoryCSV
	if in.Dataset.OrdersSHA256 != "" { // results recorded before data sets carry paths only
		files, err := a.datasetFiles(ctx, in.Dataset)
		if err != nil {
			return in, classify(err)
		}
		customers, inventory = files.Customers, files.Inventory
	}
	var err error
	if in.ProdCustomers, err = a.WH.LoadCustomers(ctx, customers); err != nil {
		return in, classify(err)
	}
	if in.ProdInventory, err = a.WH.LoadInventory(ctx, inventory); err != nil {
		return in, classify(err)
	}
	return in, nil
}
