package activities

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
)

// MergeUntilIdle merges what ingest committed, is woken at once by a commit
// on its host (no poll in between), and ends idle or at MaxRun.
func TestMergeUntilIdleMergesAndEndsIdle(t *testing.T) {
	f := newFixture(t, 1)
	prod := f.kc.NewProducer(topic)
	defer prod.Close()
	var msgs []kafka.Message
	for id := int64(1); id <= 50; id++ {
		msgs = append(msgs, goodEvent(t, id))
	}
	if err := prod.Send(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	f.loadAll(t)

	// A poll far longer than the run: only the wake from the second load
	// below can make the merger see those events before it ends idle.
	done := make(chan params.MergeUntilIdleResult, 1)
	errs := make(chan error, 1)
	go func() {
		v, err := f.env.ExecuteActivity(f.a.MergeUntilIdle, params.MergeUntilIdleInput{Poll: params.Duration(time.Hour), Idle: params.Duration(3 * time.Second), MaxRun: params.Duration(time.Minute)})
		if err != nil {
			errs <- err
			return
		}
		var r params.MergeUntilIdleResult
		if err := v.Get(&r); err != nil {
			errs <- err
			return
		}
		done <- r
	}()
	waitFor := func(cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatal("timed out")
	}
	waitFor(func() bool { return f.count(t, "SELECT count(*) FROM prod.orders") == 50 })
	msgs = msgs[:0]
	for id := int64(51); id <= 60; id++ {
		msgs = append(msgs, goodEvent(t, id))
	}
	if err := prod.Send(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	f.loadAll(t) // commits, then wakes the merger
	// Without the wake the merger would look again only when Idle falls due
	// (3 s after its last merge); woken, it merges within milliseconds.
	loaded := time.Now()
	for f.count(t, "SELECT count(*) FROM prod.orders") != 60 {
		if time.Since(loaded) > 1500*time.Millisecond {
			t.Fatal("the commit did not wake the merger: PROD lacks the new events 1.5 s later")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var r params.MergeUntilIdleResult
	select {
	case r = <-done:
	case err := <-errs:
		t.Fatal(err)
	case <-time.After(20 * time.Second):
		t.Fatal("MergeUntilIdle did not end idle")
	}
	if !r.Idle || r.Inserted != 60 || r.Merges < 2 {
		t.Fatalf("merger result %+v: want idle, 60 inserted over at least 2 merges", r)
	}
	if n := f.count(t, "SELECT count(*) FROM prod.orders"); n != 60 {
		t.Fatalf("PROD has %d orders, want 60", n)
	}

	// With events arriving faster than Idle, MaxRun ends it (not idle).
	v, err := f.env.ExecuteActivity(f.a.MergeUntilIdle, params.MergeUntilIdleInput{Poll: params.Duration(10 * time.Millisecond), Idle: params.Duration(time.Hour), MaxRun: params.Duration(300 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&r); err != nil || r.Idle {
		t.Fatalf("at MaxRun: %+v %v, want not idle", r, err)
	}
}

// The merger rests its whole rest between merges only while a loader on its
// host is behind (a backlog), and stops once they caught up; in a steady
// stream it rests at most MergerSteadyRest.
func TestMergerRestsOnlyDuringABacklog(t *testing.T) {
	f := newFixture(t, 1)
	rest := func(ctx context.Context) (time.Duration, error) {
		began := time.Now()
		err := f.a.restAfterMerge(ctx, 3*time.Second, 20*time.Millisecond, nil)
		return time.Since(began), err
	}
	f.env.RegisterActivityWithOptions(rest, activity.RegisterOptions{Name: "rest"})
	run := func() time.Duration {
		t.Helper()
		v, err := f.env.ExecuteActivity("rest")
		if err != nil {
			t.Fatal(err)
		}
		var d time.Duration
		if err := v.Get(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := run(); d < params.MergerSteadyRest || d > params.MergerSteadyRest+300*time.Millisecond {
		t.Fatalf("no loader behind: rested %v, want MergerSteadyRest (%v)", d, params.MergerSteadyRest)
	}
	// A loader more than a batch (7 records) behind its partition's end says so.
	prod := f.kc.NewProducer(topic)
	defer prod.Close()
	var msgs []kafka.Message
	for id := int64(1); id <= 30; id++ {
		msgs = append(msgs, goodEvent(t, id))
	}
	if err := prod.Send(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	f.loadAll(t)
	if !f.a.ingestBehind() {
		t.Fatal("loading a 30-record backlog in batches of 7 did not mark the host behind")
	}
	f.a.behindAt.Store(0)
	stop, stopped := make(chan struct{}), make(chan struct{})
	f.a.behindAt.Store(time.Now().UnixNano())
	go func() { // a loader that stays behind
		defer close(stopped)
		for {
			f.a.behindAt.Store(time.Now().UnixNano())
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	d := run()
	close(stop)
	<-stopped // its last mark must not land after the one below
	if d < 2900*time.Millisecond {
		t.Fatalf("loaders behind throughout: rested %v, want the whole 3 s", d)
	}
	f.a.behindAt.Store(time.Now().Add(-500 * time.Millisecond).UnixNano()) // caught up half a second ago
	if d := run(); d < 1400*time.Millisecond || d > 1900*time.Millisecond {
		t.Fatalf("loaders caught up 0.5 s ago: rested %v, want about 1.5 s more (behind for 2 s after the last mark)", d)
	}
}
