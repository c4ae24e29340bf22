// Package datagen generates the shop's customers, products and orders as CSV,
// deterministically for a given seed and anchor time, and reads orders.csv back.
package datagen

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/dropflow/dropflow/internal/events"
)

// File names inside the output directory.
const (
	CustomersFile = "customers.csv"
	InventoryFile = "inventory.csv"
	OrdersFile    = "orders.csv"
	ManifestFile  = "manifest.json"
)

// Column headers: the contract of ARCHITECTURE.md.
var (
	CustomersHeader = []string{"customer_id", "name", "email", "city", "channel", "created_at"}
	InventoryHeader = []string{"product_id", "product_name", "category", "unit_price", "stock_quantity", "updated_at"}
	OrdersHeader    = []string{"order_id", "customer_id", "product_id", "quantity", "unit_price", "status", "sold_at"}
)

// FirstProductID is the id of the first product; products are numbered from it.
const FirstProductID = 1000

// OrderWindow is how far before AsOf orders are spread.
const OrderWindow = 90 * 24 * time.Hour

// GeneratorVersion names this build's generation rules. The CSVs are a pure
// function of (Spec, GeneratorVersion): any worker regenerates them
// byte-identically, so the version is recorded with a data set and files of
// another version are never mistaken for it.
//
// Version 2 draws each product's name and price from its category (Catalog);
// version 1 drew name, category and price independently.
const GeneratorVersion = 2

// Spec says what to generate.
type Spec struct {
	Seed      int64     `json:"seed"`
	Customers int       `json:"customers"`
	Products  int       `json:"products"`
	Orders    int       `json:"orders"`
	AsOf      time.Time `json:"as_of"`
	// Generator is the GeneratorVersion that wrote the files (0 in manifests
	// written before it was recorded, which were version 1).
	Generator int `json:"generator,omitempty"`
}

// Same reports whether two specs describe the same files.
func (s Spec) Same(o Spec) bool {
	g := func(v int) int { return max(v, 1) }
	return s.Seed == o.Seed && s.Customers == o.Customers && s.Products == o.Products && s.Orders == o.Orders &&
		s.AsOf.Equal(o.AsOf) && g(s.Generator) == g(o.Generator)
}

// Key names the data set in file paths: seed, counts, as_of and generator.
func (s Spec) Key() string {
	return fmt.Sprintf("seed%d-c%d-p%d-o%d-%s-g%d", s.Seed, s.Customers, s.Products, s.Orders, s.AsOf.UTC().Format("20060102T150405Z"), max(s.Generator, 1))
}

// Validate refuses counts that cannot make a consistent data set.
func (s Spec) Validate() error {
	if s.Customers < 1 || s.Products < 1 || s.Orders < 1 {
		return fmt.Errorf("datagen: customers, products and orders must each be >= 1 (got %d, %d, %d)", s.Customers, s.Products, s.Orders)
	}
	if s.AsOf.IsZero() {
		return errors.New("datagen: as_of is required (it anchors every timestamp)")
	}
	return nil
}

// Files are the paths of a generated set.
type Files struct {
	Dir       string
	Customers string
	Inventory string
	Orders    string
}

// FilesIn returns the file paths inside dir.
func FilesIn(dir string) Files {
	return Files{Dir: dir, Customers: filepath.Join(dir, CustomersFile), Inventory: filepath.Join(dir, InventoryFile), Orders: filepath.Join(dir, OrdersFile)}
}

// ts formats a time as ISO 8601 UTC with a trailing Z, second precision.
func ts(t time.Time) string { return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z") }

// statusWeights give a realistic mix; the cumulative order follows events.Statuses().
var statusWeights = []int{8, 22, 25, 38, 4, 3}

// Existing reads the manifest in dir; ok is false when there is none.
func Existing(dir string) (Spec, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return Spec{}, false, nil
	}
	if err != nil {
		return Spec{}, false, fmt.Errorf("datagen: read manifest: %w", err)
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return Spec{}, false, fmt.Errorf("datagen: manifest %s is corrupt: %w", filepath.Join(dir, ManifestFile), err)
	}
	for _, f := range []string{CustomersFile, InventoryFile, OrdersFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return s, false, nil
		}
	}
	return s, true, nil
}

