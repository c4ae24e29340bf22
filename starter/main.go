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
	"slices"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/temporal"

	"github.com/dropflow/dropflow/internal/names"
)

// command is one subcommand: its group and one-line summary make the usage,
// its run the dispatch (validate alone returns its own exit code).
type command struct {
	name, group, summary string
	run                  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	exit                 func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// Command groups, in the order the usage lists them.
const (
	groupWorkflows = "Workflows (add --wait to print the result as JSON; exit 1 if the run fails):"
	groupSchedules = `Schedules (replace cron; see "starter schedules -h"):`
	groupLocal     = "Local stack:"
)

// commands is the CLI: one row per subcommand.
var commands = []command{
	{name: "pipeline", group: groupWorkflows, summary: "run everything once: schema, seed, produce+ingest, merge, validate", run: cmdPipeline},
	{name: "deploy-schema", group: groupWorkflows, summary: "apply warehouse migrations (--dry-run prints the SQL)", run: cmdDeploySchema},
	{name: "seed", group: groupWorkflows, summary: "generate the CSVs and load PROD.customers / PROD.inventory", run: cmdSeed},
	{name: "produce", group: groupWorkflows, summary: "replay orders.csv into Kafka (--mode stream: synthetic orders)", run: cmdProduce},
	{name: "ingest", group: groupWorkflows, summary: "load Kafka into RAW (drain or follow)", run: cmdIngest},
	{name: "produce-ctl", group: groupWorkflows, summary: "steer a running producer: pause | resume | rate N | progress", run: cmdProduceCtl},
	{name: "stop-ingest", group: groupWorkflows, summary: "stop a following ingest after its current batch", run: cmdStopIngest},
	{name: "merge", group: groupWorkflows, summary: "merge new RAW events into PROD.orders", run: cmdMerge},
	{name: "validate", group: groupWorkflows, summary: "run the checks, print the report (exit 0 PASS/WARN, 1 FAIL)", exit: cmdValidate},
	{name: "schedules", group: groupSchedules, summary: "apply | list | describe | pause | unpause | trigger | backfill | delete", run: cmdSchedules},
	{name: "demo", group: groupLocal, summary: "start Temporal, a broker and the worker; run the pipeline; serve until Ctrl-C\n" +
		"(--snowflake-emulator: through gosnowflake against the local Snowflake-protocol server)", run: cmdDemo},
	{name: "snowflake-emulator", group: groupLocal, summary: "serve the local Snowflake-protocol server (DuckDB underneath) until Ctrl-C", run: cmdSnowflakeEmulator},
	{name: "kafka-broker", group: groupLocal, summary: "serve the local Kafka-protocol broker (the demo's, log in --dir) until Ctrl-C", run: cmdKafkaBroker},
	{name: "generate", group: groupLocal, summary: "write the seed CSVs locally, without Temporal", run: cmdGenerate},
	{name: "monitor", group: groupLocal, summary: "print the dashboard's figures every 30 s", run: cmdMonitor},
}

// usage lists the commands by group, from the table.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: starter <command> [flags]\n")
	group := ""
	for _, c := range commands {
		if c.group != group {
			group = c.group
			fmt.Fprintf(&b, "\n%s\n", group)
		}
		lines := strings.Split(c.summary, "\n")
		fmt.Fprintf(&b, "  %-19s %s\n", c.name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "  %-19s %s\n", "", l)
		}
	}
	b.WriteString("\nRun \"starter <command> -h\" for its flags.\n")
	return b.String()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1], os.Args[2:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	if name == "-h" || name == "--help" || name == "help" {
		fmt.Fprint(stdout, usage())
		return 0
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "starter: unknown command %q\n\n%s", name, usage())
		return 2
	}
	c := commands[i]
	if c.exit != nil {
		return c.exit(ctx, args, stdout, stderr)
	}
	err := c.run(ctx, args, stdout, stderr)
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

// parse parses a command's flags; -h prints them to out (the caller's
// stdout), a bad flag is a usageError naming it (run prints it on stderr).
func parse(fs *flag.FlagSet, args []string, out io.Writer) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fmt.Fprintf(out, "usage: starter %s [flags]\n", fs.Name())
			fs.PrintDefaults()
			return err
		}
		return usageError{fmt.Errorf("%s: %w (starter %s -h lists the flags)", fs.Name(), err, fs.Name())}
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
func start(ctx context.Context, c common, workflowType, defaultID string, input, result any, out, errOut io.Writer) error {
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
	stopProgress := showProgress(wctx, tc, workflowType, run.GetID(), errOut)
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
func showProgress(ctx context.Context, tc client.Client, workflowType, id string, w io.Writer) func() {
	f, ok := w.(*os.File)
	if !ok {
		return func() {}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
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
