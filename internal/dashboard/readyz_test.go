package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/duckdb"
)

// readyChecks are the worker's readiness checks, built as worker/main.go
// builds them: Temporal's health check, a Kafka metadata request, a
// warehouse ping.
func readyChecks(tc client.Client, kc *kafka.Client, wh warehouse.Warehouse) []Check {
	return []Check{
		{Name: "temporal", Fn: func(ctx context.Context) error {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
		{Name: "kafka", Fn: kc.Ping},
		{Name: "warehouse", Fn: wh.Ping},
	}
}

// deadAddr is 127.0.0.1 at a port where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if devstack.Reachable(addr, 0) {
		t.Fatalf("something listens at %s", addr)
	}
	return addr
}

func readyz(t *testing.T, s *Server) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code, rec.Body.String()
}

// TestReadyzWithRealDependencies: /readyz answers 200 while a real Temporal
// dev server, Kafka-protocol broker and DuckDB file answer, and 503 naming
// the dependency when one is unreachable or gone.
func TestReadyzWithRealDependencies(t *testing.T) {
	ctx := context.Background()
	cli, err := devstack.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{CLIPath: cli, HostPort: fmt.Sprintf("127.0.0.1:%d", port)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	tc := srv.Client()
	deadTemporal, err := client.NewLazyClient(client.Options{HostPort: deadAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(deadTemporal.Close)

	broker, err := devstack.StartBroker(0, "", "orders_topic", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	kc, err := kafka.NewClient(broker.Addr)
	if err != nil {
		t.Fatal(err)
	}
	deadAt := deadAddr(t)
	deadKafka, err := kafka.NewClient(deadAt)
	if err != nil {
		t.Fatal(err)
	}

	s, wh := server(t)
	closed, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "closed.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}

	s.Ready = readyChecks(tc, kc, wh)
	if code, body := readyz(t, s); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("every dependency up: %d %q, want 200 ready", code, body)
	}
	for _, c := range []struct {
		name   string
		checks []Check
		want   string // in the body
	}{
		{"temporal", readyChecks(deadTemporal, kc, wh), "not ready: temporal: "},
		{"kafka", readyChecks(tc, deadKafka, wh), "not ready: kafka: kafka: no broker reachable at " + deadAt},
		{"warehouse", readyChecks(tc, kc, closed), "not ready: warehouse: sql: database is closed"},
	} {
		t.Run(c.name+"_down", func(t *testing.T) {
			s.Ready = c.checks
			code, body := readyz(t, s)
			if code != http.StatusServiceUnavailable || !strings.Contains(body, c.want) {
				t.Fatalf("%d %q, want 503 with %q", code, body, c.want)
			}
		})
	}
	// A broker that stops after the worker started must make it unready too.
	t.Run("kafka_stops_later", func(t *testing.T) {
		s.Ready = readyChecks(tc, kc, wh)
		broker.Close()
		if code, body := readyz(t, s); code != http.StatusServiceUnavailable || !strings.Contains(body, "not ready: kafka: ") {
			t.Fatalf("broker stopped: %d %q, want 503 naming kafka", code, body)
		}
	})
	// A Temporal server that stops after the worker started makes it unready.
	t.Run("temporal_stops_later", func(t *testing.T) {
		s.Ready = readyChecks(tc, kc, wh)
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		if code, body := readyz(t, s); code != http.StatusServiceUnavailable || !strings.Contains(body, "not ready: temporal: ") {
			t.Fatalf("Temporal stopped: %d %q, want 503 naming temporal", code, body)
		}
	})
}
