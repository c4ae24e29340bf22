package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// datasetFlags declares the flags that name a generated data set (pipeline,
// seed, generate), with the generator's defaults.
func datasetFlags(fs *flag.FlagSet, seed *int64, customers, products, orders *int, asOf *string) {
	fs.Int64Var(seed, "seed", params.DefaultSeed, "generator seed")
	fs.IntVar(customers, "customers", params.DefaultCustomers, "customers to generate")
	fs.IntVar(products, "products", params.DefaultProducts, "products to generate")
	fs.IntVar(orders, "orders", params.DefaultOrders, "orders to generate")
	fs.StringVar(asOf, "as-of", "", "anchor time of the data, RFC 3339 (default: today 00:00 UTC)")
}

func cmdPipeline(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("pipeline", flag.ContinueOnError)
	var c common
	var in params.PipelineInput
	c.register(fs, true)
	datasetFlags(fs, &in.Seed, &in.Customers, &in.Products, &in.Orders, &in.AsOf)
	fs.Float64Var(&in.Rate, "rate", 0, "producer rate in events/s (0 = unlimited)")
	fs.IntVar(&in.BatchRecords, "batch-records", 0, fmt.Sprintf("ingest batch size in records (default %d)", params.DefaultBatchRecords))
	if err := parse(fs, args, out); err != nil {
		return err
	}
	var res params.PipelineResult
	return start(ctx, c, names.Pipeline, names.PipelineID(in.Seed, in.Customers, in.Products, in.Orders), in, &res, out, errOut)
}

func cmdDeploySchema(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("deploy-schema", flag.ContinueOnError)
	var c common
	var in params.DeploySchemaInput
	c.register(fs, true)
	fs.BoolVar(&in.DryRun, "dry-run", false, "print the SQL that would run and change nothing (implies --wait)")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	var res params.DeploySchemaResult
	if !in.DryRun {
		return start(ctx, c, names.DeploySchema, names.StandaloneID(names.DeploySchema, stamp()), in, &res, out, errOut)
	}
	c.wait = true
	if err := start(ctx, c, names.DeploySchema, names.StandaloneID(names.DeploySchema, "dry-run-"+stamp()), in, &res, io.Discard, errOut); err != nil {
		return err
	}
	if res.SQL == "" {
		fmt.Fprintln(out, "-- nothing to apply: every migration is already applied")
	}
	fmt.Fprint(out, res.SQL)
	return nil
}

func cmdSeed(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	var c common
	var in params.SeedDataInput
	c.register(fs, true)
	datasetFlags(fs, &in.Seed, &in.Customers, &in.Products, &in.Orders, &in.AsOf)
	fs.StringVar(&in.OutputDir, "output-dir", "", "directory of the CSVs, as the worker sees it (default DATA_DIR/seed)")
	fs.BoolVar(&in.Regenerate, "regenerate", false, "overwrite CSVs generated earlier with the same seed and counts")
	fs.BoolVar(&in.SkipProdLoad, "skip-prod-load", false, "do not upsert PROD.customers / PROD.inventory")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	var res params.SeedDataResult
	return start(ctx, c, names.SeedData, names.StandaloneID(names.SeedData, stamp()), in, &res, out, errOut)
}

func cmdProduce(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	var c common
	var in params.ProduceOrdersInput
	c.register(fs, true)
	var duration time.Duration
	fs.StringVar(&in.Mode, "mode", params.ModeReplay, "replay (orders.csv) or stream (synthetic orders and updates)")
	fs.StringVar(&in.OrdersCSV, "orders-csv", "", "orders.csv to replay, as the worker sees it (default DATA_DIR/seed/orders.csv)")
	fs.StringVar(&in.InventoryCSV, "inventory-csv", "", "stream: products and prices (default DATA_DIR/seed/inventory.csv)")
	fs.IntVar(&in.Customers, "customers", 0, "stream: customer ids 1..N (default from the seed manifest)")
	fs.Int64Var(&in.FirstOrderID, "first-order-id", 0, "stream: first synthetic order id (default seed orders + 1)")
	fs.Int64Var(&in.Seed, "seed", 0, fmt.Sprintf("stream: seed of the synthetic orders (default %d)", params.DefaultSeed))
	fs.StringVar(&in.Topic, "topic", "", "topic (default the worker's KAFKA_TOPIC)")
	fs.Float64Var(&in.Rate, "rate", 0, "events/s (0 = unlimited)")
	fs.IntVar(&in.Limit, "limit", 0, "stop after this many events (0 = whole file, or unbounded stream)")
	fs.DurationVar(&duration, "duration", 0, "stop after this long (0 = no limit)")
	fs.IntVar(&in.ChunkSize, "chunk-size", 0, fmt.Sprintf("most events per activity (default %d)", params.DefaultProduceChunk))
	if err := parse(fs, args, out); err != nil {
		return err
	}
	in.Duration = params.Duration(duration)
	id := names.StandaloneID(names.ProduceOrders, stamp())
	if in.Mode == params.ModeStream {
		id = names.StandaloneID(names.ProduceOrders, "stream")
	}
	var res params.ProduceOrdersResult
	return start(ctx, c, names.ProduceOrders, id, in, &res, out, errOut)
}

