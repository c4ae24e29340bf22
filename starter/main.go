// Command starter starts and awaits Dropflow's workflows, one subcommand per
// workflow type (flags map onto the input's JSON fields), and runs the local
// demo stack. Temporal is reached through the TEMPORAL_* variables.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/temporal"

	"github.com/dropflow/dropflow/internal/names"
)

const usage = `usage: starter <command> [flags]

Workflows (add --wait to print the result as JSON; exit 1 if the run fails):
  pipeline        run everything once: schema, seed, produce+ingest, merge, validate
  deploy-schema   apply warehouse migrations (--dry-run prints the SQL)
  seed            generate the CSVs and load PROD.customers / PROD.inventory
  produce         replay orders.csv into Kafka
  ingest          load Kafka into RAW (drain or follow)
  produce-ctl     steer a running producer: pause | resume | rate N | progress
  stop-ingest     stop a following ingest after its current batch
  merge           merge new RAW events into PROD.orders
  validate        run the checks, print the report (exit 0 PASS/WARN, 1 FAIL)

Schedules (replace cron; see "starter schedules -h"):
  schedules       apply | list | describe | pause | unpause | trigger | backfill | delete

Local stack:
  demo            start Temporal, a broker and the worker; run the pipeline; serve until Ctrl-C
                  (--snowflake-emulator: through gosnowflake against the local Snowflake-protocol server)
  snowflake-emulator  serve the local Snowflake-protocol server (DuckDB underneath) until Ctrl-C
  kafka-broker        serve the local Kafka-protocol broker (the demo's, log in --dir) until Ctrl-C
  generate        write the seed CSVs locally, without Temporal
  monitor         print the dashboard's figures every 30 s

Run "starter <command> -h" for its flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1], os.Args[2:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	var err error
	switch cmd {
	case "pipeline":
		err = cmdPipeline(ctx, args, stdout)
	case "deploy-schema":
		err = cmdDeploySchema(ctx, args, stdout)
	case "seed":
		err = cmdSeed(ctx, args, stdout)
	case "produce":
		err = cmdProduce(ctx, args, stdout)
	case "ingest":
		err = cmdIngest(ctx, args, stdout)
	case "stop-ingest":
		err = cmdStopIngest(ctx, args, stdout)
	case "schedules":
		err = cmdSchedules(ctx, args, stdout)
	case "produce-ctl":
		err = cmdProduceCtl(ctx, args, stdout)
	case "merge":
		err = cmdMerge(ctx, args, stdout)
	case "validate":
		return cmdValidate(ctx, args, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args, stdout)
	case "generate":
		err = cmdGenerate(ctx, args, stdout)
	case "snowflake-emulator":
		err = cmdSnowflakeEmulator(ctx, args, stdout)
	case "kafka-broker":
		err = cmdKafkaBroker(ctx, args, stdout)
	case "monitor":
		err = cmdMonitor(ctx, args, stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "starter: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "starter:", err)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "starter:", err)
		return 1
	}
	return 0
}

type usageError struct{ error }

// common flags of every workflow command.
type common struct {
	id      string
	wait    bool
	timeout time.Duration
}

func (c *common) register(fs *flag.FlagSet, wait bool) {
	fs.StringVar(&c.id, "id", "", "workflow ID (default: derived from the command)")
	if wait {
		fs.BoolVar(&c.wait, "wait", false, "wait for the result and print it as JSON")
	}
	fs.DurationVar(&c.timeout, "timeout", 0, "give up waiting after this long (0 = no limit)")
}

func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected arguments %v", fs.Name(), fs.Args())}
	}
	return nil
}

func dial(ctx context.Context) (client.Client, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return nil, fmt.Errorf("temporal client config (TEMPORAL_* variables): %w", err)
	}
	opts.Logger = quietLogger{}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		addr := opts.HostPort
		if addr == "" {
			addr = client.DefaultHostPort
		}
		return nil, fmt.Errorf("cannot reach Temporal at %s (TEMPORAL_ADDRESS): %w; start it (make demo does) or fix TEMPORAL_ADDRESS", addr, err)
	}
	return c, nil
}

func stamp() string { return time.Now().UTC().Format("20060102T150405Z") }

// start starts (or, for a running ID, attaches to) a workflow and optionally
// waits, printing the result as JSON.
func start(ctx context.Context, c common, workflowType, defaultID string, input, result any, out io.Writer) error {
	tc, err := dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	id := c.id
	if id == "" {
		id = defaultID
	}
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                names.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflowType, input)
	if err != nil {
		return fmt.Errorf("start %s: %w", workflowType, err)
	}
	if !c.wait {
		fmt.Fprintf(out, "started %s workflow_id=%s run_id=%s\n", workflowType, run.GetID(), run.GetRunID())
		return nil
	}
	wctx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	stopProgress := showProgress(wctx, tc, workflowType, run.GetID(), os.Stderr)
	err = run.Get(wctx, result)
	stopProgress()
	if err != nil {
		return fmt.Errorf("%s %s failed: %w", workflowType, run.GetID(), err)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(result)
}

// showProgress prints a live line from the workflow's progress query while it
// runs, when w is a terminal; it is quiet otherwise. The returned func stops it.
func showProgress(ctx context.Context, tc client.Client, workflowType, id string, w *os.File) func() {
	if fi, err := w.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	began := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			line := ""
			if v, err := tc.QueryWorkflow(ctx, id, "", names.QueryProgress); err == nil {
				var p map[string]any
				if v.Get(&p) == nil {
					b, _ := json.Marshal(p)
					line = string(b)
				}
			}
			if len(line) > 100 {
				line = line[:97] + "..."
			}
			fmt.Fprintf(w, "\r\033[K%s %s %s %s", workflowType, id, time.Since(began).Round(time.Second), line)
		}
	}()
	return func() { close(done); <-finished }
}

// quietLogger drops the SDK's client logs: the starter prints its own lines.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}

func (quietLogger) Info(string, ...any) {}

func (quietLogger) Warn(string, ...any) {}

func (quietLogger) Error(string, ...any) {}

// applicationErrorType returns the type of an application error inside err.
func applicationErrorType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}
