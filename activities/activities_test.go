package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/devstack"
	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/metrics"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/duckdb"
)

const topic = "orders_topic"

// fixture is a real broker and a real DuckDB file behind the activities.
type fixture struct {
	a   *Activities
	env *testsuite.TestActivityEnvironment
	wh  *duckdb.Warehouse
	kc  *kafka.Client
	dir string
}

func newFixture(t *testing.T, partitions int32) *fixture {
	t.Helper()
	dir := t.TempDir()
	b, err := devstack.StartBroker(0, filepath.Join(dir, "kafka"), topic, partitions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	kc, err := kafka.NewClient(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := duckdb.Open(context.Background(), filepath.Join(dir, "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if _, err := wh.Migrate(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	a := &Activities{WH: wh, Kafka: kc, Metrics: metrics.New(), Settings: Settings{Topic: topic, Group: "dropflow-test", DataDir: filepath.Join(dir, "data"), ReportsDir: filepath.Join(dir, "reports")}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return &fixture{a: a, env: env, wh: wh, kc: kc, dir: dir}
}

func (f *fixture) count(t *testing.T, q string) int64 {
	t.Helper()
	n, err := warehouse.CountInt(context.Background(), f.wh, q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func goodEvent(t *testing.T, id int64) kafka.Message {
	t.Helper()
	ev := events.NewOrderCreated(events.Order{OrderID: id, CustomerID: 1, ProductID: 1000, Quantity: 1, UnitPrice: 999, Status: "paid",
		SoldAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, events.SourceStream, time.Now())
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Key: ev.Key(), Value: b}
}

func (f *fixture) loadAll(t *testing.T) params.IngestOrdersResult {
	t.Helper()
	parts, err := f.kc.Partitions(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var total params.IngestOrdersResult
	for _, p := range parts {
		v, err := f.env.ExecuteActivity(f.a.LoadPartition, params.LoadPartitionParams{Topic: topic, Partition: p, BatchRecords: 7, BatchBytes: 1 << 20, BatchWait: params.Duration(500 * time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		var r params.PartitionResult
		if err := v.Get(&r); err != nil {
			t.Fatal(err)
		}
		total.Add(r)
	}
	return total
}

func TestLoadPartitionGoodAndPoisonEvents(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	var msgs []kafka.Message
	for i := int64(1); i <= 40; i++ {
		msgs = append(msgs, goodEvent(t, i))
	}
	bad := func(s string) kafka.Message { return kafka.Message{Key: []byte("x"), Value: []byte(s)} }
	valid := string(goodEvent(t, 41).Value)
	msgs = append(msgs,
		bad(`{not json`),
		bad(strings.Replace(valid, `"quantity":1`, `"quantity":-2`, 1)),
		bad(strings.Replace(valid, `"unit_price":9.99`, `"unit_price":-9.99`, 1)),
		bad(strings.Replace(valid, `"order_created"`, `"order_teleported"`, 1)),
		bad(strings.Replace(valid, `"customer_id":1`, `"customer_id":"one"`, 1)),
		bad(`{"event_id":"a"}`),
		bad(`{"pad":"`+strings.Repeat("x", events.MaxEventBytes)+`"}`),
		kafka.Message{Key: []byte("bin"), Value: []byte{0xff, 0xfe, 0x00}},
		goodEvent(t, 3), // a resend: same event_id, a duplicate, not a new row
	)
	prod := f.kc.NewProducer(topic)
	if err := prod.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	prod.Close()

	res := f.loadAll(t)
	if res.Loaded != 40 || res.Rejected != 8 || res.Duplicates != 1 {
		t.Fatalf("loaded %d, rejected %d, duplicates %d; want 40, 8, 1", res.Loaded, res.Rejected, res.Duplicates)
	}
	if got := res.Loaded + res.Rejected + res.Duplicates; got != int64(len(msgs)) {
		t.Fatalf("counts add up to %d, sent %d", got, len(msgs))
	}
	for _, reason := range []string{events.ReasonInvalidJSON, events.ReasonBadQuantity, events.ReasonNegativePrice, events.ReasonUnknownType, events.ReasonInvalidField, events.ReasonMissingField, events.ReasonTooLarge} {
		if n := f.count(t, fmt.Sprintf("SELECT count(*) FROM raw.orders_events_rejected WHERE reason = '%s'", reason)); n == 0 {
			t.Errorf("no reject with reason %s", reason)
		}
	}
	if n := f.count(t, "SELECT count(*) FROM raw.orders_events_rejected WHERE raw_value IS NULL OR kafka_offset < 0 OR error = ''"); n != 0 {
		t.Fatalf("%d rejects without their value, coordinates or error", n)
	}
	// Offsets: stored next offset = end of each partition; group offsets committed for lag tools.
	parts, _ := f.kc.Partitions(ctx, topic)
	group, err := f.kc.GroupOffsets(ctx, "dropflow-test", topic, parts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		_, end, _ := f.kc.Bounds(ctx, topic, p)
		next, _, _ := f.wh.Offset(ctx, topic, p)
		if next != end || group[p] != end {
			t.Fatalf("partition %d: stored %d, group %d, end %d", p, next, group[p], end)
		}
	}
	// A second drain loads nothing: exactly once.
	again := f.loadAll(t)
	if again.Loaded != 0 || again.Rejected != 0 || again.Batches != 0 {
		t.Fatalf("second drain loaded %+v", again)
	}
	if n := f.count(t, "SELECT count(*) FROM raw.orders_events"); n != 40 {
		t.Fatalf("RAW has %d rows, want 40", n)
	}
}

func TestLoadPartitionRefusesStoredOffsetBeyondTopic(t *testing.T) {
	f := newFixture(t, 1)
	if _, err := f.wh.InitOffset(context.Background(), topic, 0, 500); err != nil {
		t.Fatal(err)
	}
	_, err := f.env.ExecuteActivity(f.a.LoadPartition, params.LoadPartitionParams{Topic: topic, Partition: 0, BatchRecords: 10, BatchBytes: 1 << 20, BatchWait: params.Duration(time.Second)})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != names.ErrOffsetOutOfRange || !ae.NonRetryable() || !strings.Contains(err.Error(), "stored offset 500") {
		t.Fatalf("want a non-retryable OffsetOutOfRange naming the offsets, got %v", err)
	}
}

func TestProduceChunkResumesFromHeartbeat(t *testing.T) {
	f := newFixture(t, 3)
	files, err := datagen.Generate(filepath.Join(f.dir, "seed"), datagen.Spec{Seed: 1, Customers: 10, Products: 5, Orders: 100, AsOf: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	// A retried attempt whose previous one had 60 rows acknowledged sends the
	// other 40 only; it finds row 60 by the byte offset it heartbeated.
	r0, err := datagen.OpenOrders(files.Orders)
	if err != nil {
		t.Fatal(err)
	}
	if err := r0.Skip(60); err != nil {
		t.Fatal(err)
	}
	off := r0.Offset()
	r0.Close()
	f.env.SetHeartbeatDetails(chunkHeartbeat{Sent: 60, ByteOffset: off})
	v, err := f.env.ExecuteActivity(f.a.ProduceChunk, params.ProduceChunkParams{OrdersCSV: files.Orders, Topic: topic, Position: 0, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	var r params.ProduceChunkResult
	if err := v.Get(&r); err != nil {
		t.Fatal(err)
	}
	if r.Sent != 100 {
		t.Fatalf("sent %d, want 100 (60 before + 40 now)", r.Sent)
	}
	res := f.loadAll(t)
	if res.Loaded != 40 {
		t.Fatalf("the topic holds %d events, want the 40 unacknowledged ones", res.Loaded)
	}
	if n := f.count(t, "SELECT min(CAST(payload->'order'->>'order_id' AS INTEGER)) FROM raw.orders_events"); n != 61 {
		t.Fatalf("resumed at order %d, want 61", n)
	}
}

func TestProduceChunkRateLimit(t *testing.T) {
	f := newFixture(t, 1)
	files, err := datagen.Generate(filepath.Join(f.dir, "seed"), datagen.Spec{Seed: 1, Customers: 10, Products: 5, Orders: 30, AsOf: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	// 30 events at 20/s with a burst of 2 cannot finish in under ~1.4 s.
	if _, err := f.env.ExecuteActivity(f.a.ProduceChunk, params.ProduceChunkParams{OrdersCSV: files.Orders, Topic: topic, Count: 30, Rate: 20}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 1300*time.Millisecond {
		t.Fatalf("30 events at 20/s took %s: the rate limit is not applied", took)
	}
}

func TestBadCSVIsNonRetryableAndNamed(t *testing.T) {
	f := newFixture(t, 1)
	_, err := f.env.ExecuteActivity(f.a.ProduceChunk, params.ProduceChunkParams{OrdersCSV: filepath.Join(f.dir, "missing.csv"), Topic: topic, Count: 10})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != names.ErrInvalidInput || !strings.Contains(err.Error(), "missing.csv") {
		t.Fatalf("want a non-retryable InvalidInput naming the file, got %v", err)
	}
}

func TestLoadPartitionOffsetResetPolicy(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	prod := f.kc.NewProducer(topic)
	var msgs []kafka.Message
	for i := int64(1); i <= 20; i++ {
		msgs = append(msgs, goodEvent(t, i))
	}
	if err := prod.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	load := func(policy string) params.PartitionResult {
		t.Helper()
		v, err := f.env.ExecuteActivity(f.a.LoadPartition, params.LoadPartitionParams{Topic: topic, Partition: 0, BatchRecords: 100, BatchBytes: 1 << 20, BatchWait: params.Duration(time.Second), OffsetReset: policy})
		if err != nil {
			t.Fatal(err)
		}
		var r params.PartitionResult
		if err := v.Get(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if _, err := f.wh.InitOffset(ctx, topic, 0, 900); err != nil { // as if the topic had been recreated
		t.Fatal(err)
	}
	if r := load(params.ResetLatest); r.Resets != 1 || r.Loaded != 0 || r.NextOffset != 20 {
		t.Fatalf("latest: %+v", r)
	}
	if err := f.wh.ResetOffset(ctx, topic, 0, 20, 900); err != nil {
		t.Fatal(err)
	}
	if r := load(params.ResetEarliest); r.Resets != 1 || r.Loaded != 20 || r.NextOffset != 20 {
		t.Fatalf("earliest: %+v", r)
	}
}

func TestStreamModeProducesUpdatesThatMergeIntoProd(t *testing.T) {
	f := newFixture(t, 3)
	ctx := context.Background()
	v, err := f.env.ExecuteActivity(f.a.GenerateCSVs, params.SeedDataInput{Seed: 2, Customers: 50, Products: 10, Orders: 100, AsOf: "2026-05-01T00:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	var seed params.SeedDataResult
	if err := v.Get(&seed); err != nil || seed.Dataset.InventorySHA256 == "" {
		t.Fatalf("seed: %+v %v", seed, err)
	}
	// The stream runs as on another host: the seed files are not here, and
	// the input names no data set (the warehouse's current one is used).
	if err := os.RemoveAll(seed.Dir); err != nil {
		t.Fatal(err)
	}
	v, err = f.env.ExecuteActivity(f.a.ProduceChunk, params.ProduceChunkParams{Mode: params.ModeStream, Topic: topic, Count: 500, Seed: 5,
		StreamStart: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano), Spacing: params.Duration(time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	var r params.ProduceChunkResult
	if err := v.Get(&r); err != nil || r.Sent != 500 || r.FirstOrderID != 101 || r.Customers != 50 || r.Dataset == nil || *r.Dataset != seed.Dataset {
		t.Fatalf("%+v %v", r, err)
	}
	regen := filepath.Join(f.a.Settings.DataDir, "datasets", "seed2-c50-p10-o100-20260501T000000Z-g"+strconv.Itoa(datagen.GeneratorVersion)+"", "inventory.csv")
	if sum, err := datagen.Checksum(regen); err != nil || sum != seed.Dataset.InventorySHA256 {
		t.Fatalf("regenerated inventory %s: %s %v, want %s", regen, sum, err, seed.Dataset.InventorySHA256)
	}
	if res := f.loadAll(t); res.Loaded != 500 || res.Rejected != 0 {
		t.Fatalf("loaded %+v", res)
	}
	m, err := f.wh.MergeOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	orders := f.count(t, "SELECT count(DISTINCT CAST(payload->'order'->>'order_id' AS BIGINT)) FROM raw.orders_events")
	if m.Inserted != orders || f.count(t, "SELECT count(*) FROM prod.orders") != orders {
		t.Fatalf("merge %+v, distinct orders %d", m, orders)
	}
	if n := f.count(t, "SELECT count(*) FROM prod.orders WHERE order_id < 101 OR customer_id > 50 OR product_id NOT BETWEEN 1000 AND 1009"); n != 0 {
		t.Fatalf("%d stream orders outside the seeded customers and products", n)
	}
	if f.count(t, "SELECT count(*) FROM prod.orders WHERE event_version = 2 AND status = 'shipped'") == 0 ||
		f.count(t, "SELECT count(*) FROM prod.orders WHERE event_version = 3 AND status = 'delivered'") == 0 {
		t.Fatal("updates did not reach PROD as the newest version")
	}
}

// A data set of an older generator that this host holds no copy of fails
// at once, naming both versions, instead of retrying a regeneration this
// build cannot do.
func TestOldGeneratorDatasetIsAMismatch(t *testing.T) {
	f := newFixture(t, 1)
	ds := params.Dataset{Seed: 2, Customers: 5, Products: 3, Orders: 10, AsOf: "2026-05-01T00:00:00Z", Generator: 1, OrdersSHA256: "00"}
	_, err := f.a.datasetFiles(context.Background(), ds)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != names.ErrDatasetMismatch || !ae.NonRetryable() ||
		!strings.Contains(err.Error(), "version 1") || !strings.Contains(err.Error(), fmt.Sprintf("version %d", datagen.GeneratorVersion)) {
		t.Fatalf("want a non-retryable %s naming both versions, got %v", names.ErrDatasetMismatch, err)
	}
}

// The activities implement params.Activities (what workflow tests stub),
// and every names.Activity* is one of their methods: a workflow schedules
// by a name the worker registers.
var _ params.Activities = (*Activities)(nil)

func TestActivityNamesAreMethods(t *testing.T) {
	typ := reflect.TypeOf(&Activities{})
	for _, n := range names.AllActivities() {
		if _, ok := typ.MethodByName(n); !ok {
			t.Errorf("names lists activity %q, which *Activities does not have", n)
		}
	}
	if got, want := reflect.TypeOf((*params.Activities)(nil)).Elem().NumMethod(), len(names.AllActivities()); got != want {
		t.Errorf("params.Activities has %d methods, names lists %d activities", got, want)
	}
}

// Runs recorded before the rename schedule the merge as MergeRawToProd:
// Register keeps that name working beside MergeOrders.
func TestMergeIsRegisteredUnderItsOldNameToo(t *testing.T) {
	f := newFixture(t, 1)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	Register(env, f.a)
	for _, name := range []string{names.ActivityMergeOrders, names.ActivityMergeRawToProd} {
		v, err := env.ExecuteActivity(name, params.MergeOrdersInput{})
		var res params.MergeOrdersResult
		if err != nil || v.Get(&res) != nil || !res.NothingNew {
			t.Fatalf("%s: %+v %v", name, res, err)
		}
	}
}
