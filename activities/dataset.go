package activities

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/params"
)

// Error types of data that differs between hosts.
const (
	// ErrDatasetMismatch: regenerating a data set did not give the recorded
	// checksums (a worker of another generator version).
	ErrDatasetMismatch = "DatasetMismatch"
	// ErrSourceChanged: a CSV the user supplied differs from what the run's
	// first chunk read (another file at the same path on this host, or edited).
	ErrSourceChanged = "SourceChanged"
)

// fileCache remembers checksums by file state, so that a chunk opening a
// verified file again costs one stat, and serialises regeneration per data
// set. Its zero value is ready.
type fileCache struct {
	mu    sync.Mutex
	sums  map[fileState]string
	regen map[string]*sync.Mutex
}

type fileState struct {
	path  string
	size  int64
	mtime int64
}

// checksum returns path's SHA-256, from the cache while the file is unchanged.
func (c *fileCache) checksum(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	key := fileState{path: path, size: st.Size(), mtime: st.ModTime().UnixNano()}
	c.mu.Lock()
	sum, ok := c.sums[key]
	c.mu.Unlock()
	if ok {
		return sum, nil
	}
	if sum, err = datagen.Checksum(path); err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.sums == nil {
		c.sums = map[fileState]string{}
	}
	c.sums[key] = sum
	c.mu.Unlock()
	return sum, nil
}

func (c *fileCache) regenLock(key string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.regen == nil {
		c.regen = map[string]*sync.Mutex{}
	}
	m, ok := c.regen[key]
	if !ok {
		m = &sync.Mutex{}
		c.regen[key] = m
	}
	return m
}

func (a *Activities) host() string {
	if a.Settings.Host != "" {
		return a.Settings.Host
	}
	h, _ := os.Hostname()
	return h
}

func specOf(ds params.Dataset) (datagen.Spec, error) {
	asOf, err := time.Parse(time.RFC3339, ds.AsOf)
	if err != nil {
		return datagen.Spec{}, &params.InvalidInputError{Field: "dataset.as_of", Reason: err.Error()}
	}
	return datagen.Spec{Seed: ds.Seed, Customers: ds.Customers, Products: ds.Products, Orders: ds.Orders, AsOf: asOf, Generator: ds.Generator}, nil
}

// describe returns the data set of the files in dir (their spec and checksums).
func (a *Activities) describe(dir string, spec datagen.Spec) (params.Dataset, error) {
	files := datagen.FilesIn(dir)
	ds := params.Dataset{Seed: spec.Seed, Customers: spec.Customers, Products: spec.Products, Orders: spec.Orders,
		AsOf: spec.AsOf.UTC().Format(time.RFC3339), Generator: max(spec.Generator, 1)}
	var err error
	for _, f := range []struct {
		path string
		dst  *string
	}{{files.Customers, &ds.CustomersSHA256}, {files.Inventory, &ds.InventorySHA256}, {files.Orders, &ds.OrdersSHA256}} {
		if *f.dst, err = a.files.checksum(f.path); err != nil {
			return ds, fmt.Errorf("checksum of %s: %w", f.path, err)
		}
	}
	return ds, nil
}

// holds reports whether dir holds exactly the data set ds.
func (a *Activities) holds(dir string, spec datagen.Spec, ds params.Dataset) bool {
	prev, ok, err := datagen.Existing(dir)
	if err != nil || !ok || !prev.Same(spec) {
		return false
	}
	got, err := a.describe(dir, spec)
	if err != nil {
		return false
	}
	same := func(want, have string) bool { return want == "" || want == have }
	return same(ds.CustomersSHA256, got.CustomersSHA256) && same(ds.InventorySHA256, got.InventorySHA256) && same(ds.OrdersSHA256, got.OrdersSHA256)
}

// datasetFiles returns this host's copy of the data set's CSVs: the seed
// directory's when it holds exactly that data set, else a copy regenerated
// under DATA_DIR/datasets/<key> and checked against the recorded checksums.
// Nothing here depends on which worker ran SeedData.
func (a *Activities) datasetFiles(ctx context.Context, ds params.Dataset) (datagen.Files, error) {
	spec, err := specOf(ds)
	if err != nil {
		return datagen.Files{}, err
	}
	seedDir := filepath.Join(a.Settings.DataDir, "seed")
	if a.holds(seedDir, spec, ds) {
		return datagen.FilesIn(seedDir), nil
	}
	dir := filepath.Join(a.Settings.DataDir, "datasets", spec.Key())
	lock := a.files.regenLock(spec.Key())
	lock.Lock()
	defer lock.Unlock()
	if a.holds(dir, spec, ds) {
		return datagen.FilesIn(dir), nil
	}
	began := time.Now()
	if _, err := datagen.Generate(dir, spec); err != nil {
		return datagen.Files{}, fmt.Errorf("regenerate data set %s in %s: %w", spec.Key(), dir, err)
	}
	got, err := a.describe(dir, spec)
	if err != nil {
		return datagen.Files{}, err
	}
	for _, c := range []struct{ name, want, have string }{
		{datagen.CustomersFile, ds.CustomersSHA256, got.CustomersSHA256},
		{datagen.InventoryFile, ds.InventorySHA256, got.InventorySHA256},
		{datagen.OrdersFile, ds.OrdersSHA256, got.OrdersSHA256},
	} {
		if c.want != "" && c.want != c.have {
			return datagen.Files{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"data set %s regenerated on host %s gives %s with SHA-256 %s, the data set records %s: this worker's generator (version %d) differs from the one that seeded it; run one build on every worker",
				spec.Key(), a.host(), c.name, c.have, c.want, datagen.GeneratorVersion), ErrDatasetMismatch, nil)
		}
	}
	activity.GetLogger(ctx).Info("data set regenerated on this host", "dataset", spec.Key(), "dir", dir, "took", time.Since(began).String())
	return datagen.FilesIn(dir), nil
}

// userCSV checks a CSV the user supplied: it must be at its path on this
// host (every worker's, since any may run the chunk) and, when pin is set,
// have the content the run's first chunk read. It returns its SHA-256.
func (a *Activities) userCSV(field, path, pin string) (string, error) {
	sum, err := a.files.checksum(path)
	if os.IsNotExist(err) {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s %s: no such file on worker host %s; a CSV you supply must be at the same path on every worker of the queue (a shared mount), or let SeedData generate the data set",
			field, path, a.host()), ErrInvalidInput, nil)
	}
	if err != nil {
		return "", fmt.Errorf("%s %s on host %s: %w", field, path, a.host(), err)
	}
	if pin != "" && sum != pin {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s %s on worker host %s has SHA-256 %s, but this run started on content %s: the file differs between hosts or changed during the run; put one copy on a shared mount",
			field, path, a.host(), sum, pin), ErrSourceChanged, nil)
	}
	return sum, nil
}

// currentDataset resolves the data set a run uses when its input names none:
// the one SeedData recorded last in the warehouse.
func (a *Activities) currentDataset(ctx context.Context, field string) (params.Dataset, error) {
	ds, ok, err := a.WH.CurrentDataset(ctx)
	if err != nil {
		return ds, classify(err)
	}
	if !ok {
		return ds, classify(&params.InvalidInputError{Field: field, Reason: "no data set recorded in the warehouse: run SeedData first (starter seed --wait), or pass a dataset or a CSV on a shared path"})
	}
	return ds, nil
}
