package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/config"
	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/snowemu"
)

// demo ports belong to `make demo`; tests never use them.
const (
	demoTemporal = "127.0.0.1:7233"
	demoUIPort   = 8233
	demoBroker   = 9092
	// demoSnowflake is the local Snowflake-protocol server of --snowflake-emulator.
	demoSnowflake = 8085
)

// cmdDemo starts every part the local stack needs (skipping those already
// running), runs Pipeline with defaults, prints a summary and serves until
// Ctrl-C, then stops what it started.
func cmdDemo(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dataDir := fs.String("data", "data", "directory for the warehouse, broker log, Temporal state and CSVs")
	workerBin := fs.String("worker", "bin/worker", "worker binary")
	cli := fs.String("temporal-cli", "bin/temporal", "Temporal CLI binary (make builds "+devstack.TemporalCLIVersion+")")
	exit := fs.Bool("exit", false, "stop the stack after the summary instead of serving until Ctrl-C")
	emulator := fs.Bool("snowflake-emulator", false, "run the Snowflake path: WAREHOUSE=snowflake through gosnowflake against the local Snowflake-protocol server (DuckDB underneath) on 127.0.0.1:8085")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(*dataDir, "logs"), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *dataDir, err)
	}
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	// Temporal.
	temporalAddr := os.Getenv("TEMPORAL_ADDRESS")
	if temporalAddr == "" {
		temporalAddr = demoTemporal
	}
	if devstack.Reachable(temporalAddr, time.Second) {
		fmt.Fprintf(out, "• Temporal: using the server already at %s\n", temporalAddr)
	} else {
		fmt.Fprintf(out, "• Temporal: starting dev server on %s (UI :%d, state in %s)\n", temporalAddr, demoUIPort, filepath.Join(*dataDir, "temporal.db"))
		logf, err := os.Create(filepath.Join(*dataDir, "logs", "temporal.log"))
		if err != nil {
			return err
		}
		defer logf.Close()
		srv, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
			CLIPath: *cli, HostPort: temporalAddr, UIPort: demoUIPort, DBFile: filepath.Join(*dataDir, "temporal.db"), Output: logf, Logger: quietLogger{},
		})
		if err != nil {
			return err
		}
		stops = append(stops, func() { _ = srv.Stop() })
	}

	// Kafka.
	brokerAddr := cfg.KafkaBootstrap
	if devstack.Reachable(strings.Split(brokerAddr, ",")[0], time.Second) {
		fmt.Fprintf(out, "• Kafka: using the broker already at %s\n", brokerAddr)
	} else if _, set := os.LookupEnv("KAFKA_BOOTSTRAP_SERVERS"); set && !isLocal(brokerAddr, demoBroker) {
		return fmt.Errorf("KAFKA_BOOTSTRAP_SERVERS=%s is not reachable; start that broker or unset the variable to let the demo start one", brokerAddr)
	} else {
		fmt.Fprintf(out, "• Kafka: starting a Kafka-protocol broker on 127.0.0.1:%d (log in %s)\n", demoBroker, filepath.Join(*dataDir, "kafka"))
		b, err := devstack.StartBroker(demoBroker, filepath.Join(*dataDir, "kafka"), cfg.KafkaTopic, int32(cfg.KafkaPartition))
		if err != nil {
			return fmt.Errorf("%w (is port %d taken? set KAFKA_BOOTSTRAP_SERVERS to use another broker)", err, demoBroker)
		}
		stops = append(stops, b.Close)
		brokerAddr = b.Addr
	}
	kc, err := kafka.NewClient(brokerAddr)
	if err != nil {
		return err
	}
	if err := kc.EnsureTopic(ctx, cfg.KafkaTopic, cfg.KafkaPartition); err != nil {
		return err
	}

	// Warehouse: the DuckDB file, or the local Snowflake-protocol server.
	warehouseDesc := "DuckDB " + filepath.Join(*dataDir, "warehouse.duckdb")
	var whEnv []string
	if *emulator {
		began := time.Now()
		emu, err := snowemu.Start(snowemu.Options{Dir: filepath.Join(*dataDir, "snowemu"), Account: emulatorAccount, Port: demoSnowflake,
			Users: []snowemu.User{{Name: emulatorUser, Password: emulatorPassword}}})
		if err != nil {
			return fmt.Errorf("start the Snowflake emulator: %w (is port %d taken?)", err, demoSnowflake)
		}
		stops = append(stops, func() { _ = emu.Close() })
		fmt.Fprintf(out, "• Snowflake: local Snowflake-protocol server on %s in %s (DuckDB files in %s; a test and demo tool, not Snowflake)\n",
			emu.Addr(), time.Since(began).Round(time.Millisecond), filepath.Join(*dataDir, "snowemu"))
		warehouseDesc = "Snowflake via gosnowflake at " + emu.Addr()
		whEnv = emulatorEnv(emu.Port())
	}

	// Worker.
	logPath := filepath.Join(*dataDir, "logs", "worker.log")
	fmt.Fprintf(out, "• Worker: starting %s (%s, dashboard http://%s, log %s)\n", *workerBin, warehouseDesc, cfg.HTTPAddr, logPath)
	env := append(append(os.Environ(),
		"TEMPORAL_ADDRESS="+temporalAddr,
		"KAFKA_BOOTSTRAP_SERVERS="+brokerAddr,
		"DUCKDB_PATH="+filepath.Join(*dataDir, "warehouse.duckdb"),
		"DATA_DIR="+*dataDir,
		"HTTP_ADDR="+cfg.HTTPAddr,
	), whEnv...)
	_ = os.Remove(logPath)
	w, err := devstack.StartWorker(ctx, *workerBin, env, cfg.HTTPAddr, logPath)
	if err != nil {
		return fmt.Errorf("worker did not come up (log %s): %w", logPath, err)
	}
	stops = append(stops, func() { w.Stop(15 * time.Second) })
	exited := w.Done()

	// Pipeline.
	tc, err := client.DialContext(ctx, client.Options{HostPort: temporalAddr, Logger: quietLogger{}})
	if err != nil {
		return fmt.Errorf("cannot reach Temporal at %s: %w", temporalAddr, err)
	}
	defer tc.Close()
	id := names.PipelineID(params.DefaultSeed, params.DefaultCustomers, params.DefaultProducts, params.DefaultOrders)
	fmt.Fprintf(out, "• Pipeline: running %s …\n", id)
	began := time.Now()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: names.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, names.Pipeline, params.PipelineInput{})
	if err != nil {
		return fmt.Errorf("start pipeline: %w", err)
	}
	var res params.PipelineResult
	uiURL := fmt.Sprintf("%s/namespaces/default/workflows/%s", cfg.TemporalUIURL, id)
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("pipeline %s failed (%s): %w\n  see %s and %s", id, applicationErrorType(err), err, uiURL, logPath)
	}
	printSummary(out, res, time.Since(began), uiURL, "http://"+cfg.HTTPAddr)
	if *exit {
		return nil
	}
	fmt.Fprintln(out, "Serving until Ctrl-C (stops the worker, broker and Temporal it started).")
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "\nstopping…")
	case err := <-exited:
		return fmt.Errorf("worker exited: %v; see %s", err, logPath)
	}
	return nil
}

