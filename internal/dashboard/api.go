package dashboard

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// Ranges the selector offers; anything else is refused.
var ranges = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour, "all": 0}

// rangeStart validates ?range= and returns the bound lower limit of sold_at.
func rangeStart(r *http.Request, now time.Time) (string, time.Time, error) {
	name := r.URL.Query().Get("range")
	if name == "" {
		name = "all"
	}
	d, ok := ranges[name]
	if !ok {
		return "", time.Time{}, fmt.Errorf("range %q: want 24h, 7d, 30d or all", name)
	}
	if d == 0 {
		return name, time.Unix(0, 0).UTC(), nil
	}
	return name, now.Add(-d).UTC(), nil
}

// KPIs are the cards of the selected range.
type KPIs struct {
	Range string `json:"range"`
	// Currency is the ISO 4217 code of every amount (CURRENCY); amounts
	// stay numbers.
	Currency      string  `json:"currency"`
	From          string  `json:"from"`
	Orders        int64   `json:"orders"`
	Revenue       float64 `json:"revenue"`
	Customers     int64   `json:"unique_customers"`
	Products      int64   `json:"unique_products"`
	AvgOrderValue float64 `json:"average_order_value"`
}

// TopProduct is one row of the top-5 panel.
type TopProduct struct {
	ProductID int64   `json:"product_id"`
	Name      string  `json:"name"`
	Category  string  `json:"category"`
	Quantity  int64   `json:"quantity"`
	Revenue   float64 `json:"revenue"`
	Orders    int64   `json:"orders"`
}

// Day is one point of the daily trends.
type Day struct {
	Day     string  `json:"day"`
	Orders  int64   `json:"orders"`
	Revenue float64 `json:"revenue"`
}

// RecentOrder is one row of the recent orders table.
type RecentOrder struct {
	OrderID   int64   `json:"order_id"`
	Customer  string  `json:"customer"`
	Product   string  `json:"product"`
	Quantity  int64   `json:"quantity"`
	UnitPrice float64 `json:"unit_price"`
	Total     float64 `json:"total"`
	SoldAt    string  `json:"sold_at"`
}

// Health is the pipeline panel.
type Health struct {
	Layers        warehouse.LayerCounts `json:"layers"`
	EventsInPerS  float64               `json:"events_in_per_s"`
	EventsOutPerS float64               `json:"events_out_per_s"`
	KafkaLag      []kafka.PartitionLag  `json:"kafka_lag"`
	KafkaLagError string                `json:"kafka_lag_error,omitempty"`
	// EventIDConflicts counts events rejected for reusing an event_id with other content.
	EventIDConflicts int64          `json:"event_id_conflicts"`
	LastMerge        *MergeRun      `json:"last_merge,omitempty"`
	LastValidation   *ValidationRun `json:"last_validation,omitempty"`
	MergeRunsURL     string         `json:"merge_runs_url"`
	ValidationURL    string         `json:"validation_runs_url"`
	PipelineURL      string         `json:"pipeline_runs_url"`
	TemporalUI       string         `json:"temporal_ui"`
	Currency         string         `json:"currency"`
}

// Trends are the last 30 minutes: the warehouse's counts per minute (every
// worker's ingest and merges) and this worker's samples of lag and
// freshness.
type Trends struct {
	From    string   `json:"from"`
	Minutes []Minute `json:"minutes"`
	Samples []Point  `json:"samples"`
}

// Minute is one minute of the warehouse's throughput.
type Minute struct {
	Minute   string  `json:"minute"`
	RawPerS  float64 `json:"raw_per_s"`
	ProdPerS float64 `json:"prod_per_s"`
}

// TrendWindow is how far back the trend charts reach.
const TrendWindow = 30 * time.Minute

// APIError is the JSON body of a failed read: what failed and what to do.
type APIError struct {
	Error     string `json:"error"`
	Component string `json:"component"`
	Hint      string `json:"hint"`
}

