package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/snowemu"
)

// BenchmarkSnowflakeWorkers times IngestOrders (drain) of the same events
// with 1 and then 2 worker processes on the Snowflake path (gosnowflake
// against the local emulator), each run on a fresh stack. On a 2-core
// machine, with the emulator, the broker and Temporal on the same cores, it
// measures the overhead of spreading partitions over processes, not the
// speed-up several hosts would give. Writes reports/bench-workers.json.
func BenchmarkSnowflakeWorkers(b *testing.B) {
	if b.N > 1 {
		b.Skip("run with -benchtime 1x: each run is a whole measurement")
	}
	n := envInt("BENCH_FLEET_EVENTS", 100_000)
	root, err := devstack.ModuleRoot(".")
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "worker")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "worker")).CombinedOutput(); err != nil {
		b.Fatalf("build worker: %v\n%s", err, out)
	}
	rate := map[int]float64{}
	for _, workers := range []int{1, 2} {
		rate[workers] = ingestWithWorkers(b, bin, workers, n)
		b.Logf("ingest, Snowflake path, %d worker(s): %10.0f events/s (%d events, 3 partitions)", workers, rate[workers], n)
	}
	results := []Result{
		{Name: "ingest (Snowflake emulator): 1 worker", Value: rate[1], Unit: "events/s"},
		{Name: "ingest (Snowflake emulator): 2 workers", Value: rate[2], Unit: "events/s"},
		{Name: "ingest (Snowflake emulator): 2 workers / 1", Value: rate[2] / rate[1], Unit: "x",
			Note: "one 2-core machine: measures the overhead of spreading partitions, not the speed-up of separate hosts"},
	}
	fmt.Printf("%-48s %12.0f events/s\n%-48s %12.0f events/s\n%-48s %12.2f x  (same 2 cores: overhead, not speed-up)\n",
		results[0].Name, rate[1], results[1].Name, rate[2], results[2].Name, rate[2]/rate[1])
	body, _ := json.MarshalIndent(results, "", "  ")
	_ = os.MkdirAll(filepath.Join(root, "reports"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "reports", "bench-workers.json"), append(body, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
}

func ingestWithWorkers(b *testing.B, bin string, workers, n int) float64 {
	ctx := context.Background()
	dir := b.TempDir()
	cli, _ := devstack.TemporalCLI()
	tport, _ := devstack.FreePort()
	srv, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{CLIPath: cli, HostPort: fmt.Sprintf("127.0.0.1:%d", tport), Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	broker, err := devstack.StartBroker(0, "", "orders_topic", 3)
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	emu, err := snowemu.Start(snowemu.Options{Dir: filepath.Join(dir, "snowemu"), Account: "local", Users: []snowemu.User{{Name: "dropflow", Password: "bench"}}})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	var procs []*devstack.Worker
	for i := 0; i < workers; i++ {
		hp, _ := devstack.FreePort()
		addr := fmt.Sprintf("127.0.0.1:%d", hp)
		home := filepath.Join(dir, fmt.Sprintf("host%d", i))
		_ = os.MkdirAll(home, 0o755)
		env := append(os.Environ(), "TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "KAFKA_BOOTSTRAP_SERVERS="+broker.Addr, "KAFKA_TOPIC=orders_topic",
			"DATA_DIR=data", "REPORTS_DIR=reports", "HTTP_ADDR="+addr, "LOG_FORMAT=json", "LOG_LEVEL=warn",
			"WAREHOUSE=snowflake", "SNOW_ACCOUNT=local", "SNOW_USER=dropflow", "SNOW_PASSWORD=bench", "SNOW_HOST=127.0.0.1",
			"SNOW_PORT="+strconv.Itoa(emu.Port()), "SNOW_PROTOCOL=http")
		w, err := devstack.StartWorkerIn(ctx, home, bin, env, addr, filepath.Join(home, "worker.log"))
		if err != nil {
			b.Fatal(err)
		}
		defer w.Stop(20 * time.Second)
		procs = append(procs, w)
	}
	run := func(id, wt string, in, out any) time.Duration {
		b.Helper()
		began := time.Now()
		r, err := srv.Client().ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: names.TaskQueue}, wt, in)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Get(ctx, out); err != nil {
			b.Fatalf("%s: %v\n%s", id, err, procs[0].Tail(20))
		}
		return time.Since(began)
	}
	run("schema", names.DeploySchema, params.DeploySchemaInput{}, new(params.DeploySchemaResult))
	run("seed", names.SeedData, params.SeedDataInput{Orders: n, SkipProdLoad: true}, new(params.SeedDataResult))
	run("produce", names.ProduceOrders, params.ProduceOrdersInput{}, new(params.ProduceOrdersResult))
	var in params.IngestOrdersResult
	took := run("ingest", names.IngestOrders, params.IngestOrdersInput{}, &in)
	if in.Loaded != int64(n) {
		b.Fatalf("%d workers loaded %d of %d events", workers, in.Loaded, n)
	}
	return float64(n) / took.Seconds()
}
