// Package params holds the input and result types of Dropflow's workflows and
// activities. JSON field names are snake_case and public API; every input field
// is optional and its zero value means the documented default, applied by
// WithDefaults so that workflows and starter agree on it.
package params

import (
	"fmt"
	"time"
)

// Defaults of the data generator: a small shop's volumes.
const (
	DefaultSeed      int64 = 42
	DefaultCustomers int   = 1000
	DefaultProducts  int   = 200
	DefaultOrders    int   = 5000
)

// Defaults of the loader's batching and of the producer's chunks, which the
// inputs' ApplyDefaults and the CLI's help share.
const (
	DefaultBatchRecords = 5000
	DefaultBatchBytes   = 4 << 20
	DefaultBatchWait    = time.Second
	DefaultFollowChunk  = 10 * time.Minute
	// DefaultProduceChunk is large enough that the ~0.1 s activity round
	// trip is small next to the chunk, small enough that a crash resends little.
	DefaultProduceChunk = 50000
)

// Default intervals of the schedules "starter schedules apply" creates.
const (
	DefaultMergeEvery    = time.Minute
	DefaultValidateEvery = 15 * time.Minute
)

// InvalidInputError names the input field that is wrong. Workflows turn it into
// a non-retryable application error of type "InvalidInput".
type InvalidInputError struct {
	Field  string
	Reason string
}

func (e *InvalidInputError) Error() string {
	return fmt.Sprintf("invalid input: %s: %s", e.Field, e.Reason)
}

func invalid(field, format string, args ...any) error {
	return &InvalidInputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("5s", "250ms"), so that CLI users can type it.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON accepts a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		v, err := time.ParseDuration(s[1 : len(s)-1])
		if err != nil {
			return fmt.Errorf("duration %s: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"5s\"", s)
	}
	*d = Duration(n)
	return nil
}

// D returns the standard library duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ---------------------------------------------------------------- DeploySchema

// DeploySchemaInput is the input of DeploySchema.
type DeploySchemaInput struct {
	// DryRun prints the SQL that would run and changes nothing. Default false.
	DryRun bool `json:"dry_run,omitempty"`
}

// DeploySchemaResult lists what the deploy did.
type DeploySchemaResult struct {
	Applied []string `json:"applied"`
	Already []string `json:"already_applied"`
	// SQL is the script that would run (dry run) or that ran.
	SQL string `json:"sql,omitempty"`
}

// -------------------------------------------------------------------- SeedData

// SeedDataInput is the input of SeedData.
type SeedDataInput struct {
	// Seed of the generator; the same seed and counts give byte-identical CSVs. Default 42.
	Seed int64 `json:"seed,omitempty"`
	// Customers to generate. Default 1000.
	Customers int `json:"customers,omitempty"`
	// Products to generate. Default 200.
	Products int `json:"products,omitempty"`
	// Orders to generate. Default 5000.
	Orders int `json:"orders,omitempty"`
	// OutputDir for the CSVs. Default: the worker's DATA_DIR + "/seed".
	OutputDir string `json:"output_dir,omitempty"`
	// AsOf anchors every generated timestamp (RFC 3339); orders fall in the 90
	// days before it. Default: midnight UTC of the workflow's start day.
	AsOf string `json:"as_of,omitempty"`
	// Regenerate overwrites CSVs generated earlier with the same seed and counts.
	// Default false: they are reused, so a rerun is idempotent.
	Regenerate bool `json:"regenerate,omitempty"`
	// SkipProdLoad leaves PROD.customers and PROD.inventory untouched. Default false.
	SkipProdLoad bool `json:"skip_prod_load,omitempty"`
}

// WithDefaults fills zero fields and validates the rest.
func (in SeedDataInput) WithDefaults() (SeedDataInput, error) {
	if in.Seed == 0 {
		in.Seed = DefaultSeed
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"customers", &in.Customers, DefaultCustomers}, {"products", &in.Products, DefaultProducts}, {"orders", &in.Orders, DefaultOrders}} {
		if *f.v < 0 {
			return in, invalid(f.name, "must be >= 1, got %d", *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if in.AsOf != "" {
		if _, err := time.Parse(time.RFC3339, in.AsOf); err != nil {
			return in, invalid("as_of", "want RFC 3339 such as 2026-01-31T00:00:00Z, got %q", in.AsOf)
		}
	}
	return in, nil
}

// Dataset identifies a generated data set by what it is, not where it lies:
// the generator's inputs and version, and each CSV's SHA-256. Any worker
// regenerates the files from it byte-identically and checks them against the
// checksums, so no activity depends on another host's disk.
type Dataset struct {
	Seed      int64  `json:"seed"`
	Customers int    `json:"customers"`
	Products  int    `json:"products"`
	Orders    int    `json:"orders"`
	AsOf      string `json:"as_of"`
	Generator int    `json:"generator"`
	// Hex SHA-256 of customers.csv, inventory.csv and orders.csv.
	CustomersSHA256 string `json:"customers_sha256"`
	InventorySHA256 string `json:"inventory_sha256"`
	OrdersSHA256    string `json:"orders_sha256"`
}

// SeedDataResult describes the generated files.
type SeedDataResult struct {
	// Dataset is what later steps use, on any worker.
	Dataset Dataset `json:"dataset"`
	// Host is the worker that wrote Dir; Dir and the paths are for people
	// (that host's copy), never how another activity finds the data.
	Host          string `json:"host"`
	Dir           string `json:"dir"`
	CustomersCSV  string `json:"customers_csv"`
	InventoryCSV  string `json:"inventory_csv"`
	OrdersCSV     string `json:"orders_csv"`
	Customers     int    `json:"customers"`
	Products      int    `json:"products"`
	Orders        int    `json:"orders"`
	AsOf          string `json:"as_of"`
	Reused        bool   `json:"reused"`
	ProdCustomers int64  `json:"prod_customers"`
	ProdInventory int64  `json:"prod_inventory"`
}
