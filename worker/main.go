// Command worker connects to Temporal, registers Dropflow's workflows and
// activities on task queue "dropflow", and serves the dashboard, /healthz and
// /readyz. It owns the DuckDB file (DuckDB allows one writing process).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/dropflow/dropflow/activities"
	"github.com/dropflow/dropflow/internal/config"
	"github.com/dropflow/dropflow/internal/dashboard"
	"github.com/dropflow/dropflow/internal/fleet"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/logging"
	"github.com/dropflow/dropflow/internal/metrics"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/duckdb"
	"github.com/dropflow/dropflow/internal/warehouse/snowflake"
	"github.com/dropflow/dropflow/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Ingest makes much short-lived garbage (decoded events) over a small
		// live heap: a soft limit keeps the heap's peak near it instead of
		// doubling between collections. GOMEMLIMIT overrides it.
		// 80 MiB: the drain's live heap (batches in flight, reader buffers,
		// the Bloom filter) is about 40 MiB.
		debug.SetMemoryLimit(80 << 20)
	}
	log, err := logging.New(cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // best effort on exit

	wh, whID, err := openWarehouse(ctx, cfg)
	if err != nil {
		return err
	}
	defer wh.Close()

	kc, err := kafka.NewClient(cfg.KafkaBootstrap)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	clusterID, err := kc.ClusterID(pctx)
	if err != nil {
		// Not fatal: ingest retries with backoff until the broker is up (and
		// the fleet check then cannot compare brokers).
		log.Warn("Kafka broker not reachable yet; activities will retry", zap.Error(err))
	}
	cancel()
	host, _ := os.Hostname()
	member := fleet.Member{Warehouse: whID.Key, Where: whID.Where, Broker: clusterID, Topic: cfg.KafkaTopic}

	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return fmt.Errorf("temporal client config (TEMPORAL_* variables): %w", err)
	}
	opts.Logger = logging.NewTemporal(log)
	// The identity advertises what this worker serves, for the fleet check
	// of the next worker that joins the queue (and for people, in the Web UI).
	opts.Identity = member.Identity(fmt.Sprintf("%d@%s", os.Getpid(), host))
	m := metrics.New()
	sdkMetrics, closeMetrics, err := m.TemporalHandler()
	if err != nil {
		return err
	}
	defer closeMetrics() //nolint:errcheck // flush on exit, best effort
	opts.MetricsHandler = sdkMetrics
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		addr := opts.HostPort
		if addr == "" {
			addr = client.DefaultHostPort
		}
		return fmt.Errorf("cannot reach Temporal at %s (TEMPORAL_ADDRESS): %w; start it (make demo does) or fix TEMPORAL_ADDRESS", addr, err)
	}
	defer tc.Close()

	ns := opts.Namespace
	if ns == "" {
		ns = client.DefaultNamespace
	}
	if err := ensureSearchAttributes(ctx, tc, ns); err != nil {
		return err
	}
	if err := fleet.Join(ctx, names.TaskQueue, member, describePollers(tc, names.TaskQueue)); err != nil {
		return err
	}

	w := worker.New(tc, names.TaskQueue, worker.Options{
		Interceptors: []interceptor.WorkerInterceptor{activities.QueryTagInterceptor()},
	})
	workflows.Register(w)
	activities.Register(w, &activities.Activities{
		WH:    wh,
		Kafka: kc,
		Settings: activities.Settings{
			Topic: cfg.KafkaTopic, Group: cfg.KafkaGroup, DataDir: cfg.DataDir, ReportsDir: cfg.ReportsDir,
		},
		Nudger:  &mergeNudger{c: tc, interval: params.NudgeInterval},
		Metrics: m,
	})

	lag := func(ctx context.Context) ([]kafka.PartitionLag, error) { return kc.Lag(ctx, cfg.KafkaTopic, wh.Offset) }
	history := &dashboard.History{Interval: 10 * time.Second, Window: dashboard.TrendWindow, Lag: lag, Freshness: m.ProdFreshness}
	go history.Run(ctx)
	dash := &dashboard.Server{WH: wh, TemporalUIURL: cfg.TemporalUIURL, Namespace: ns, Lag: lag, Currency: cfg.Currency, History: history, Ready: []dashboard.Check{
		{Name: "temporal", Fn: func(ctx context.Context) error {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
		{Name: "kafka", Fn: kc.Ping},
		{Name: "warehouse", Fn: wh.Ping},
	}}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: %w (is another worker or demo running?)", cfg.HTTPAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", dash.Handler())
	mux.Handle("GET /metrics", m.Handler())
	srv := serveHTTP(ln, mux, log, "HTTP server")
	if cfg.DebugAddr != "" {
		dbg, err := serveDebug(cfg.DebugAddr, wh, log)
		if err != nil {
			return err
		}
		defer dbg.Close()
	}
	log.Info("worker started", zap.String("task_queue", names.TaskQueue), zap.String("warehouse", wh.Dialect()),
		zap.String("dashboard", "http://"+ln.Addr().String()), zap.String("kafka", cfg.KafkaBootstrap), zap.String("topic", cfg.KafkaTopic))

	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	log.Info("shutting down")
	w.Stop()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	return srv.Shutdown(sctx)
}

// serveHTTP serves h on ln until the server is shut down or closed.
func serveHTTP(ln net.Listener, h http.Handler, log *zap.Logger, name string) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+" stopped", zap.Error(err))
		}
	}()
	return srv
}

