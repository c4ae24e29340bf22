package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// No Docker engine runs here, so the compose file is checked with the real
// compose-spec parser: services, ports, advertised addresses and worker env.
func TestComposeFile(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")}, cli.WithName("dropflow"), cli.WithWorkingDirectory(root))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	svc := func(name string) types.ServiceConfig {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		return s
	}
	published := func(s types.ServiceConfig, port string) bool {
		for _, p := range s.Ports {
			if p.Published == port {
				return true
			}
		}
		return false
	}
	rp := svc("redpanda")
	cmd := strings.Join(rp.Command, " ")
	if !published(rp, "9092") || !strings.Contains(cmd, "external://localhost:9092") || !strings.Contains(cmd, "internal://redpanda:29092") {
		t.Fatalf("redpanda must publish 9092 and advertise localhost:9092 / redpanda:29092: %s", cmd)
	}
	if init := strings.Join(svc("redpanda-init").Command, " "); !strings.Contains(init, "orders_topic") || !strings.Contains(init, "--partitions 3") {
		t.Fatalf("topic init: %s", init)
	}
	if c := svc("console"); c.Environment["KAFKA_BROKERS"] == nil || *c.Environment["KAFKA_BROKERS"] != "redpanda:29092" || published(c, "8080") {
		t.Fatal("console must use redpanda:29092 and leave host port 8080 to the worker")
	}
	tp := svc("temporal")
	if !published(tp, "7233") || !published(tp, "8233") {
		t.Fatal("temporal must publish 7233 and 8233")
	}
	w := svc("worker")
	for k, want := range map[string]string{
		"TEMPORAL_ADDRESS": "temporal:7233", "KAFKA_BOOTSTRAP_SERVERS": "redpanda:29092", "KAFKA_TOPIC": "orders_topic",
		"WAREHOUSE": "duckdb", "HTTP_ADDR": "0.0.0.0:8080",
	} {
		if v := w.Environment[k]; v == nil || *v != want {
			t.Errorf("worker %s = %v, want %s", k, v, want)
		}
	}
	if !published(w, "8080") || w.Build == nil {
		t.Fatal("worker must be built from the repo and publish 8080")
	}
	if _, ok := w.DependsOn["redpanda-init"]; !ok {
		t.Fatal("worker must wait for the topic")
	}
	prom := svc("prometheus")
	mounts := ""
	for _, v := range prom.Volumes {
		mounts += v.Source + " "
	}
	if !published(prom, "9090") || !strings.Contains(mounts, "internal/metrics/prometheus/alerts.yml") || !strings.Contains(mounts, "internal/metrics/prometheus/prometheus.yml") {
		t.Fatalf("prometheus must publish 9090 and mount the config and alert rules: %s", mounts)
	}
	cfg, err := os.ReadFile(filepath.Join(root, "internal", "metrics", "prometheus", "prometheus.yml"))
	if err != nil || !strings.Contains(string(cfg), `"worker:8080"`) || !strings.Contains(string(cfg), "/etc/prometheus/alerts.yml") {
		t.Fatalf("prometheus.yml must scrape worker:8080 and load the rules: %v", err)
	}
}