func printSummary(out io.Writer, r params.PipelineResult, took time.Duration, uiURL, dashURL string) {
	v := r.Validation
	fmt.Fprintf(out, "\nPipeline done in %s\n", took.Round(100*time.Millisecond))
	fmt.Fprintf(out, "  seed        %d customers, %d products, %d orders in %s (reused: %v)\n", r.Seed.Customers, r.Seed.Products, r.Seed.Orders, r.Seed.Dir, r.Seed.Reused)
	fmt.Fprintf(out, "  produced    %d events to %s\n", r.Produce.Sent, r.Produce.Topic)
	fmt.Fprintf(out, "  ingested    %d new, %d duplicates skipped, %d rejected, over %d partitions\n", r.Ingest.Loaded, r.Ingest.Duplicates, r.Ingest.Rejected, r.Ingest.Partitions)
	fmt.Fprintf(out, "  merged      while loading (ingest nudges MergeOrders-nudged); the final pass inserted %d, updated %d\n", r.Merge.Inserted, r.Merge.Updated)
	fmt.Fprintf(out, "  RAW         %d events, %d rejects\n", v.Counts.RawEvents, v.Counts.RawRejected)
	fmt.Fprintf(out, "  PROD        %d orders, %d customers, %d products\n", v.Counts.ProdOrders, v.Counts.ProdCustomers, v.Counts.ProdInventory)
	fmt.Fprintf(out, "  validation  %s (%d pass, %d warn, %d fail) report %s\n", v.Status, v.Summary.Pass, v.Summary.Warn, v.Summary.Fail, v.ReportPath)
	fmt.Fprintf(out, "  Temporal UI %s\n", uiURL)
	fmt.Fprintf(out, "  Dashboard   %s\n\n", dashURL)
}

