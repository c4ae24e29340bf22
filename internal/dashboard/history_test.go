package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dropflow/dropflow/internal/kafka"
)

// The trend samples keep Window, carry lag per partition and report p95
// freshness over the minute before each sample, null without merges.
func TestHistorySamplesLagAndFreshness(t *testing.T) {
	fresh := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "f", Buckets: []float64{0.5, 1, 2, 5}})
	lag := int64(100)
	h := &History{Interval: 10 * time.Second, Window: 30 * time.Minute, Freshness: fresh,
		Lag: func(context.Context) ([]kafka.PartitionLag, error) {
			return []kafka.PartitionLag{{Partition: 0, Lag: lag}, {Partition: 1, Lag: 2 * lag}}, nil
		}}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	h.Sample(ctx, t0)
	for i := 0; i < 100; i++ { // 95 fast merges, 5 slow ones
		fresh.Observe(map[bool]float64{true: 0.75, false: 4}[i < 95])
	}
	lag = 10
	h.Sample(ctx, t0.Add(30*time.Second))
	h.Sample(ctx, t0.Add(2*time.Minute)) // nothing merged in the minute before
	pts := h.Points()
	if len(pts) != 4 || pts[0].FreshnessP95 != nil || pts[2].FreshnessP95 != nil || pts[3].FreshnessP95 != nil {
		t.Fatalf("points %+v", pts) // the fourth is the live one, now: over an hour after t0
	}
	if p := *pts[1].FreshnessP95; p < 0.5 || p > 1 {
		t.Fatalf("p95 of 95×0.75 s and 5×4 s = %v, want within the (0.5, 1] bucket", p)
	}
	if pts[1].Lag[1].Lag != 20 || pts[0].Lag[0].Lag != 100 {
		t.Fatalf("lag %+v / %+v", pts[0].Lag, pts[1].Lag)
	}
	h.Sample(ctx, t0.Add(31*time.Minute))
	if pts = h.Points(); len(pts) != 3 || pts[0].At != t0.Add(2*time.Minute).Format(time.RFC3339) {
		t.Fatalf("window not kept: %+v", pts)
	}
	h.Lag = func(context.Context) ([]kafka.PartitionLag, error) { return nil, errors.New("broker down") }
	h.Sample(ctx, t0.Add(32*time.Minute))
	if pts = h.Points(); pts[len(pts)-1].LagError != "broker down" || pts[len(pts)-1].Lag == nil {
		t.Fatalf("lag error not kept: %+v", pts[len(pts)-1])
	}
}

// A merge shows in the live last point at once, before the next sample.
func TestHistoryLivePointShowsAMergeAtOnce(t *testing.T) {
	fresh := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "f", Buckets: []float64{0.5, 1, 2, 5}})
	h := &History{Interval: 10 * time.Second, Window: 30 * time.Minute, Freshness: fresh}
	h.Sample(context.Background(), time.Now().Add(-5*time.Second))
	fresh.Observe(1.5)
	pts := h.Points()
	if len(pts) != 2 || pts[0].FreshnessP95 != nil || pts[1].FreshnessP95 == nil || *pts[1].FreshnessP95 <= 1 || *pts[1].FreshnessP95 > 2 {
		t.Fatalf("points %+v", pts)
	}
}

func TestQuantileInterpolatesLikePrometheus(t *testing.T) {
	bounds := []float64{1, 2, 4, math.Inf(1)}
	for _, c := range []struct {
		q    float64
		cum  []uint64
		want float64
	}{
		{0.5, []uint64{0, 10, 10, 10}, 1.5}, // all in (1, 2]
		{0.95, []uint64{50, 100, 100, 100}, 1.9},
		{0.95, []uint64{0, 0, 0, 10}, 4}, // in +Inf: the highest finite bound
	} {
		if got, ok := quantile(c.q, bounds, c.cum); !ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("quantile(%v, %v) = %v, want %v", c.q, c.cum, got, c.want)
		}
	}
	if _, ok := quantile(0.95, bounds, []uint64{0, 0, 0, 0}); ok {
		t.Error("no observations must give no quantile")
	}
}

// /api/history gives 31 minutes of throughput from the warehouse, the
// current partial minute divided by its elapsed seconds.
func TestHistoryAPICountsPerMinute(t *testing.T) {
	s, d := server(t)
	now := time.Now().UTC()
	rows, err := d.Query(context.Background(), `INSERT INTO prod.orders VALUES
	 (1,1,1000,2,10.00,20.00,'paid',?,'e1',1,?), (2,2,1001,1,5.50,5.50,'paid',?,'e2',1,?), (3,2,1001,3,5.50,16.50,'paid',?,'e3',1,?)`,
		now, now.Add(-5*time.Minute), now, now.Add(-5*time.Minute), now, now.Add(-45*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	s.History = &History{Interval: time.Second, Window: time.Minute}
	s.History.Sample(context.Background(), now)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/history", nil))
	var tr Trends
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %v %s", rec.Code, err, rec.Body)
	}
	if len(tr.Minutes) < 30 || len(tr.Minutes) > 32 || len(tr.Samples) != 1 {
		t.Fatalf("%d minutes, %d samples", len(tr.Minutes), len(tr.Samples))
	}
	var prod float64
	for _, m := range tr.Minutes {
		prod += m.ProdPerS * 60
		if m.RawPerS != 0 {
			t.Fatalf("RAW is empty, minute %+v", m)
		}
	}
	if math.Abs(prod-2) > 1e-6 { // the order merged 45 minutes ago is outside
		t.Fatalf("%.3f PROD orders over the window, want 2: %+v", prod, tr.Minutes)
	}
}

// A warehouse that cannot be read is a 503 whose JSON names it and says
// what to do; the page shows both.
func TestUnreachableWarehouseIsNamed(t *testing.T) {
	s, d := server(t)
	s.Currency = "USD"
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/kpis", nil))
	var k KPIs
	if err := json.Unmarshal(rec.Body.Bytes(), &k); err != nil || k.Currency != "USD" {
		t.Fatalf("kpis currency: %v %s", err, rec.Body)
	}
	d.Close()
	for _, path := range []string{"/api/kpis", "/api/health", "/api/history", "/api/top-products", "/api/daily", "/api/recent-orders"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var e APIError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != http.StatusServiceUnavailable || e.Component != "warehouse" ||
			!strings.Contains(e.Hint, "DUCKDB_PATH") || e.Error == "" {
			t.Fatalf("%s with the warehouse closed: %d %v %s", path, rec.Code, err, rec.Body)
		}
	}
}
