// Package metrics holds Dropflow's Prometheus metrics on a registry the
// worker owns (no global state), plus the Temporal SDK's own metrics through
// tally's Prometheus reporter on the same registry.
package metrics

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metrics are the pipeline's instruments.
type Metrics struct {
	Registry *prometheus.Registry

	Produced        prometheus.Counter
	Ingested        prometheus.Counter
	Duplicates      prometheus.Counter
	Rejected        *prometheus.CounterVec // reason
	BatchSize       prometheus.Histogram
	LoadDuration    prometheus.Histogram
	IngestFreshness prometheus.Histogram // produced_at → committed to RAW
	ProdFreshness   prometheus.Histogram // produced_at → merged into PROD
	KafkaLag        *prometheus.GaugeVec // topic, partition
	MergeRows       *prometheus.CounterVec
	MergeDuration   prometheus.Histogram
	MergeLastRun    prometheus.Gauge
	ValidationCheck *prometheus.GaugeVec // check: 0 pass, 1 warn, 2 fail
	ValidationLast  prometheus.Gauge
}

var freshnessBuckets = []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600}

// New registers every instrument on a new registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{
		Registry:        r,
		Produced:        prometheus.NewCounter(prometheus.CounterOpts{Name: "dropflow_events_produced_total", Help: "Events acknowledged by the broker."}),
		Ingested:        prometheus.NewCounter(prometheus.CounterOpts{Name: "dropflow_events_ingested_total", Help: "Events committed to RAW.orders_events."}),
		Duplicates:      prometheus.NewCounter(prometheus.CounterOpts{Name: "dropflow_events_duplicate_total", Help: "Resent events recognised by event_id and skipped."}),
		Rejected:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dropflow_events_rejected_total", Help: "Records sent to RAW.orders_events_rejected, by reason."}, []string{"reason"}),
		BatchSize:       prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dropflow_ingest_batch_records", Help: "Records per committed ingest batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		LoadDuration:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dropflow_ingest_load_duration_seconds", Help: "Warehouse transaction time per ingest batch.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 10)}),
		IngestFreshness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dropflow_freshness_ingested_seconds", Help: "Event produced_at to committed in RAW.", Buckets: freshnessBuckets}),
		ProdFreshness:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dropflow_freshness_prod_seconds", Help: "Event produced_at to merged into PROD (sampled per merge).", Buckets: freshnessBuckets}),
		KafkaLag:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dropflow_kafka_lag_records", Help: "Partition end offset minus the next offset to load."}, []string{"topic", "partition"}),
		MergeRows:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dropflow_merge_rows_total", Help: "PROD.orders rows by merge outcome."}, []string{"outcome"}),
		MergeDuration:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dropflow_merge_duration_seconds", Help: "Duration of one merge.", Buckets: prometheus.ExponentialBuckets(0.005, 3, 10)}),
		MergeLastRun:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "dropflow_merge_last_run_timestamp_seconds", Help: "When the last merge finished (skips included)."}),
		ValidationCheck: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dropflow_validation_check_status", Help: "Last validation per check: 0 PASS, 1 WARN, 2 FAIL."}, []string{"check"}),
		ValidationLast:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "dropflow_validation_last_run_timestamp_seconds", Help: "When the last validation ran."}),
	}
	for _, c := range []prometheus.Collector{m.Produced, m.Ingested, m.Duplicates, m.Rejected, m.BatchSize, m.LoadDuration, m.IngestFreshness,
		m.ProdFreshness, m.KafkaLag, m.MergeRows, m.MergeDuration, m.MergeLastRun, m.ValidationCheck, m.ValidationLast,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// TemporalHandler returns the SDK metrics handler reporting into the same
// registry (temporal_* series), and a closer to flush it.
func (m *Metrics) TemporalHandler() (client.MetricsHandler, func() error, error) {
	reporter, err := tallyprom.Configuration{TimerType: "histogram"}.NewReporter(tallyprom.ConfigurationOptions{
		Registry: m.Registry,
		OnError:  func(error) {},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: temporal reporter: %w", err)
	}
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// tally's own *_counter_cardinality series break Prometheus naming rules.
		OmitCardinalityMetrics: true,
	}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), closer.Close, nil
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Status maps a validation status to the gauge value.
func Status(s string) float64 {
	switch s {
	case "PASS":
		return 0
	case "WARN":
		return 1
	}
	return 2
}
