package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// records returns n valid event records at offsets from, from+1, …
func records(t testing.TB, from int64, n int) []kafka.Record {
	t.Helper()
	var out []kafka.Record
	for i := int64(0); i < int64(n); i++ {
		ev := events.NewOrderCreated(events.Order{OrderID: from + i + 1, CustomerID: 1, ProductID: 1000, Quantity: 1, UnitPrice: 999, Status: "paid",
			SoldAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, events.SourceStream, time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC))
		v, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kafka.Record{Offset: from + i, Key: ev.Key(), Value: v, HighWaterMark: from + int64(n)})
	}
	return out
}

// sliceReader serves its records, then blocks until ctx ends. reads counts
// the records handed out.
type sliceReader struct {
	mu    sync.Mutex
	recs  []kafka.Record
	reads int
}

func (r *sliceReader) Next(ctx context.Context) (kafka.Record, error) {
	r.mu.Lock()
	if r.reads < len(r.recs) {
		rec := r.recs[r.reads]
		r.reads++
		r.mu.Unlock()
		return rec, nil
	}
	r.mu.Unlock()
	<-ctx.Done()
	return kafka.Record{}, ctx.Err()
}

func (r *sliceReader) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

// memLoader keeps the batches it was given and fences like the warehouse.
type memLoader struct {
	mu      sync.Mutex
	next    int64
	batches []string
	block   chan struct{} // when set, each load waits for a receive
	loading chan struct{} // when set, receives one value per load started
	fail    error
}

func (l *memLoader) LoadBatch(ctx context.Context, b warehouse.Batch) (warehouse.LoadResult, error) {
	if l.loading != nil {
		l.loading <- struct{}{}
	}
	if l.block != nil {
		<-l.block
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return warehouse.LoadResult{}, l.fail
	}
	if b.FromOffset != l.next {
		return warehouse.LoadResult{}, warehouse.ErrFenced
	}
	l.next = b.NextOffset
	l.batches = append(l.batches, fmt.Sprintf("%d-%d:%d+%d", b.FromOffset, b.NextOffset, len(b.Events), len(b.Rejects)))
	return warehouse.LoadResult{Inserted: int64(len(b.Events)), Rejected: int64(len(b.Rejects))}, nil
}

func (l *memLoader) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.batches...)
}

func policy(records int) Policy { return Policy{Records: records, Bytes: 1 << 20, Wait: time.Second} }