// serveDebug serves Go's profiles on their own listener (DEBUG_ADDR), never
// on the dashboard's: heap and goroutine dumps hold connection strings.
// With DuckDB it also serves duckdb_memory(), the engine's own accounting,
// which Go's heap profile cannot see.
func serveDebug(addr string, wh warehouse.Warehouse, log *zap.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("DEBUG_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if d, ok := wh.(*duckdb.Warehouse); ok {
		mux.HandleFunc("GET /debug/duckdb/memory", func(w http.ResponseWriter, r *http.Request) {
			tags, err := d.Memory(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(tags)
		})
	}
	srv := serveHTTP(ln, mux, log, "debug server")
	log.Info("profiles served", zap.String("debug", "http://"+ln.Addr().String()+"/debug/pprof/"))
	return srv, nil
}

// mergeNudger signals-with-start the merger (the nudged MergeOrders run), at
// most once per interval from this process: a running merger polls the
// warehouse and needs no nudge, so nudges only start it, and every signal is
// a billed history event.
type mergeNudger struct {
	c        client.Client
	interval time.Duration
	mu       sync.Mutex
	last     time.Time
}

func (n *mergeNudger) NudgeMerge(ctx context.Context) error {
	n.mu.Lock()
	prev := n.last
	if !prev.IsZero() && time.Since(prev) < n.interval {
		n.mu.Unlock()
		return nil
	}
	n.last = time.Now() // claimed: other partitions skip while this one signals
	n.mu.Unlock()
	_, err := n.c.SignalWithStartWorkflow(ctx, names.NudgedMergeID, names.SignalNudge, nil,
		client.StartWorkflowOptions{ID: names.NudgedMergeID, TaskQueue: names.TaskQueue},
		names.MergeOrders, params.MergeOrdersInput{Nudged: true})
	if err != nil {
		n.mu.Lock()
		n.last = prev // the next commit tries again
		n.mu.Unlock()
		return fmt.Errorf("nudge %s: %w", names.NudgedMergeID, err)
	}
	return nil
}

// ensureSearchAttributes registers the Keyword search attributes the
// workflows set. A workflow that sets an unregistered one cannot complete its
// task, so a worker that cannot register them refuses to start.
func ensureSearchAttributes(ctx context.Context, tc client.Client, ns string) error {
	want := []string{names.SearchAttrStage, names.SearchAttrSource}
	list, err := tc.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return fmt.Errorf("list search attributes of namespace %s: %w", ns, err)
	}
	missing := map[string]enums.IndexedValueType{}
	for _, name := range want {
		if _, ok := list.GetCustomAttributes()[name]; !ok {
			missing[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = tc.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("register search attributes %v in namespace %s: %w; register them once with `temporal operator search-attribute create --namespace %s --name %s --type Keyword` (and --name %s)",
			want, ns, err, ns, names.SearchAttrStage, names.SearchAttrSource)
	}
	return nil
}

// describePollers lists the live pollers of the queue's workflow and activity task queues.
func describePollers(tc client.Client, queue string) fleet.Describe {
	return func(ctx context.Context) ([]fleet.Poller, error) {
		var out []fleet.Poller
		for _, typ := range []enums.TaskQueueType{enums.TASK_QUEUE_TYPE_WORKFLOW, enums.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := tc.DescribeTaskQueue(ctx, queue, typ)
			if err != nil {
				return nil, err
			}
			for _, p := range resp.GetPollers() {
				out = append(out, fleet.Poller{Identity: p.GetIdentity(), LastAccess: p.GetLastAccessTime().AsTime()})
			}
		}
		return out, nil
	}
}

// identified is a warehouse that can say which one it is.
type identified interface {
	warehouse.Warehouse
	Identity(ctx context.Context) (warehouse.Identity, error)
}

// snowflakeOptions maps the SNOW_* settings onto the adapter's options: the
// warehouse package knows nothing of environment variables.
func snowflakeOptions(c config.Snowflake) snowflake.Options {
	return snowflake.Options{
		Account: c.Account, User: c.User, Password: c.Password,
		PrivateKeyPath: c.PrivateKeyPath, PrivateKeyPassphrase: c.PrivateKeyPassphrase,
		Role: c.Role, Warehouse: c.Warehouse, Database: c.Database, Schema: c.Schema,
		Host: c.Host, Port: c.Port, Protocol: c.Protocol,
		StageThreshold: c.StageThreshold, MergeDriver: c.MergeDriver,
	}
}

func openWarehouse(ctx context.Context, cfg config.Config) (warehouse.Warehouse, warehouse.Identity, error) {
	var (
		wh  identified
		err error
	)
	switch cfg.Warehouse {
	case warehouse.DialectDuckDB:
		wh, err = duckdb.OpenWithOptions(ctx, cfg.DuckDBPath, duckdb.Options{MemoryLimit: cfg.DuckDBMemory})
	case warehouse.DialectSnowflake:
		wh, err = snowflake.Open(ctx, snowflakeOptions(cfg.Snowflake))
	default:
		return nil, warehouse.Identity{}, fmt.Errorf("WAREHOUSE=%s: want duckdb or snowflake", cfg.Warehouse)
	}
	if err != nil {
		return nil, warehouse.Identity{}, err
	}
	id, err := wh.Identity(ctx)
	if err != nil {
		wh.Close()
		return nil, warehouse.Identity{}, err
	}
	return wh, id, nil
}