func cmdIngest(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	var c common
	var in params.IngestOrdersInput
	var wait, chunk time.Duration
	c.register(fs, true)
	fs.StringVar(&in.Mode, "mode", params.ModeDrain, "drain (return when caught up) or follow (until stop-ingest)")
	fs.StringVar(&in.Topic, "topic", "", "topic (default the worker's KAFKA_TOPIC)")
	fs.IntVar(&in.BatchRecords, "batch-records", 0, fmt.Sprintf("flush a batch at this many records (default %d)", params.DefaultBatchRecords))
	fs.IntVar(&in.BatchBytes, "batch-bytes", 0, fmt.Sprintf("flush a batch at this many bytes (default %d MiB)", params.DefaultBatchBytes>>20))
	fs.DurationVar(&wait, "batch-wait", 0, "flush a non-empty batch after this long (default "+params.DefaultBatchWait.String()+")")
	fs.DurationVar(&chunk, "follow-chunk", 0, "follow mode: continue-as-new after this long (default "+params.DefaultFollowChunk.String()+")")
	fs.StringVar(&in.OffsetReset, "offset-reset", "", "when a stored offset is outside the topic: earliest or latest (default: stop with an error)")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	in.BatchWait, in.FollowChunk = params.Duration(wait), params.Duration(chunk)
	id := names.StandaloneID(names.IngestOrders, stamp())
	if in.Mode == params.ModeFollow {
		id = names.StandaloneID(names.IngestOrders, "follow")
	}
	var res params.IngestOrdersResult
	return start(ctx, c, names.IngestOrders, id, in, &res, out, errOut)
}

func cmdStopIngest(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("stop-ingest", flag.ContinueOnError)
	id := fs.String("id", names.StandaloneID(names.IngestOrders, "follow"), "workflow ID of the following ingest")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	tc, err := dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := tc.SignalWorkflow(ctx, *id, "", names.SignalStop, nil); err != nil {
		return fmt.Errorf("signal %s to %s: %w", names.SignalStop, *id, err)
	}
	fmt.Fprintf(out, "stop sent to %s; it returns after its current batch\n", *id)
	return nil
}

// cmdProduceCtl pauses, resumes, re-rates or inspects a running producer.
func cmdProduceCtl(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("produce-ctl", flag.ContinueOnError)
	id := fs.String("id", names.StandaloneID(names.ProduceOrders, "stream"), "workflow ID of the producer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError{errors.New("produce-ctl: want pause, resume, rate N or progress")}
	}
	tc, err := dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	var p params.ProduceProgress
	switch rest[0] {
	case "pause", "resume":
		name := names.SignalPause
		if rest[0] == "resume" {
			name = names.SignalResume
		}
		if err := tc.SignalWorkflow(ctx, *id, "", name, nil); err != nil {
			return fmt.Errorf("signal %s to %s: %w", name, *id, err)
		}
		fmt.Fprintf(out, "%s sent to %s (applies at the next chunk, within %s)\n", name, *id, params.ProduceChunkTime)
		return nil
	case "rate":
		if len(rest) != 2 {
			return usageError{errors.New("produce-ctl rate: want one number, events/s (0 = unlimited)")}
		}
		var rate float64
		if _, err := fmt.Sscan(rest[1], &rate); err != nil {
			return usageError{fmt.Errorf("produce-ctl rate: %q is not a number", rest[1])}
		}
		h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: *id, UpdateName: names.UpdateSetRate, Args: []any{rate}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return fmt.Errorf("set_rate on %s: %w", *id, err)
		}
		if err := h.Get(ctx, &p); err != nil {
			return fmt.Errorf("set_rate on %s: %w", *id, err)
		}
	case "progress":
		v, err := tc.QueryWorkflow(ctx, *id, "", names.QueryProgress)
		if err != nil {
			return fmt.Errorf("query %s: %w", *id, err)
		}
		if err := v.Get(&p); err != nil {
			return err
		}
	default:
		return usageError{fmt.Errorf("produce-ctl: unknown action %q (want pause, resume, rate N or progress)", rest[0])}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

func cmdMerge(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	var c common
	c.register(fs, true)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	var res params.MergeOrdersResult
	return start(ctx, c, names.MergeOrders, names.StandaloneID(names.MergeOrders, stamp()), params.MergeOrdersInput{}, &res, out, errOut)
}

// cmdValidate always waits and prints the report readably. Exit codes: 0 on
// PASS, 0 on WARN unless --strict, 1 on FAIL.
func cmdValidate(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	var c common
	var in params.ValidatePipelineInput
	c.register(fs, false)
	strict := fs.Bool("strict", false, "exit 1 on WARN too")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.StringVar(&in.ReportsDir, "reports-dir", "", "directory for the JSON report, as the worker sees it (default REPORTS_DIR)")
	if err := parse(fs, args, out); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(errOut, "starter:", err)
		return 2
	}
	in.AllowFail = true // the report is the output; the exit code carries the verdict
	c.wait = true
	var rep params.ValidationReport
	if err := start(ctx, c, names.ValidatePipeline, names.StandaloneID(names.ValidatePipeline, stamp()), in, &rep, io.Discard, errOut); err != nil {
		fmt.Fprintln(errOut, "starter:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		printReport(out, rep)
	}
	switch {
	case rep.Status == params.StatusFail:
		return 1
	case rep.Status == params.StatusWarn && *strict:
		return 1
	}
	return 0
}

func printReport(out io.Writer, rep params.ValidationReport) {
	fmt.Fprintf(out, "Validation %s at %s (%d checks: %d pass, %d warn, %d fail)\n", rep.Status, rep.Timestamp, rep.Summary.Total, rep.Summary.Pass, rep.Summary.Warn, rep.Summary.Fail)
	for _, c := range rep.Checks {
		fmt.Fprintf(out, "  %-4s %-30s %s\n", c.Status, c.Name, c.Message)
	}
	fmt.Fprintf(out, "Layers: RAW %d events, %d rejects; PROD %d orders, %d customers, %d products\n",
		rep.Counts.RawEvents, rep.Counts.RawRejected, rep.Counts.ProdOrders, rep.Counts.ProdCustomers, rep.Counts.ProdInventory)
	fmt.Fprintf(out, "Report: %s\n", rep.ReportPath)
}
