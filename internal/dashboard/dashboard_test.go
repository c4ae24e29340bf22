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
	"time"

	"github.com/dropflow/dropflow/internal/warehouse/duckdb"
)

func server(t *testing.T) (*Server, *duckdb.Warehouse) {
	t.Helper()
	d, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "d.duckdb"))
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
	for _, path := range []string{"/api/kpis?range=24h", "/api/top-products", "/api/daily?range=7d", "/api/recent-orders", "/api/health", "/assets/chart.umd.min.js"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s on an empty warehouse: %d %s", path, rec.Code, rec.Body)
		}
	}
}

func TestParametersAreValidated(t *testing.T) {
	s, _ := server(t)
	for _, path := range []string{"/api/kpis?range=1y", "/api/kpis?range=24h%27%3B%20DROP%20TABLE%20prod.orders", "/api/recent-orders?limit=0", "/api/recent-orders?limit=1e9", "/api/daily?range=week"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("%s: %d, want 400", path, rec.Code)
		}
	}
}

func TestRangeChangesTheFigures(t *testing.T) {
	s, d := server(t)
	now := time.Now().UTC()
	rows, err := d.Query(context.Background(), `INSERT INTO prod.orders VALUES
	 (1,1,1000,2,10.00,20.00,'paid',?,'e1',1,?), (2,2,1001,1,5.50,5.50,'paid',?,'e2',1,?), (3,2,1001,3,5.50,16.50,'paid',?,'e3',1,?)`,
		now.Add(-time.Hour), now, now.Add(-3*24*time.Hour), now, now.Add(-60*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	get := func(path string, v any) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("%s: %v %s", path, err, rec.Body)
		}
	}
	for rng, want := range map[string]int64{"24h": 1, "7d": 2, "30d": 2, "all": 3} {
		var k KPIs
		get("/api/kpis?range="+rng, &k)
		if k.Orders != want {
			t.Errorf("range %s: %d orders, want %d", rng, k.Orders, want)
		}
	}
	var top []TopProduct
	get("/api/top-products?range=all", &top)
	if len(top) != 2 || top[0].ProductID != 1001 || top[0].Revenue != 22 || top[0].Orders != 2 {
		t.Fatalf("top products %+v", top)
	}
	var recent []RecentOrder
	get("/api/recent-orders?limit=2", &recent)
	if len(recent) != 2 || recent[0].OrderID != 1 {
		t.Fatalf("recent %+v", recent)
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
	if sum.Orders != 2 || sum.Revenue != 25.5 || sum.Customers != 2 || sum.Products != 1 || sum.AvgOrderValue != 12.75 || sum.Layers.ProdOrders != 2 {
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

func TestHealthNamesTheFailingChecks(t *testing.T) {
	s, d := server(t)
	rep := `{"status":"FAIL","checks":[{"name":"prod_negative_price","status":"FAIL"},{"name":"freshness","status":"WARN"}]}`
	rows, err := d.Query(context.Background(), `INSERT INTO ops.validation_runs VALUES ('r1', ?, 'FAIL', 0, 1, 1, ?)`, time.Now().UTC(), rep)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/health", nil))
	var h Health
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
		t.Fatalf("%v %s", err, rec.Body)
	}
	if h.LastValidation == nil || h.LastValidation.Status != "FAIL" || strings.Join(h.LastValidation.Failing, ",") != "prod_negative_price" {
		t.Fatalf("last validation %+v", h.LastValidation)
	}
}

func TestEventSchemaAndConflictsAreServed(t *testing.T) {
	s, d := server(t)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/schema/order-event", nil))
	var schema map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &schema); err != nil || rec.Code != http.StatusOK || schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" ||
		rec.Header().Get("Content-Type") != "application/schema+json" {
		t.Fatalf("schema: %d %v %.200s", rec.Code, err, rec.Body)
	}
	rows, err := d.Query(context.Background(), `INSERT INTO raw.orders_events_rejected VALUES ('t', 0, 5, NULL, '{}', 'event_id_conflict', 'x', now(), 0, 1, '{}'), ('t', 0, 6, NULL, '{', 'invalid_json', 'x', now(), NULL, NULL, NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/health", nil))
	var h Health
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil || h.EventIDConflicts != 1 || h.Layers.RawRejected != 2 {
		t.Fatalf("health: %v %s", err, rec.Body)
	}
}
