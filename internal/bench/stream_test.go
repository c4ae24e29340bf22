package bench

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// streamPhase is one steady stream at a rate, into a following ingest with
// the shipped defaults: nothing but ingest's nudges and the merger bring the
// events to PROD (the bench starts no merge).
type streamPhase struct {
	Rate          int
	Began, Ended  time.Time
	Window        [2]time.Time // the steady minute whose Temporal cost is counted
	Executions    int          // workflow executions started in the window
	HistoryEvents int          // history events written in the window, all workflows
}

// stream runs ProduceOrders in stream mode at rate for dur into topic, then
// counts what Temporal wrote during the minute after warm-up.
func stream(b *testing.B, ctx context.Context, tc client.Client, topic string, rate int, dur, warmup time.Duration) streamPhase {
	ph := streamPhase{Rate: rate, Began: time.Now()}
	r, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("stream-%d", rate), TaskQueue: names.TaskQueue}, names.ProduceOrders,
		params.ProduceOrdersInput{Mode: params.ModeStream, Topic: topic, Rate: float64(rate), Duration: params.Duration(dur)})
	if err != nil {
		b.Fatal(err)
	}
	ph.Window = [2]time.Time{ph.Began.Add(warmup), ph.Began.Add(warmup + time.Minute)}
	if err := r.Get(ctx, nil); err != nil {
		b.Fatal(err)
	}
	ph.Ended = time.Now()
	if ph.Ended.Before(ph.Window[1]) {
		b.Fatalf("stream of %s ended before its measured minute", dur)
	}
	ph.Executions, ph.HistoryEvents = temporalCost(b, ctx, tc, ph.Window[0], ph.Window[1])
	return ph
}

// temporalCost counts the executions started and the history events written
// between from and to, over every workflow of the namespace.
func temporalCost(b *testing.B, ctx context.Context, tc client.Client, from, to time.Time) (executions, events int) {
	var token []byte
	for {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", PageSize: 1000, NextPageToken: token})
		if err != nil {
			b.Fatal(err)
		}
		for _, ex := range resp.Executions {
			start := ex.GetStartTime().AsTime()
			if ex.GetCloseTime() != nil && ex.GetCloseTime().AsTime().Before(from) || start.After(to) {
				continue
			}
			if !start.Before(from) && start.Before(to) {
				executions++
			}
			it := tc.GetWorkflowHistory(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				e, err := it.Next()
				if err != nil {
					b.Fatal(err)
				}
				if t := e.GetEventTime().AsTime(); !t.Before(from) && t.Before(to) {
					events++
				}
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return executions, events
		}
	}
}

// freshness is p50/p95 of produced_at → merged into PROD, over the orders of
// topic produced in [from, to).
func freshness(b *testing.B, path, topic string, from, to time.Time) (p50, p95 float64, n int64) {
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRow(`
SELECT coalesce(quantile_cont(lag_s, 0.5), 0), coalesce(quantile_cont(lag_s, 0.95), 0), count(*) FROM (
  SELECT epoch(p.merged_at) - epoch(r.produced_at) AS lag_s
  FROM prod.orders p JOIN raw.orders_events r ON r.event_id = p.event_id
  WHERE r.kafka_topic = ? AND r.produced_at >= ? AND r.produced_at < ?)`, topic, from.UTC(), to.UTC()).Scan(&p50, &p95, &n)
	if err != nil {
		b.Fatal(err)
	}
	return p50, p95, n
}
