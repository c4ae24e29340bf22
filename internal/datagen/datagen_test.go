package datagen

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var asOf = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func gen(t *testing.T, s Spec) Files {
	t.Helper()
	f, err := Generate(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestDeterministic(t *testing.T) {
	s := Spec{Seed: 7, Customers: 50, Products: 10, Orders: 300, AsOf: asOf}
	a, b := gen(t, s), gen(t, s)
	for _, p := range [][2]string{{a.Customers, b.Customers}, {a.Inventory, b.Inventory}, {a.Orders, b.Orders}} {
		x, _ := os.ReadFile(p[0])
		y, _ := os.ReadFile(p[1])
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between two runs with the same seed", filepath.Base(p[0]))
		}
	}
	s.Seed = 8
	c := gen(t, s)
	x, _ := os.ReadFile(a.Orders)
	y, _ := os.ReadFile(c.Orders)
	if bytes.Equal(x, y) {
		t.Fatal("another seed must give other orders")
	}
}

func TestContract(t *testing.T) {
	s := Spec{Seed: 1, Customers: 1000, Products: 200, Orders: 5000, AsOf: asOf}
	f := gen(t, s)
	cust, inv, ord := readCSV(t, f.Customers), readCSV(t, f.Inventory), readCSV(t, f.Orders)
	if strings.Join(cust[0], ",") != strings.Join(CustomersHeader, ",") ||
		strings.Join(inv[0], ",") != strings.Join(InventoryHeader, ",") ||
		strings.Join(ord[0], ",") != strings.Join(OrdersHeader, ",") {
		t.Fatal("headers differ from the contract")
	}
	if len(cust)-1 != 1000 || len(inv)-1 != 200 || len(ord)-1 != 5000 {
		t.Fatalf("counts %d/%d/%d", len(cust)-1, len(inv)-1, len(ord)-1)
	}
	price := map[string]string{}
	for _, r := range inv[1:] {
		price[r[0]] = r[3]
	}
	for i, r := range ord[1:] {
		if r[0] != strconv.Itoa(i+1) {
			t.Fatalf("order ids must be 1..N, row %d has %s", i, r[0])
		}
		c, _ := strconv.Atoi(r[1])
		if c < 1 || c > 1000 {
			t.Fatalf("order %s references missing customer %s", r[0], r[1])
		}
		if p, ok := price[r[2]]; !ok || p != r[4] {
			t.Fatalf("order %s: product %s missing or price %s != %s", r[0], r[2], r[4], p)
		}
		sold, err := time.Parse(time.RFC3339, r[6])
		if err != nil || !strings.HasSuffix(r[6], "Z") || !sold.Before(asOf) || sold.Before(asOf.Add(-OrderWindow)) {
			t.Fatalf("order %s: sold_at %q outside the window or not UTC ISO 8601", r[0], r[6])
		}
	}
	orders, err := ReadAllOrders(f.Orders)
	if err != nil || len(orders) != 5000 {
		t.Fatalf("read back: %d, %v", len(orders), err)
	}
}

func TestBadCSVNamesLineAndColumn(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "orders.csv")
	body := strings.Join(OrdersHeader, ",") + "\n1,1,1000,2,9.99,paid,2026-01-01T00:00:00Z\n2,1,1000,zero,9.99,paid,2026-01-01T00:00:00Z\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenOrders(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	var ce *CSVError
	if !errors.As(err, &ce) || ce.Line != 3 || ce.Column != "quantity" {
		t.Fatalf("want error at line 3 column quantity, got %v", err)
	}
	if _, err := OpenOrders(filepath.Join(dir, "missing.csv")); err == nil {
		t.Fatal("missing file must fail")
	}
}

func TestOpenOrdersAtResumesAtTheSameRow(t *testing.T) {
	f := gen(t, Spec{Seed: 4, Customers: 5, Products: 3, Orders: 50, AsOf: asOf})
	all, err := ReadAllOrders(f.Orders)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenOrders(f.Orders)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Skip(20); err != nil {
		t.Fatal(err)
	}
	off := r.Offset()
	r.Close()
	r2, err := OpenOrdersAt(f.Orders, off, 20)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	o, err := r2.Next()
	if err != nil || o != all[20] || r2.Row() != 21 {
		t.Fatalf("resumed at %+v (row %d), want %+v", o, r2.Row(), all[20])
	}
	if _, err := r2.Next(); err != nil || r2.Offset() <= off {
		t.Fatal("offset must advance")
	}
}

// TestProductsReadLikeTheirCategory: every product's name is made of its
// category's words and its price lies in the category's range.
func TestProductsReadLikeTheirCategory(t *testing.T) {
	f := gen(t, Spec{Seed: 3, Customers: 10, Products: 400, Orders: 10, AsOf: asOf})
	rows := readCSV(t, f.Inventory)[1:]
	names, cats := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		cat, ok := CategoryNamed(r[2])
		if !ok {
			t.Fatalf("product %s: category %q is not in the catalog", r[0], r[2])
		}
		if !cat.Describes(r[1]) {
			t.Fatalf("product %s: name %q is not from %s's vocabulary", r[0], r[1], r[2])
		}
		whole, frac, _ := strings.Cut(r[3], ".")
		w, _ := strconv.Atoi(whole)
		if c := w*100 + mustAtoi(t, frac); c < cat.MinCents || c > cat.MaxCents {
			t.Fatalf("product %s (%s): price %s outside %d..%d cents", r[0], r[2], r[3], cat.MinCents, cat.MaxCents)
		}
		names[r[1]], cats[r[2]] = true, true
	}
	if len(cats) != len(Catalog) {
		t.Fatalf("%d of %d categories used by 400 products", len(cats), len(Catalog))
	}
	if len(names) < 350 {
		t.Fatalf("only %d distinct names for 400 products", len(names))
	}
	if (Category{Qualifiers: []string{"Cast Iron"}, Items: []string{"Skillet"}}).Describes("Cast Iron Salt Shaker") {
		t.Fatal("Describes accepts an item outside the vocabulary")
	}
	if c, _ := CategoryNamed("Beauty"); c.Describes("Cast Iron Salt Shaker") {
		t.Fatal("a kitchen product reads as Beauty")
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
