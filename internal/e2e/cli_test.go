package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // database/sql driver "duckdb"
	"go.temporal.io/api/enums/v1"

	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// reportCheckLine returns the fields of the readable report's line for check
// name ("  STATUS name message"), or nil.
func reportCheckLine(out, name string) []string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[1] == name {
			return f
		}
	}
	return nil
}

// checkStatus is the status the readable report gives check name.
func checkStatus(t *testing.T, out, name string) string {
	t.Helper()
	f := reportCheckLine(out, name)
	if f == nil {
		t.Fatalf("report has no line for check %s:\n%s", name, out)
	}
	return f[0]
}

// TestCLIValidateExitCodes runs `starter validate` on a real WARN (an empty
// warehouse just deployed) and a real FAIL (a bad PROD row written into the
// DuckDB file while the worker is stopped): exit 0 on WARN, 1 on WARN with
// --strict, 1 on FAIL, each report naming the checks that caused it.
func TestCLIValidateExitCodes(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s.deploySchema(ctx)

	// WARN: nothing ingested, nothing merged yet.
	out, code := s.starter("validate")
	if code != 0 || !strings.HasPrefix(out, "Validation WARN ") {
		t.Fatalf("validate on an empty warehouse: exit %d, want 0 and WARN:\n%s", code, out)
	}
	for check, want := range map[string]string{
		"freshness":                  "WARN",
		"newest_event_age":           "WARN",
		"last_merge":                 "WARN",
		"prod_duplicate_order_ids":   "PASS",
		"prod_non_positive_quantity": "PASS",
	} {
		if got := checkStatus(t, out, check); got != want {
			t.Fatalf("empty warehouse: %s is %s, want %s:\n%s", check, got, want, out)
		}
	}
	if !strings.Contains(out, "no event ingested in the last hour") || strings.Contains(out, "FAIL ") {
		t.Fatalf("empty warehouse report:\n%s", out)
	}
	out, code = s.starter("validate", "--strict")
	if code != 1 || !strings.HasPrefix(out, "Validation WARN ") {
		t.Fatalf("validate --strict on WARN: exit %d, want 1:\n%s", code, out)
	}

	// FAIL: an order with quantity 0 and no RAW event, written behind the
	// worker's back (DuckDB: one process per file, so the worker is stopped).
	s.stopWorker()
	db, err := sql.Open("duckdb", s.duckdb)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO prod.orders (order_id, customer_id, product_id, quantity, unit_price, total_amount, status, sold_at, event_id, event_version, merged_at)
		VALUES (900001, 1, 1000, 0, 5.00, 0, 'paid', TIMESTAMP '2026-01-01 00:00:00', 'e2e-bad-row', 1, now())`)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("write the bad row: %v", err)
	}
	s.startWorker()

	out, code = s.starter("validate")
	if code != 1 || !strings.HasPrefix(out, "Validation FAIL ") {
		t.Fatalf("validate with a bad PROD row: exit %d, want 1 and FAIL:\n%s", code, out)
	}
	for check, want := range map[string]string{
		"prod_non_positive_quantity": "FAIL",
		"prod_orders_missing_in_raw": "FAIL",
		"prod_duplicate_order_ids":   "PASS",
		"prod_null_keys":             "PASS",
		"prod_total_mismatch":        "PASS",
	} {
		if got := checkStatus(t, out, check); got != want {
			t.Fatalf("bad PROD row: %s is %s, want %s:\n%s", check, got, want, out)
		}
	}
	if f := reportCheckLine(out, "prod_non_positive_quantity"); strings.Join(f[2:], " ") != "1 PROD orders with quantity <= 0" {
		t.Fatalf("prod_non_positive_quantity message %q", strings.Join(f[2:], " "))
	}
	// --json carries the same verdict and exit code.
	out, code = s.starter("validate", "--json")
	var rep params.ValidationReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("validate --json: %v\n%s", err, out)
	}
	if code != 1 || rep.Status != params.StatusFail || rep.Summary.Fail < 2 {
		t.Fatalf("validate --json: exit %d, status %s, %d failing checks; want 1, FAIL, at least 2", code, rep.Status, rep.Summary.Fail)
	}
}

// TestCLIStopIngest starts a following ingest the way the README does
// (`starter ingest --mode follow`), lets it load, and stops it with
// `starter stop-ingest`: the run completes (not terminated) with the totals
// of what it loaded.
func TestCLIStopIngest(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s.deploySchema(ctx)
	const events = 150
	kc, err := kafka.NewClient(s.brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	prod := kc.NewProducer(topic)
	var msgs []kafka.Message
	for i := int64(1); i <= events; i++ {
		msgs = append(msgs, event(t, i))
	}
	if err := prod.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	prod.Close()

	id := names.StandaloneID(names.IngestOrders, "follow")
	out, code := s.starter("ingest", "--mode", "follow")
	if code != 0 || !strings.Contains(out, "started IngestOrders workflow_id="+id+" ") {
		t.Fatalf("ingest --mode follow: %d %s", code, out)
	}
	waitFor(t, "the follower to load every event", 45*time.Second, func() bool {
		_, committed := topicTotals(ctx, kc)
		return committed == events
	})
	if st, _ := s.workflowStatus(ctx, id); st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("follower %s is %s before stop-ingest, want running", id, st)
	}

	out, code = s.starter("stop-ingest")
	if code != 0 || strings.TrimSpace(out) != "stop sent to "+id+"; it returns after its current batch" {
		t.Fatalf("stop-ingest: %d %q", code, out)
	}
	var res params.IngestOrdersResult
	gctx, gcancel := context.WithTimeout(ctx, 30*time.Second)
	defer gcancel()
	if err := s.client.GetWorkflow(gctx, id, "").Get(gctx, &res); err != nil {
		t.Fatalf("follower after stop-ingest: %v\n%s", err, s.logs())
	}
	if st, _ := s.workflowStatus(ctx, id); st != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("follower %s is %s after stop-ingest, want completed", id, st)
	}
	if res.Loaded != events || res.Partitions != 3 || res.Rounds != 1 {
		t.Fatalf("follower result %+v, want %d loaded over 3 partitions in 1 round", res, events)
	}
	// Nothing follows any more: a second stop fails, naming the workflow.
	out, code = s.starter("stop-ingest")
	if code != 1 || !strings.Contains(out, id) {
		t.Fatalf("stop-ingest without a follower: %d %s", code, out)
	}
}

// TestCLIBadEnvironmentFailsTheWorker starts the worker with one bad
// variable at a time: it exits non-zero at once with exactly one line on
// stderr naming the variable and the value.
func TestCLIBadEnvironmentFailsTheWorker(t *testing.T) {
	s := newStack(t)
	for _, c := range []struct{ name, value string }{
		{"KAFKA_PARTITIONS", "abc"},
		{"KAFKA_PARTITIONS", "0"},
		{"LOG_LEVEL", "loud"},
		{"KAFKA_BOOTSTRAP_SERVERS", "broker-without-port"},
		{"WAREHOUSE", "oracle"},
	} {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, s.workerBin)
			cmd.Env = append(s.env(), c.name+"="+c.value) // the last value wins
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("worker still running after 20s with %s=%s:\n%s", c.name, c.value, stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("worker with %s=%s: %v, want a non-zero exit", c.name, c.value, err)
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || strings.TrimSpace(lines[0]) == "" {
				t.Fatalf("stderr is %d lines, want one:\n%s", len(lines), stderr.String())
			}
			if !strings.Contains(lines[0], c.name) || !strings.Contains(lines[0], `"`+c.value+`"`) {
				t.Fatalf("stderr %q does not name %s and %q", lines[0], c.name, c.value)
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout not empty: %q", stdout.String())
			}
			t.Log(lines[0])
		})
	}
	// The same environment without the bad variable starts: the variable was
	// the reason.
	s.startWorker()
	s.stopWorker()
}
