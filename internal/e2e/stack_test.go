// Package e2e runs Dropflow end to end on real parts: the Temporal CLI dev
// server, an in-process Kafka-protocol broker, the worker binary and a DuckDB
// file, each on free ports in the test's own temp directory.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/duckdb"
)

const topic = "orders_topic"

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds the worker and starter once per test process.
func binaries(t *testing.T) (worker, starter string) {
	t.Helper()
	buildOnce.Do(func() {
		root, err := devstack.ModuleRoot(".")
		if err != nil {
			buildErr = err
			return
		}
		binDir, err = os.MkdirTemp("", "dropflow-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		for _, pkg := range []string{"worker", "starter"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, pkg), "./"+pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "worker"), filepath.Join(binDir, "starter")
}

// stack is one hermetic local stack.
type stack struct {
	t          *testing.T
	dir        string
	temporal   string
	cli        string
	brokerAddr string
	broker     *devstack.Broker
	workerBin  string
	starterBin string
	httpAddr   string
	duckdb     string
	worker     *devstack.Worker
	client     client.Client
	// whEnv selects another warehouse for the worker and starter
	// (WAREHOUSE=snowflake, SNOW_*); openWH opens it for assertions.
	whEnv  []string
	openWH func() warehouse.Warehouse
	// secrets are credentials no log line may hold; starterOut collects
	// every starter output for that scan.
	secrets    []string
	starterOut []string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	return newStackWith(t)
}

// newStackWith starts a stack whose Temporal server has extra dynamic
// config ("key=value").
func newStackWith(t *testing.T, dynamicConfig ...string) *stack {
	t.Helper()
	s := &stack{t: t, dir: t.TempDir()}
	s.workerBin, s.starterBin = binaries(t)
	cli, err := devstack.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("Temporal CLI missing at %s: run `make test` (it builds %s into bin/) or set TEMPORAL_CLI", cli, devstack.TemporalCLIVersion)
	}
	s.cli = cli
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s.temporal = fmt.Sprintf("127.0.0.1:%d", port)
	logf, err := os.Create(filepath.Join(s.dir, "temporal.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{CLIPath: cli, HostPort: s.temporal, Output: logf, DynamicConfig: dynamicConfig})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(); logf.Close() })
	s.client = srv.Client()

	s.startBroker()
	t.Cleanup(func() { s.broker.Close() })
	hp, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s.httpAddr = fmt.Sprintf("127.0.0.1:%d", hp)
	s.duckdb = filepath.Join(s.dir, "warehouse.duckdb")
	t.Cleanup(s.stopWorker)
	return s
}

func (s *stack) startBroker() {
	port := 0
	if s.brokerAddr != "" { // restart on the same port and log
		fmt.Sscanf(s.brokerAddr, "127.0.0.1:%d", &port)
	}
	b, err := devstack.StartBroker(port, filepath.Join(s.dir, "kafka"), topic, 3)
	if err != nil {
		s.t.Fatal(err)
	}
	s.broker, s.brokerAddr = b, b.Addr
	kc, err := kafka.NewClient(b.Addr)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := kc.EnsureTopic(context.Background(), topic, 3); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) env() []string {
	return append(append(os.Environ(),
		"TEMPORAL_ADDRESS="+s.temporal,
		"KAFKA_BOOTSTRAP_SERVERS="+s.brokerAddr,
		"KAFKA_TOPIC="+topic,
		"DUCKDB_PATH="+s.duckdb,
		"DATA_DIR="+filepath.Join(s.dir, "data"),
		"REPORTS_DIR="+filepath.Join(s.dir, "reports"),
		"HTTP_ADDR="+s.httpAddr,
		"LOG_FORMAT=json",
	), s.whEnv...)
}

// openWarehouse opens the stack's warehouse for assertions: the DuckDB file
// unless a test set openWH (Snowflake).
func (s *stack) openWarehouse() warehouse.Warehouse {
	s.t.Helper()
	if s.openWH != nil {
		return s.openWH()
	}
	wh, err := duckdb.Open(context.Background(), s.duckdb)
	if err != nil {
		s.t.Fatal(err)
	}
	return wh
}

func (s *stack) startWorker() {
	s.t.Helper()
	w, err := devstack.StartWorker(context.Background(), s.workerBin, s.env(), s.httpAddr, filepath.Join(s.dir, "worker.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.worker = w
}

// stopWorker stops the worker gracefully, releasing the DuckDB file.
func (s *stack) stopWorker() {
	if s.worker != nil {
		s.worker.Stop(20 * time.Second)
		s.worker = nil
	}
}

func (s *stack) logs() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "worker.log"))
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// starter runs the starter binary against the stack.
func (s *stack) starter(args ...string) (string, int) {
	s.t.Helper()
	cmd := exec.Command(s.starterBin, args...)
	cmd.Env = s.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	s.starterOut = append(s.starterOut, out.String())
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return out.String(), 0
}

// temporalCLI runs the Temporal CLI against the stack.
func (s *stack) temporalCLI(args ...string) (string, error) {
	cmd := exec.Command(s.cli, append(args, "--address", s.temporal)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// topicTotals returns the records in the stack's topic (3 partitions) and
// those ingest committed (the consumer group offsets it publishes); -1, -1
// when the broker does not answer.
func topicTotals(ctx context.Context, kc *kafka.Client) (end, committed int64) {
	parts := []int{0, 1, 2}
	for _, p := range parts {
		_, e, err := kc.Bounds(ctx, topic, p)
		if err != nil {
			return -1, -1
		}
		end += e
	}
	offs, err := kc.GroupOffsets(ctx, "dropflow-ingest", topic, parts)
	if err != nil {
		return -1, -1
	}
	for _, p := range parts {
		committed += max(0, offs[p])
	}
	return end, committed
}

// event is a valid order_created event for order id.
func event(t *testing.T, id int64) kafka.Message {
	t.Helper()
	ev := events.NewOrderCreated(events.Order{OrderID: id, CustomerID: 1, ProductID: 1000, Quantity: 1, UnitPrice: 500, Status: "paid",
		SoldAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, events.SourceStream, time.Now())
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Key: ev.Key(), Value: b}
}