// The emulator's only account and user in the demo: local, loopback-only.
const (
	emulatorAccount  = "local"
	emulatorUser     = "dropflow"
	emulatorPassword = "dropflow-local"
)

// emulatorEnv points the worker (and starter) at the emulator on port.
func emulatorEnv(port int) []string {
	return []string{"WAREHOUSE=snowflake", "SNOW_ACCOUNT=" + emulatorAccount, "SNOW_USER=" + emulatorUser, "SNOW_PASSWORD=" + emulatorPassword,
		"SNOW_PRIVATE_KEY_PATH=", "SNOW_HOST=127.0.0.1", fmt.Sprintf("SNOW_PORT=%d", port), "SNOW_PROTOCOL=http"}
}

func isLocal(addr string, port int) bool {
	host, p, err := net.SplitHostPort(strings.Split(addr, ",")[0])
	return err == nil && (host == "localhost" || host == "127.0.0.1") && p == fmt.Sprint(port)
}

// cmdSnowflakeEmulator serves the local Snowflake-protocol server alone, for
// running the worker or another gosnowflake client against it.
func cmdSnowflakeEmulator(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("snowflake-emulator", flag.ContinueOnError)
	dir := fs.String("dir", "data/snowemu", "directory for its DuckDB files and stages")
	port := fs.Int("port", demoSnowflake, "TCP port on 127.0.0.1")
	password := fs.String("password", emulatorPassword, "password of user "+emulatorUser)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	began := time.Now()
	emu, err := snowemu.Start(snowemu.Options{Dir: *dir, Account: emulatorAccount, Port: *port,
		Users: []snowemu.User{{Name: emulatorUser, Password: *password}}})
	if err != nil {
		return err
	}
	defer emu.Close()
	fmt.Fprintf(out, "Snowflake emulator on %s (started in %s; DuckDB files in %s). A test and demo tool, not Snowflake.\n", emu.Addr(), time.Since(began).Round(time.Millisecond), *dir)
	fmt.Fprintf(out, "Point Dropflow at it with:\n  export %s\n", strings.Join(emulatorEnv(emu.Port()), " "))
	<-ctx.Done()
	return nil
}

// cmdKafkaBroker serves the demo's Kafka-protocol broker alone, as its own
// process: the chaos tests SIGKILL and restart it on the same log.
func cmdKafkaBroker(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("kafka-broker", flag.ContinueOnError)
	dir := fs.String("dir", "data/kafka", "directory of its log (kept across restarts)")
	port := fs.Int("port", demoBroker, "TCP port on 127.0.0.1")
	topic := fs.String("topic", "orders_topic", "topic to create when missing")
	partitions := fs.Int("partitions", 3, "partitions of a topic it creates")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if *partitions < 1 {
		return usageError{fmt.Errorf("--partitions %d: want >= 1", *partitions)}
	}
	b, err := devstack.StartBroker(*port, *dir, *topic, int32(*partitions))
	if err != nil {
		return fmt.Errorf("%w (is port %d taken?)", err, *port)
	}
	defer b.Close()
	fmt.Fprintf(out, "Kafka-protocol broker on %s (log in %s). A test and demo tool, not Kafka.\n", b.Addr, *dir)
	<-ctx.Done()
	return nil
}