func TestDrainCutsBatchesByCount(t *testing.T) {
	recs := records(t, 0, 12)
	recs[3].Value = []byte(`{not json`)
	l := &memLoader{}
	var progress []int64
	res, err := Run(context.Background(), Config{Topic: "t", End: 12, Policy: policy(5)}, &sliceReader{recs: recs}, l,
		Hooks{Progress: func(next, hwm int64) { progress = append(progress, next) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0-5:4+1", "5-10:5+0", "10-12:2+0"}
	if fmt.Sprint(l.got()) != fmt.Sprint(want) {
		t.Fatalf("batches %v, want %v", l.got(), want)
	}
	if res.Loaded != 11 || res.Rejected != 1 || res.Batches != 3 || res.NextOffset != 12 {
		t.Fatalf("result %+v", res)
	}
	if fmt.Sprint(progress) != "[5 10 12]" {
		t.Fatalf("progress %v", progress)
	}
}

func TestDrainCutsBatchesByBytes(t *testing.T) {
	recs := records(t, 0, 6)
	l := &memLoader{}
	size := len(recs[0].Value)
	if _, err := Run(context.Background(), Config{Topic: "t", End: 6, Policy: Policy{Records: 100, Bytes: 2 * size, Wait: time.Second}}, &sliceReader{recs: recs}, l, Hooks{}); err != nil {
		t.Fatal(err)
	}
	if got := l.got(); fmt.Sprint(got) != "[0-2:2+0 2-4:2+0 4-6:2+0]" {
		t.Fatalf("batches %v", got)
	}
}

// The next batch is read while the previous one loads: with the loader
// held on batch 1, the reader still hands out batch 2's records.
func TestFetchOverlapsLoad(t *testing.T) {
	recs := records(t, 0, 20)
	r := &sliceReader{recs: recs}
	l := &memLoader{block: make(chan struct{}), loading: make(chan struct{}, 4)}
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), Config{Topic: "t", End: 20, Policy: policy(5)}, r, l, Hooks{})
		done <- err
	}()
	<-l.loading // batch 1 is loading and held
	deadline := time.Now().Add(5 * time.Second)
	for r.count() < 10 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := r.count(); n < 10 {
		t.Fatalf("read %d records while batch 1 loads, want batch 2 read too (10)", n)
	}
	close(l.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(l.got()); n != 4 {
		t.Fatalf("%d batches, want 4", n)
	}
}

func TestFollowStopWritesWhatWasRead(t *testing.T) {
	recs := records(t, 0, 7)
	r := &sliceReader{recs: recs}
	l := &memLoader{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() {
		res, err := Run(ctx, Config{Topic: "t", End: 0, Follow: true, Policy: Policy{Records: 5, Bytes: 1 << 20, Wait: time.Hour}}, r, l, Hooks{})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	for r.count() < 7 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	res := <-done
	if !res.Stopped || res.NextOffset != 7 || fmt.Sprint(l.got()) != "[0-5:5+0 5-7:2+0]" {
		t.Fatalf("result %+v, batches %v: want the 2 records of the open batch written on stop", res, l.got())
	}
}

func TestFencedStopsTheRun(t *testing.T) {
	l := &memLoader{next: 3} // another loader moved the offset
	_, err := Run(context.Background(), Config{Topic: "t", Partition: 2, End: 10, Policy: policy(5)}, &sliceReader{recs: records(t, 0, 10)}, l, Hooks{})
	var fe *FencedError
	if !errors.As(err, &fe) || !errors.Is(err, warehouse.ErrFenced) || fe.Partition != 2 {
		t.Fatalf("err %v, want a FencedError for partition 2", err)
	}
}

func TestLoadErrorIsReturned(t *testing.T) {
	boom := errors.New("warehouse down")
	l := &memLoader{fail: boom}
	if _, err := Run(context.Background(), Config{Topic: "t", End: 10, Policy: policy(5)}, &sliceReader{recs: records(t, 0, 10)}, l, Hooks{}); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

// Records stop below the end offset (an aborted transaction's markers):
// one idle window, and the drain ends instead of waiting forever.
func TestDrainEndsOnGapBelowEnd(t *testing.T) {
	l := &memLoader{}
	res, err := Run(context.Background(), Config{Topic: "t", End: 10, Policy: Policy{Records: 5, Bytes: 1 << 20, Wait: 50 * time.Millisecond}},
		&sliceReader{recs: records(t, 0, 7)}, l, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Gap || res.NextOffset != 7 {
		t.Fatalf("result %+v", res)
	}
}

func TestFollowEndsAtDeadline(t *testing.T) {
	began := time.Now()
	res, err := Run(context.Background(), Config{Topic: "t", Follow: true, Deadline: began.Add(100 * time.Millisecond), Policy: Policy{Records: 5, Bytes: 1 << 20, Wait: 30 * time.Millisecond}},
		&sliceReader{recs: records(t, 0, 3)}, &memLoader{}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NextOffset != 3 || time.Since(began) > 2*time.Second {
		t.Fatalf("result %+v after %s", res, time.Since(began))
	}
}

func TestReadErrorNamesThePartition(t *testing.T) {
	_, err := Run(context.Background(), Config{Topic: "t", Partition: 1, End: 5, Policy: policy(5)}, errReader{}, &memLoader{}, Hooks{})
	if err == nil || err.Error() != "read t/1 at 0: broker gone" {
		t.Fatalf("err %v", err)
	}
}

type errReader struct{}

func (errReader) Next(context.Context) (kafka.Record, error) {
	return kafka.Record{}, errors.New("broker gone")
}

// BenchmarkRun drains 100,000 records through the engine into a loader that
// keeps nothing: the engine's own cost (decode, batching, hand-over).
func BenchmarkRun(b *testing.B) {
	recs := records(b, 0, 100_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), Config{Topic: "t", End: int64(len(recs)), Policy: policy(5000)}, &sliceReader{recs: recs}, nopLoader{}, Hooks{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
}

type nopLoader struct{}

func (nopLoader) LoadBatch(_ context.Context, b warehouse.Batch) (warehouse.LoadResult, error) {
	return warehouse.LoadResult{Inserted: int64(len(b.Events))}, nil
}
