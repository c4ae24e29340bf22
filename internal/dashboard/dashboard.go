// Package dashboard serves what the shop and the on-call engineer look at:
// an HTML page and its JSON under /api/, plus /healthz and /readyz. It only
// reads the warehouse, with fixed SQL.
package dashboard

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// Check is a named readiness probe (Temporal, broker, warehouse).
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Server holds the dashboard's dependencies.
type Server struct {
	WH            warehouse.Reader
	TemporalUIURL string
	Namespace     string
	Ready         []Check
	// Lag measures Kafka lag per partition; nil hides it.
	Lag func(ctx context.Context) ([]kafka.PartitionLag, error)
	// Currency is the ISO 4217 code the page formats money in (CURRENCY).
	Currency string
	// History is this process's last 30 minutes of lag and freshness; nil
	// serves none.
	History *History
}

// Summary is the data behind the page.
type Summary struct {
	GeneratedAt    string                `json:"generated_at"`
	Layers         warehouse.LayerCounts `json:"layers"`
	Orders         int64                 `json:"orders"`
	Revenue        float64               `json:"revenue"`
	Customers      int64                 `json:"unique_customers"`
	Products       int64                 `json:"unique_products"`
	AvgOrderValue  float64               `json:"average_order_value"`
	LastMerge      *MergeRun             `json:"last_merge,omitempty"`
	LastValidation *ValidationRun        `json:"last_validation,omitempty"`
	TemporalUI     string                `json:"temporal_ui"`
}

// MergeRun is the newest OPS.merge_runs row.
type MergeRun struct {
	FinishedAt string `json:"finished_at"`
	Inserted   int64  `json:"inserted"`
	Updated    int64  `json:"updated"`
	NothingNew bool   `json:"nothing_new"`
}

// ValidationRun is the newest OPS.validation_runs row.
type ValidationRun struct {
	RanAt   string   `json:"ran_at"`
	Status  string   `json:"status"`
	Failed  int64    `json:"failed"`
	Warned  int64    `json:"warned"`
	Failing []string `json:"failing_checks,omitempty"`
}

// Handler returns the HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /api/summary", s.apiSummary)
	mux.HandleFunc("GET /api/kpis", s.apiKPIs)
	mux.HandleFunc("GET /api/top-products", s.apiTopProducts)
	mux.HandleFunc("GET /api/daily", s.apiDaily)
	mux.HandleFunc("GET /api/recent-orders", s.apiRecentOrders)
	mux.HandleFunc("GET /api/health", s.apiHealth)
	mux.HandleFunc("GET /api/history", s.apiHistory)
	mux.HandleFunc("GET /api/schema/order-event", s.apiEventSchema)
	mux.Handle("GET /assets/", http.FileServerFS(assets))
	mux.HandleFunc("GET /{$}", s.page)
	// Tag the dashboard's warehouse reads (QUERY_HISTORY on Snowflake).
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(warehouse.WithQueryTag(r.Context(), warehouse.QueryTag{Component: "dashboard", Endpoint: r.URL.Path})))
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	for _, c := range s.Ready {
		if err := c.Fn(ctx); err != nil {
			http.Error(w, fmt.Sprintf("not ready: %s: %v", c.Name, err), http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

// Load reads the summary from the warehouse.
func (s *Server) Load(ctx context.Context) (Summary, error) {
	sum := Summary{GeneratedAt: time.Now().UTC().Format(time.RFC3339), TemporalUI: s.workflowsURL()}
	var err error
	if sum.Layers, err = warehouse.Layers(ctx, s.WH); err != nil {
		return sum, err
	}
	k, err := s.kpis(ctx, time.Unix(0, 0).UTC())
	if err != nil {
		return sum, err
	}
	sum.Orders, sum.Revenue, sum.Customers, sum.Products, sum.AvgOrderValue = k.Orders, k.Revenue, k.Customers, k.Products, k.AvgOrderValue
	sum.LastMerge, sum.LastValidation, err = s.lastRuns(ctx)
	return sum, err
}

// lastRuns reads the newest merge and validation runs; nil when none ran.
func (s *Server) lastRuns(ctx context.Context) (*MergeRun, *ValidationRun, error) {
	var lastMerge *MergeRun
	var m MergeRun
	var fin time.Time
	err := s.WH.QueryRow(ctx, lastMergeQuery).Scan(&fin, &m.Inserted, &m.Updated, &m.NothingNew)
	if err == nil {
		m.FinishedAt = fin.UTC().Format(time.RFC3339)
		lastMerge = &m
	} else if !isNoRows(err) {
		return nil, nil, fmt.Errorf("dashboard: last merge: %w", err)
	}
	var v ValidationRun
	var ran time.Time
	var report string
	q, _ := s.WH.DialectQuery(warehouse.QueryDashboardLastValidation)
	err = s.WH.QueryRow(ctx, q).Scan(&ran, &v.Status, &v.Failed, &v.Warned, &report)
	if err == nil {
		v.RanAt = ran.UTC().Format(time.RFC3339)
		var rep params.ValidationReport
		if json.Unmarshal([]byte(report), &rep) == nil {
			v.Failing = rep.FailingChecks()
		}
		return lastMerge, &v, nil
	} else if !isNoRows(err) {
		return nil, nil, fmt.Errorf("dashboard: last validation: %w", err)
	}
	return lastMerge, nil, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func (s *Server) apiSummary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.Load(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sum)
}

func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(pageHTML)
}

// Every asset is served by the binary: the page works without internet.
//
//go:embed assets/*
var assets embed.FS

//go:embed page.html
var pageHTML []byte
