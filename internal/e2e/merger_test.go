package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// metricValue reads one series of the worker's /metrics (0 when absent).
func (s *stack) metricValue(series string) float64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.httpAddr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			v, _ := strconv.ParseFloat(rest, 64)
			return v
		}
	}
	return 0
}

// sendEvents produces order events for ids [from, to) straight to the topic.
func (s *stack) sendEvents(ctx context.Context, from, to int64) {
	s.t.Helper()
	kc, err := kafka.NewClient(s.brokerAddr)
	if err != nil {
		s.t.Fatal(err)
	}
	prod := kc.NewProducer(topic)
	defer prod.Close()
	var msgs []kafka.Message
	for id := from; id < to; id++ {
		msgs = append(msgs, event(s.t, id))
	}
	if err := prod.Send(ctx, msgs); err != nil {
		s.t.Fatal(err)
	}
}

// mergerRuns returns the history length of every run of the merger so far.
func (s *stack) mergerRuns(ctx context.Context) map[string]int64 {
	s.t.Helper()
	resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = %q", names.NudgedMergeID)})
	if err != nil {
		s.t.Fatal(err)
	}
	runs := map[string]int64{}
	for _, e := range resp.Executions {
		it := s.client.GetWorkflowHistory(ctx, names.NudgedMergeID, e.Execution.RunId, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		n := int64(0)
		for it.HasNext() {
			if _, err := it.Next(); err != nil {
				s.t.Fatal(err)
			}
			n++
		}
		runs[e.Execution.RunId] = n
	}
	return runs
}

// TestMergerBoundsItsHistoryAndKeepsMerging drives 1,000 nudges through the
// merger (the nudged MergeOrders run) while it merges: each run stays under
// the stated history bound, the merger continues as new instead of growing,
// and events ingested afterwards still reach PROD without any schedule.
func TestMergerBoundsItsHistoryAndKeepsMerging(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s.deploySchema(ctx)
	const inserted = `dropflow_merge_rows_total{outcome="inserted"}`

	// Ingest's own nudge starts the merger, which merges without a schedule.
	s.sendEvents(ctx, 1, 2001)
	if err := execute(t, s.client, "ingest-1", names.IngestOrders, params.IngestOrdersInput{}).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the merger to merge the first 2000 events", 30*time.Second, func() bool { return s.metricValue(inserted) == 2000 })

	// 1,000 nudges from four senders, as a fleet of loaders would send them.
	const nudges, senders = 1000, 4
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < nudges/senders; i++ {
				_, err := s.client.SignalWithStartWorkflow(ctx, names.NudgedMergeID, names.SignalNudge, nil,
					client.StartWorkflowOptions{ID: names.NudgedMergeID, TaskQueue: names.TaskQueue},
					names.MergeOrders, params.MergeOrdersInput{Nudged: true})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("nudge: %v", err)
	}

	// Events after the storm still reach PROD through the continued merger.
	s.sendEvents(ctx, 2001, 2501)
	if err := execute(t, s.client, "ingest-2", names.IngestOrders, params.IngestOrdersInput{}).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the merger to merge the next 500 events", 30*time.Second, func() bool { return s.metricValue(inserted) == 2500 })

	runs := s.mergerRuns(ctx)
	// The bound: MergerHistoryBound, plus the signals that arrive in the
	// workflow task that continues as new (at most a few dozen here).
	const bound = params.MergerHistoryBound + 100
	var total int64
	for run, n := range runs {
		total += n
		if n > bound {
			t.Errorf("merger run %s has %d history events, over the bound %d", run, n, bound)
		}
	}
	if total < nudges {
		t.Fatalf("the merger's runs hold %d history events in all, fewer than the %d nudges sent", total, nudges)
	}
	if len(runs) < 3 {
		t.Fatalf("1000 nudges made %d merger runs: it did not continue as new", len(runs))
	}
	t.Logf("1000 nudges: %d merger runs, %d history events in all, largest run under %d", len(runs), total, bound)

	// Scheduled merges remain possible beside the merger: they serialise.
	var mr params.MergeOrdersResult
	if err := execute(t, s.client, "merge-beside", names.MergeOrders, params.MergeOrdersInput{}).Get(ctx, &mr); err != nil {
		t.Fatal(err)
	}
	if !mr.NothingNew || mr.Merges != 1 {
		t.Fatalf("a merge after the merger caught up: %+v, want nothing new in one merge", mr)
	}
}