// writeJSON writes v, or err as a 503 naming the warehouse: every read
// behind the API is a warehouse read, and the page shows the hint.
func (s *Server) writeJSON(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		v = APIError{Error: err.Error(), Component: "warehouse", Hint: s.warehouseHint()}
	}
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) apiKPIs(w http.ResponseWriter, r *http.Request) {
	name, from, err := rangeStart(r, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	k, err := s.kpis(r.Context(), from)
	k.Range, k.Currency = name, s.Currency
	s.writeJSON(w, k, err)
}

// kpis reads the cards for orders sold at or after from.
func (s *Server) kpis(ctx context.Context, from time.Time) (KPIs, error) {
	k := KPIs{From: from.Format(time.RFC3339)}
	var rev, aov *float64
	err := s.WH.QueryRow(ctx, kpisQuery, from).Scan(&k.Orders, &rev, &k.Customers, &k.Products, &aov)
	if rev != nil {
		k.Revenue = *rev
	}
	if aov != nil {
		k.AvgOrderValue = *aov
	}
	return k, wrap("KPIs", err)
}

func (s *Server) apiTopProducts(w http.ResponseWriter, r *http.Request) {
	_, from, err := rangeStart(r, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, err := readRows(r.Context(), s.WH, topProductsQuery, []any{from}, func(rs *sql.Rows, p *TopProduct) error {
		return rs.Scan(&p.ProductID, &p.Name, &p.Category, &p.Quantity, &p.Revenue, &p.Orders)
	})
	s.writeJSON(w, out, wrap("top products", err))
}

func (s *Server) apiDaily(w http.ResponseWriter, r *http.Request) {
	_, from, err := rangeStart(r, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q, _ := s.WH.DialectQuery(warehouse.QueryDashboardDaily)
	out, err := readRows(r.Context(), s.WH, q, []any{from}, func(rs *sql.Rows, d *Day) error {
		return rs.Scan(&d.Day, &d.Orders, &d.Revenue)
	})
	s.writeJSON(w, out, wrap("daily trends", err))
}

func (s *Server) apiRecentOrders(w http.ResponseWriter, r *http.Request) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			http.Error(w, fmt.Sprintf("limit %q: want an integer from 1 to 100", v), http.StatusBadRequest)
			return
		}
		limit = n
	}
	out, err := readRows(r.Context(), s.WH, recentOrdersQuery, []any{limit}, func(rs *sql.Rows, o *RecentOrder) error {
		var sold time.Time
		err := rs.Scan(&o.OrderID, &o.Customer, &o.Product, &o.Quantity, &o.UnitPrice, &o.Total, &sold)
		o.SoldAt = sold.UTC().Format(time.RFC3339)
		return err
	})
	s.writeJSON(w, out, wrap("recent orders", err))
}

