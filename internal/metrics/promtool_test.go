package metrics

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
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
	out, err := exec.Command(pt, "check", "rules", filepath.Join("prometheus", "alerts.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS: 5 rules found") {
		t.Fatalf("want 5 rules: %s", out)
	}
}

// TestPrometheusConfigIsValid runs `promtool check config` over
// prometheus.yml as the docker-compose Prometheus sees it: the rule files it
// names by their container paths are the files docker-compose.yml mounts there.
func TestPrometheusConfigIsValid(t *testing.T) {
	pt := promtool(t)
	dir := containerView(t)
	cmd := exec.Command(pt, "check", "config", "prometheus.yml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	for _, want := range []string{"SUCCESS: 1 rule files found", "SUCCESS: prometheus.yml is valid prometheus config file syntax", "Checking alerts.yml", "SUCCESS: 5 rules found"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("promtool check config: no %q in\n%s", want, out)
		}
	}

	// The same check fails on a broken copy: the test can tell.
	for name, breakIt := range map[string]func(cfg string) string{
		"missing_rule_file": func(cfg string) string { return strings.Replace(cfg, "- alerts.yml", "- missing.yml", 1) },
		"bad_interval": func(cfg string) string {
			return strings.Replace(cfg, "scrape_interval: 15s", "scrape_interval: fifteen", 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			broken := t.TempDir()
			cfg := readFile(t, filepath.Join(dir, "prometheus.yml"))
			b := breakIt(cfg)
			if b == cfg {
				t.Fatal("the copy was not broken: prometheus.yml changed shape")
			}
			writeFile(t, filepath.Join(broken, "prometheus.yml"), b)
			writeFile(t, filepath.Join(broken, "alerts.yml"), readFile(t, filepath.Join(dir, "alerts.yml")))
			cmd := exec.Command(pt, "check", "config", "prometheus.yml")
			cmd.Dir = broken
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Fatalf("promtool accepted a broken config:\n%s", out)
			}
		})
	}
}

// containerView lays out in a temporary directory what the docker-compose
// Prometheus reads: prometheus.yml with each mounted path it names replaced
// by the mounted file, copied next to it.
func containerView(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")}, cli.WithName("dropflow"), cli.WithWorkingDirectory(root))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	svc, err := p.GetService("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	cfg := readFile(t, filepath.Join("prometheus", "prometheus.yml"))
	dir := t.TempDir()
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeBind || v.Target == "/etc/prometheus/prometheus.yml" || !strings.Contains(cfg, v.Target) {
			continue
		}
		name := filepath.Base(v.Target)
		writeFile(t, filepath.Join(dir, name), readFile(t, v.Source))
		cfg = strings.ReplaceAll(cfg, v.Target, name)
	}
	if strings.Contains(cfg, "/etc/prometheus/") {
		t.Fatalf("prometheus.yml names a container path docker-compose.yml does not mount:\n%s", cfg)
	}
	writeFile(t, filepath.Join(dir, "prometheus.yml"), cfg)
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
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
