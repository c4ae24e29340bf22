package metrics

import (
	"bytes"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
)

// promtool comes from Debian's prometheus package (.ci/run installs it).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (.ci/run does)")
	}
	return p
}

func TestAlertRulesAndPrometheusConfigAreValid(t *testing.T) {
	pt := promtool(t)
	if out, err := exec.Command(pt, "check", "rules", filepath.Join("prometheus", "alerts.yml")).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	out, _ := exec.Command(pt, "check", "rules", filepath.Join("prometheus", "alerts.yml")).CombinedOutput()
	if !strings.Contains(string(out), "5 rules found") {
		t.Fatalf("want 5 rules: %s", out)
	}
}

func TestScrapePassesPromtool(t *testing.T) {
	m := New()
	h, closeFn, err := m.TemporalHandler()
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var _ client.MetricsHandler = h
	h.Counter("temporal_test_requests").Inc(1)
	m.Rejected.WithLabelValues("invalid_json").Inc()
	m.BatchSize.Observe(100)
	m.KafkaLag.WithLabelValues("orders_topic", "0").Set(3)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if err := CheckScrape(t, rec.Body.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// CheckScrape runs `promtool check metrics` over a scrape.
func CheckScrape(t *testing.T, body []byte) error {
	t.Helper()
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &lintError{out: string(out), err: err}
	}
	return nil
}

type lintError struct {
	out string
	err error
}

func (e *lintError) Error() string { return "promtool check metrics: " + e.err.Error() + "\n" + e.out }