// Generate writes the three CSVs and the manifest into dir. Each file is
// written to a temporary name and renamed, so a crash never leaves half a file.
func Generate(dir string, s Spec) (Files, error) {
	if err := s.Validate(); err != nil {
		return Files{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("datagen: create %s: %w", dir, err)
	}
	if s.Generator == 0 {
		s.Generator = GeneratorVersion
	}
	if s.Generator != GeneratorVersion {
		return Files{}, fmt.Errorf("datagen: generator version %d requested, this build generates version %d", s.Generator, GeneratorVersion)
	}
	f := gofakeit.New(uint64(s.Seed))
	asOf := s.AsOf.UTC()
	files := FilesIn(dir)

	customers := make([][]string, 0, s.Customers)
	for id := 1; id <= s.Customers; id++ {
		name := f.Name()
		local := strings.ToLower(strings.NewReplacer(" ", ".", "'", "", "-", "").Replace(name))
		created := asOf.Add(-OrderWindow - time.Duration(f.IntRange(0, 365*24*3600))*time.Second)
		channel := "online"
		if f.IntRange(0, 99) < 30 {
			channel = "store"
		}
		customers = append(customers, []string{strconv.Itoa(id), name, fmt.Sprintf("%s.%d@example.com", local, id), f.City(), channel, ts(created)})
	}

	prices := make([]events.Cents, s.Products)
	inventory := make([][]string, 0, s.Products)
	seen := make(map[string]bool, s.Products)
	for i := 0; i < s.Products; i++ {
		cat := Catalog[f.IntRange(0, len(Catalog)-1)]
		name, cents := cat.draw(f.IntRange, seen)
		prices[i] = events.Cents(cents)
		updated := asOf.Add(-time.Duration(f.IntRange(3600, 30*24*3600)) * time.Second)
		inventory = append(inventory, []string{strconv.Itoa(FirstProductID + i), name, cat.Name,
			prices[i].String(), strconv.Itoa(f.IntRange(0, 1000)), ts(updated)})
	}

	// Orders are kept compact (24 bytes each) and streamed to the file: a
	// million rows as [][]string held ~300 MB of the worker's peak.
	type order struct {
		soldAt            int64 // unix seconds
		customer, product int32
		quantity, status  uint8
	}
	orders := make([]order, s.Orders)
	total := 0
	for _, w := range statusWeights {
		total += w
	}
	for i := range orders {
		r, st := f.IntRange(0, total-1), 0
		for st < len(statusWeights)-1 && r >= statusWeights[st] {
			r -= statusWeights[st]
			st++
		}
		orders[i] = order{
			soldAt:   asOf.Add(-time.Duration(f.IntRange(1, int(OrderWindow/time.Second))) * time.Second).Unix(),
			customer: int32(f.IntRange(1, s.Customers)),
			product:  int32(f.IntRange(0, s.Products-1)),
			quantity: uint8(f.IntRange(1, 5)),
			status:   uint8(st),
		}
	}
	// Ids rise with time, as a shop's order numbers do.
	sort.SliceStable(orders, func(a, b int) bool { return orders[a].soldAt < orders[b].soldAt })
	statuses := events.Statuses()

	if err := writeCSV(files.Customers, CustomersHeader, customers); err != nil {
		return Files{}, err
	}
	if err := writeCSV(files.Inventory, InventoryHeader, inventory); err != nil {
		return Files{}, err
	}
	err := writeAtomic(files.Orders, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(OrdersHeader); err != nil {
			return err
		}
		row := make([]string, 7)
		for i, o := range orders {
			row[0], row[1], row[2] = strconv.Itoa(i+1), strconv.Itoa(int(o.customer)), strconv.Itoa(FirstProductID+int(o.product))
			row[3], row[4], row[5] = strconv.Itoa(int(o.quantity)), prices[o.product].String(), statuses[o.status]
			row[6] = ts(time.Unix(o.soldAt, 0))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return Files{}, err
	}
	m, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return Files{}, fmt.Errorf("datagen: manifest: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, ManifestFile), func(w io.Writer) error { _, err := w.Write(append(m, '\n')); return err }); err != nil {
		return Files{}, err
	}
	return files, nil
}

// Checksum returns the hex SHA-256 of a file: how a data set's files are
// recognised on any host.
func Checksum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("datagen: checksum: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("datagen: checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeCSV(path string, header []string, rows [][]string) error {
	return writeAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
}

func writeAtomic(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("datagen: create %s: %w", tmp, err)
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Close()
		return fmt.Errorf("datagen: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("datagen: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("datagen: close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("datagen: rename %s: %w", path, err)
	}
	return nil
}
