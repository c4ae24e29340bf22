package activities

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/metrics"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// heldMerges is a warehouse whose MergeOrders calls report that they started
// and wait for release before merging, counting how many run at once.
type heldMerges struct {
	warehouse.Warehouse
	entered chan struct{} // one value per call that started
	release chan struct{} // closed by free: every call goes on
	once    sync.Once

	mu                  sync.Mutex
	inFlight, maxFlight int
}

func (h *heldMerges) MergeOrders(ctx context.Context) (warehouse.MergeResult, error) {
	h.mu.Lock()
	h.inFlight++
	h.maxFlight = max(h.maxFlight, h.inFlight)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inFlight--
		h.mu.Unlock()
	}()
	h.entered <- struct{}{}
	<-h.release
	return h.Warehouse.MergeOrders(ctx)
}

func newHeldMerges(t *testing.T, wh warehouse.Warehouse) *heldMerges {
	h := &heldMerges{Warehouse: wh, entered: make(chan struct{}, 2), release: make(chan struct{})}
	t.Cleanup(h.free) // a failed test lets its merges end
	return h
}

func (h *heldMerges) free() { h.once.Do(func() { close(h.release) }) }

// waitingOnMergeLock reports whether a goroutine is parked on the merge
// mutex inside Activities.merge (not the one inside MergeOrders).
func waitingOnMergeLock() bool {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*Activities).merge(") && strings.Contains(g, "Mutex).Lock") && !strings.Contains(g, "(*heldMerges).MergeOrders") {
			return true
		}
	}
	return false
}

// TestConcurrentMergesAreSerialisedInProcess: the DuckDB adapter does not
// serialise merges itself (two at once on one file conflict), the worker's
// Activities does. Two MergeOrders released at the same instant on one
// worker both succeed, one after the other, and PROD holds every order
// once. The same two merges through two Activities (no shared lock) are seen
// overlapping, so the probe can tell.
func TestConcurrentMergesAreSerialisedInProcess(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if _, err := f.wh.InitOffset(ctx, topic, 0, 0); err != nil {
		t.Fatal(err)
	}
	var evs []warehouse.Event
	for i := int64(0); i < 300; i++ {
		m := goodEvent(t, i+1)
		ev, err := events.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, warehouse.Event{EventID: ev.EventID, EventType: ev.EventType, Payload: m.Value, Offset: i, ContentHash: events.ContentHash(ev)})
	}
	if _, err := f.wh.LoadBatch(ctx, warehouse.Batch{Topic: topic, Partition: 0, FromOffset: 0, NextOffset: 300, Events: evs}); err != nil {
		t.Fatal(err)
	}
	type out struct {
		r   params.MergeOrdersResult
		err error
	}
	// run starts one MergeOrders per Activities, all released at once.
	run := func(h *heldMerges, acts ...*Activities) chan out {
		results := make(chan out, len(acts))
		var ready, start sync.WaitGroup
		start.Add(1)
		for _, a := range acts {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			ready.Add(1)
			go func() {
				ready.Done()
				start.Wait()
				v, err := env.ExecuteActivity(a.MergeOrders, params.MergeOrdersInput{})
				var o out
				if o.err = err; err == nil {
					o.err = v.Get(&o.r)
				}
				results <- o
			}()
		}
		ready.Wait()
		start.Done() // the barrier: both goroutines go at once
		return results
	}
	entered := func(h *heldMerges, what string) {
		t.Helper()
		select {
		case <-h.entered:
		case <-time.After(30 * time.Second):
			t.Fatalf("no merge started: %s", what)
		}
	}

	t.Run("one_worker", func(t *testing.T) {
		h := newHeldMerges(t, f.wh)
		a := &Activities{WH: h, Kafka: f.kc, Metrics: metrics.New()}
		results := run(h, a, a)
		entered(h, "first merge")
		// The other merge waits on the worker's lock, not inside the warehouse.
		deadline := time.Now().Add(30 * time.Second)
		for !waitingOnMergeLock() {
			select {
			case <-h.entered:
				t.Fatal("two merges of one worker ran at once")
			case <-time.After(5 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("the second merge never waited on the merge lock")
			}
		}
		h.free()
		entered(h, "second merge")
		var inserted, nothingNew int64
		for range 2 {
			o := <-results
			if o.err != nil {
				t.Fatalf("both merges must succeed: %v", o.err)
			}
			inserted += o.r.Inserted
			if o.r.NothingNew && o.r.Inserted == 0 {
				nothingNew++
			}
		}
		if h.maxFlight != 1 || inserted != 300 || nothingNew != 1 {
			t.Fatalf("%d merges at once, %d inserted, %d found nothing new; want 1, 300, 1", h.maxFlight, inserted, nothingNew)
		}
		var rows, orders, runs, skips int64
		if err := f.wh.QueryRow(ctx, "SELECT count(*), count(DISTINCT order_id), (SELECT count(*) FROM ops.merge_runs), (SELECT count(*) FROM ops.merge_runs WHERE nothing_new) FROM prod.orders").Scan(&rows, &orders, &runs, &skips); err != nil {
			t.Fatal(err)
		}
		if rows != 300 || orders != 300 || runs != 2 || skips != 1 {
			t.Fatalf("PROD %d rows, %d orders; %d merge runs, %d skips; want 300, 300, 2, 1", rows, orders, runs, skips)
		}
	})

	t.Run("two_workers_overlap", func(t *testing.T) {
		h := newHeldMerges(t, f.wh)
		results := run(h, &Activities{WH: h, Metrics: metrics.New()}, &Activities{WH: h, Metrics: metrics.New()})
		entered(h, "first merge")
		entered(h, "second merge") // both inside MergeOrders at once: no shared lock
		h.free()
		<-results
		<-results
		if h.maxFlight != 2 {
			t.Fatalf("%d merges at once, want 2", h.maxFlight)
		}
	})
}
