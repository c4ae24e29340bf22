package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

type snapshot struct {
	rawEvents, rawDistinctIDs, rejects, prodOrders, customers, inventory int64
	orders                                                               []string
}

// inspect reads the stack's warehouse through its adapter (for DuckDB the
// worker must be stopped: it owns the file).
func inspect(t *testing.T, s *stack) snapshot {
	t.Helper()
	ctx := context.Background()
	wh := s.openWarehouse()
	defer wh.Close()
	var snap snapshot
	for _, c := range []struct {
		q   string
		dst *int64
	}{
		{"SELECT count(*) FROM raw.orders_events", &snap.rawEvents},
		{"SELECT count(DISTINCT event_id) FROM raw.orders_events", &snap.rawDistinctIDs},
		{"SELECT count(*) FROM raw.orders_events_rejected", &snap.rejects},
		{"SELECT count(*) FROM prod.orders", &snap.prodOrders},
		{"SELECT count(*) FROM prod.customers", &snap.customers},
		{"SELECT count(*) FROM prod.inventory", &snap.inventory},
	} {
		if err := wh.QueryRow(ctx, c.q).Scan(c.dst); err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
	}
	// Typed columns formatted here, so that one query serves both dialects.
	rows, err := wh.Query(ctx, `SELECT order_id, customer_id, product_id, quantity, CAST(unit_price AS VARCHAR), status, sold_at FROM prod.orders ORDER BY order_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, cust, prod, qty int64
		var price, status string
		var sold time.Time
		if err := rows.Scan(&id, &cust, &prod, &qty, &price, &status, &sold); err != nil {
			t.Fatal(err)
		}
		snap.orders = append(snap.orders, fmt.Sprintf("%d,%d,%d,%d,%s,%s,%s", id, cust, prod, qty, price, status, sold.UTC().Format("2006-01-02T15:04:05Z")))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return snap
}

func csvLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != strings.Join(datagen.OrdersHeader, ",") {
		t.Fatalf("orders.csv header %q", lines[0])
	}
	return lines[1:]
}

func TestPipelineEndToEnd(t *testing.T) {
	runPipeline(t, newStack(t))
}

// runPipeline runs the default pipeline twice (from the SDK, then from the
// Temporal CLI) and checks every layer; each warehouse's test calls it.
func runPipeline(t *testing.T, s *stack) {
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	id := names.PipelineID(params.DefaultSeed, params.DefaultCustomers, params.DefaultProducts, params.DefaultOrders)
	run, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: names.TaskQueue}, names.Pipeline, params.PipelineInput{})
	if err != nil {
		t.Fatal(err)
	}
	var res params.PipelineResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("pipeline failed: %v\n%s", err, s.logs())
	}
	// Ingest nudges merges while it loads, so the pipeline's own merge may find
	// little left: PROD is checked row by row below instead.
	if res.Produce.Sent != 5000 || res.Ingest.Loaded != 5000 || res.Ingest.Rejected != 0 || res.Merge.Inserted > 5000 {
		t.Fatalf("unexpected pipeline result: produce %+v ingest %+v merge %+v", res.Produce, res.Ingest, res.Merge)
	}
	if res.Validation.Status != params.StatusPass {
		b, _ := json.MarshalIndent(res.Validation, "", " ")
		t.Fatalf("validation %s:\n%s", res.Validation.Status, b)
	}
	if _, err := os.Stat(res.Validation.ReportPath); err != nil {
		t.Fatalf("report not written: %v", err)
	}

	// Ingest nudged the merge through signal-with-start.
	if _, err := s.client.DescribeWorkflow(ctx, names.NudgedMergeID, ""); err != nil {
		t.Fatalf("no nudged merge ran: %v", err)
	}
	// Runs carry the search attributes a user filters on in the Web UI.
	waitFor(t, "runs searchable by DropflowStage", 30*time.Second, func() bool {
		resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: `DropflowStage = "IngestOrders" AND DropflowSource = "pipeline"`})
		return err == nil && len(resp.Executions) == 1
	})

	// The CLI path a user takes, with the readable report.
	out, code := s.starter("validate")
	if code != 0 || !strings.Contains(out, "Validation PASS") {
		t.Fatalf("starter validate exit %d:\n%s", code, out)
	}
	// Bad input fails at once, naming the field.
	out, code = s.starter("pipeline", "--orders", "-5", "--wait")
	if code != 1 || !strings.Contains(out, "orders") || !strings.Contains(out, "InvalidInput") {
		t.Fatalf("bad input: exit %d:\n%s", code, out)
	}

	s.stopWorker()
	first := inspect(t, s)
	want := csvLines(t, filepath.Join(s.dir, "data", "seed", "orders.csv"))
	if len(first.orders) != len(want) {
		t.Fatalf("PROD has %d orders, orders.csv %d", len(first.orders), len(want))
	}
	for i := range want {
		if first.orders[i] != want[i] {
			t.Fatalf("PROD row %d differs from orders.csv:\n prod %s\n csv  %s", i, first.orders[i], want[i])
		}
	}
	if first.customers != 1000 || first.inventory != 200 {
		t.Fatalf("PROD has %d customers and %d products", first.customers, first.inventory)
	}
	if first.rawEvents != int64(res.Produce.Sent) || first.rawDistinctIDs != first.rawEvents || first.rejects != 0 {
		t.Fatalf("RAW: %d rows, %d distinct ids, %d rejects; produced %d", first.rawEvents, first.rawDistinctIDs, first.rejects, res.Produce.Sent)
	}

	// Second run, started the way the README shows, from the Temporal CLI.
	s.startWorker()
	cliOut, err := s.temporalCLI("workflow", "execute", "--task-queue", names.TaskQueue, "--type", names.Pipeline,
		"--workflow-id", "e2e-second-run", "--input", "{}")
	if err != nil {
		t.Fatalf("temporal workflow execute: %v\n%s\n%s", err, cliOut, s.logs())
	}
	if !strings.Contains(cliOut, `"status": "PASS"`) && !strings.Contains(cliOut, `"status":"PASS"`) {
		t.Fatalf("second run did not validate PASS:\n%s", cliOut)
	}
	s.stopWorker()
	second := inspect(t, s)
	if second.rawEvents != first.rawEvents || second.prodOrders != first.prodOrders || second.customers != first.customers || second.inventory != first.inventory {
		t.Fatalf("second run changed the counts: %+v -> %+v", first, second)
	}
	for i := range first.orders {
		if first.orders[i] != second.orders[i] {
			t.Fatalf("second run changed PROD row %d: %s -> %s", i, first.orders[i], second.orders[i])
		}
	}
}