// readRows runs a read and scans each row into a T; no rows is [], not null.
func readRows[T any](ctx context.Context, wh warehouse.Reader, q string, args []any, scan func(*sql.Rows, *T) error) ([]T, error) {
	rows, err := wh.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// workflowsURL is the namespace's workflow list in the Temporal Web UI.
func (s *Server) workflowsURL() string {
	return s.TemporalUIURL + "/namespaces/" + s.Namespace + "/workflows"
}

// runsURL lists the runs of one workflow type in the Web UI.
func (s *Server) runsURL(workflowType string) string {
	return s.workflowsURL() + "?query=" + url.QueryEscape(fmt.Sprintf(`WorkflowType="%s"`, workflowType))
}

func (s *Server) apiHealth(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	layers, err := warehouse.Layers(ctx, s.WH)
	if err != nil {
		s.writeJSON(w, nil, err)
		return
	}
	lastMerge, lastValidation, err := s.lastRuns(ctx)
	if err != nil {
		s.writeJSON(w, nil, err)
		return
	}
	h := Health{Layers: layers, LastMerge: lastMerge, LastValidation: lastValidation, TemporalUI: s.workflowsURL(),
		MergeRunsURL: s.runsURL("MergeOrders"), ValidationURL: s.runsURL("ValidatePipeline"), PipelineURL: s.runsURL("Pipeline"), KafkaLag: []kafka.PartitionLag{},
		Currency: s.Currency}
	since := time.Now().Add(-time.Minute).UTC()
	var in, out int64
	if err := s.WH.QueryRow(ctx, eventsInQuery, since).Scan(&in); err != nil {
		s.writeJSON(w, nil, wrap("events in", err))
		return
	}
	if err := s.WH.QueryRow(ctx, eventsOutQuery, since).Scan(&out); err != nil {
		s.writeJSON(w, nil, wrap("events out", err))
		return
	}
	h.EventsInPerS, h.EventsOutPerS = float64(in)/60, float64(out)/60
	if err := s.WH.QueryRow(ctx, conflictsQuery).Scan(&h.EventIDConflicts); err != nil {
		s.writeJSON(w, nil, wrap("event_id conflicts", err))
		return
	}
	if s.Lag != nil {
		h.KafkaLag, h.KafkaLagError = readLag(ctx, s.Lag)
	}
	s.writeJSON(w, h, nil)
}

// apiHistory serves the trend charts' data.
func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	from := time.Now().Add(-TrendWindow).UTC().Truncate(time.Minute)
	t := Trends{From: from.Format(time.RFC3339), Minutes: []Minute{}, Samples: []Point{}}
	if s.History != nil {
		t.Samples = s.History.Points()
	}
	// One slot per minute from `from`; the current minute is a partial one,
	// so its counts are divided by what has passed of it.
	now := time.Now()
	var secs []float64
	for m := from; !m.After(now); m = m.Add(time.Minute) {
		t.Minutes = append(t.Minutes, Minute{Minute: m.Format(time.RFC3339)})
		secs = append(secs, max(min(now.Sub(m).Seconds(), 60), 1))
	}
	for _, q := range []struct {
		what, sql string
		into      func(*Minute) *float64
	}{
		{"events into RAW per minute", rawPerMinuteQuery, func(m *Minute) *float64 { return &m.RawPerS }},
		{"orders into PROD per minute", prodPerMinuteQuery, func(m *Minute) *float64 { return &m.ProdPerS }},
	} {
		if err := s.perMinute(r.Context(), q.sql, from, func(at time.Time, n int64) {
			if i := int(at.UTC().Sub(from) / time.Minute); i >= 0 && i < len(t.Minutes) {
				*q.into(&t.Minutes[i]) = float64(n) / secs[i]
			}
		}); err != nil {
			s.writeJSON(w, nil, wrap(q.what, err))
			return
		}
	}
	s.writeJSON(w, t, nil)
}

// perMinute runs a (minute, count) query from a lower bound.
func (s *Server) perMinute(ctx context.Context, q string, from time.Time, each func(time.Time, int64)) error {
	type point struct {
		at time.Time
		n  int64
	}
	pts, err := readRows(ctx, s.WH, q, []any{from}, func(rs *sql.Rows, p *point) error { return rs.Scan(&p.at, &p.n) })
	for _, p := range pts {
		each(p.at, p.n)
	}
	return err
}

// warehouseHint says where to look when the warehouse cannot be read.
func (s *Server) warehouseHint() string {
	if s.WH != nil && s.WH.Dialect() == "snowflake" {
		return "the worker cannot read Snowflake: check SNOW_ACCOUNT, SNOW_USER and the credentials, and that the database exists (bin/starter deploy-schema); /readyz names what is down"
	}
	return "the worker cannot read DuckDB: check DUCKDB_PATH and that the worker owns the file, then run bin/starter deploy-schema if the tables are missing; /readyz names what is down"
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("dashboard: %s: %w", what, err)
	}
	return nil
}

// apiEventSchema serves the published event contract (JSON Schema 2020-12).
func (s *Server) apiEventSchema(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/schema+json")
	_, _ = w.Write(events.Schema)
}
