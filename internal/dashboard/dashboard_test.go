package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropflow/dropflow/internal/warehouse"
)

func server(t *testing.T) (*Server, *warehouse.DuckDB) {
	t.Helper()
	d, err := warehouse.OpenDuckDB(context.Background(), filepath.Join(t.TempDir(), "d.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	return &Server{WH: d, TemporalUIURL: "http://ui", Namespace: "default"}, d
}

func TestEmptyWarehouseIsAPageNotAnError(t *testing.T) {
	s, _ := server(t)
	h := s.Handler()
	for _, path := range []string{"/", "/api/summary", "/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !strings.Contains(rec.Body.String(), "none yet") {
		t.Fatal("empty state missing")
	}
}

func TestSummaryFigures(t *testing.T) {
	s, d := server(t)
	rows, err := d.Query(context.Background(), `INSERT INTO prod.orders VALUES
	 (1,1,1000,2,10.00,20.00,'paid','2026-01-01','e1',1,'2026-01-01'),
	 (2,2,1000,1,5.50,5.50,'paid','2026-01-02','e2',1,'2026-01-02')`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/summary", nil))
	var sum Summary
	if err := json.Unmarshal(rec.Body.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Orders != 2 || sum.Revenue != 25.5 || sum.Customers != 2 || sum.Products != 1 || sum.AvgOrderValue != 12.75 || sum.Layers["prod_orders"] != 2 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestReadyzNamesTheFailingDependency(t *testing.T) {
	s, _ := server(t)
	s.Ready = []Check{{Name: "kafka", Fn: func(context.Context) error { return errors.New("connection refused") }}}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "kafka") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
