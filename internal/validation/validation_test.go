package validation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/events"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/duckdb"
)

func open(t *testing.T) *duckdb.Warehouse {
	t.Helper()
	d, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "v.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	return d
}

func status(rep params.ValidationReport, name string) string {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return "missing"
}

func TestEmptyWarehouseWarnsOnFreshnessOnly(t *testing.T) {
	rep, err := Run(context.Background(), open(t), Options{Now: time.Now(), LagErr: errors.New("no broker in this test")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != params.StatusWarn || rep.Summary.Fail != 0 || status(rep, "freshness") != params.StatusWarn {
		t.Fatalf("empty warehouse: %+v", rep.Summary)
	}
	for _, c := range rep.Checks {
		if c.Query == "" {
			t.Fatalf("check %s has no query", c.Name)
		}
	}
}

func TestBrokenDataFails(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	old := now.Add(-time.Hour)
	exec := func(q string, args ...any) {
		t.Helper()
		rows, err := d.Query(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows.Close()
	}
	payload := func(id int) string {
		return `{"event_version":1,"order":{"order_id":` + itoa(id) + `,"customer_id":1,"product_id":1000,"quantity":1,"unit_price":1.00,"status":"paid","sold_at":"2026-01-01T00:00:00Z"}}`
	}
	// Event 1 twice in RAW; order 2 in RAW for an hour but never merged; order 3 in PROD only.
	exec(`INSERT INTO raw.orders_events (event_id, event_type, payload, kafka_topic, kafka_partition, kafka_offset, produced_at, ingested_at) VALUES ('e1','order_created',?, 't',0,0,?,?), ('e1','order_created',?, 't',0,1,?,?), ('e2','order_created',?, 't',0,2,?,?)`,
		payload(1), old, old, payload(1), old, old, payload(2), old, old)
	exec(`INSERT INTO prod.orders VALUES (1,1,1000,-1,1.00,5.00,'paid',?, 'e1',1,?), (3,99,5,1,-2.00,-2.00,'paid',?, 'e3',1,?)`, old, now, now.Add(48*time.Hour), now)
	exec(`INSERT INTO raw.orders_events_rejected (kafka_topic, kafka_partition, kafka_offset, kafka_key, raw_value, reason, error, rejected_at) VALUES ('t',0,9,NULL,'{','invalid_json','bad',?)`, now)
	// Two events reusing an id with other content: a warning, a failure above the threshold.
	exec(`INSERT INTO raw.orders_events_rejected VALUES ('t',0,10,NULL,'{}','event_id_conflict','x',?,0,0,'{}'), ('t',0,11,NULL,'{}','event_id_conflict','x',?,0,1,'{}')`, now, now)
	strict, err := Run(ctx, d, Options{Now: now, ConflictThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(strict, "raw_event_id_conflicts"); got != params.StatusFail {
		t.Errorf("2 conflicts over a threshold of 1: %s, want FAIL", got)
	}
	rep, err := Run(ctx, d, Options{Now: now, Lag: []kafka.PartitionLag{{Partition: 0, End: 50000, Next: 10, Lag: 49990}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"raw_orders_missing_in_prod":    params.StatusFail,
		"prod_orders_missing_in_raw":    params.StatusFail,
		"raw_duplicate_event_ids":       params.StatusFail,
		"prod_non_positive_quantity":    params.StatusFail,
		"prod_negative_price":           params.StatusFail,
		"prod_total_mismatch":           params.StatusFail,
		"prod_future_timestamps":        params.StatusFail,
		"prod_orders_unknown_customer":  params.StatusFail,
		"prod_orders_unknown_product":   params.StatusFail,
		"raw_rejected_events":           params.StatusWarn,
		"raw_event_id_conflicts":        params.StatusWarn,
		"prod_duplicate_order_ids":      params.StatusPass,
		"kafka_lag":                     params.StatusWarn,
		"last_merge":                    params.StatusWarn,
		"rejects_since_last_validation": params.StatusWarn,
		"newest_event_age":              params.StatusPass,
	} {
		if got := status(rep, name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if rep.Status != params.StatusFail || len(rep.FailingChecks()) != rep.Summary.Fail {
		t.Fatalf("overall %s, failing %v", rep.Status, rep.FailingChecks())
	}
	for _, c := range rep.Checks {
		if c.Name == "raw_rejected_events" && c.Figures["reason:invalid_json"] != 1 {
			t.Fatalf("top reasons missing: %v", c.Figures)
		}
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// orderEvent is a valid event of order id at version, as the loader stores
// it (pipeline.load gives it its offset).
func orderEvent(t *testing.T, id int64, version int) warehouse.Event {
	t.Helper()
	o := events.Order{OrderID: id, CustomerID: 1, ProductID: 1000, Quantity: 2, UnitPrice: 1250, Status: "paid",
		SoldAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	ev := events.NewOrderCreated(o, events.SourceStream, time.Now())
	if version > 1 {
		ev.EventType, ev.EventVersion, ev.EventID, ev.Order.Status = events.TypeOrderUpdated, version, events.EventID(id, version), "shipped"
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return warehouse.Event{EventID: ev.EventID, EventType: ev.EventType, Payload: b, ProducedAt: ev.ProducedAt, ContentHash: events.ContentHash(ev)}
}

// pipeline writes to a real DuckDB warehouse the way the loader and the
// merge do, and by hand where they cannot.
type pipeline struct {
	t    *testing.T
	d    *duckdb.Warehouse
	next int64 // next Kafka offset of partition 0
}

func (p *pipeline) sql(q string, args ...any) {
	p.t.Helper()
	rows, err := p.d.Query(context.Background(), q, args...)
	if err != nil {
		p.t.Fatalf("%s: %v", q, err)
	}
	if err := rows.Close(); err != nil {
		p.t.Fatalf("%s: %v", q, err)
	}
}

func (p *pipeline) load(evs ...warehouse.Event) {
	p.t.Helper()
	for i := range evs {
		evs[i].Offset = p.next + int64(i)
	}
	res, err := p.d.LoadBatch(context.Background(), warehouse.Batch{Topic: "t", Partition: 0, FromOffset: p.next, NextOffset: p.next + int64(len(evs)), Events: evs})
	if err != nil || res.Inserted != int64(len(evs)) {
		p.t.Fatalf("load: %+v %v", res, err)
	}
	p.next += int64(len(evs))
}

func (p *pipeline) merge() {
	p.t.Helper()
	if _, err := p.d.MergeOrders(context.Background()); err != nil {
		p.t.Fatal(err)
	}
}

// unconstrain rebuilds PROD.orders without its primary key and NOT NULLs, as
// a warehouse that does not enforce them (Snowflake's PRIMARY KEY is not
// enforced) or a hand edit would leave it.
func (p *pipeline) unconstrain() {
	p.t.Helper()
	p.sql(`CREATE TABLE prod.orders_unconstrained AS SELECT * FROM prod.orders`)
	p.sql(`DROP TABLE prod.orders`)
	p.sql(`ALTER TABLE prod.orders_unconstrained RENAME TO orders`)
}

// healthyPipeline: customers and products known, orders 1 and 2 loaded and
// merged; every check passes.
func healthyPipeline(t *testing.T) *pipeline {
	t.Helper()
	p := &pipeline{t: t, d: open(t)}
	now := time.Now().UTC()
	p.sql(`INSERT INTO prod.customers VALUES (1, 'Ada', 'ada@example.com', 'Paris', 'web', ?, ?)`, now, now)
	p.sql(`INSERT INTO prod.inventory VALUES (1000, 'Lamp', 'home', 12.50, 5, ?, ?)`, now, now)
	if _, err := p.d.InitOffset(context.Background(), "t", 0, 0); err != nil {
		t.Fatal(err)
	}
	p.load(orderEvent(t, 1, 1), orderEvent(t, 2, 1))
	p.merge()
	rep := p.run(time.Now())
	if rep.Status != params.StatusPass {
		t.Fatalf("healthy pipeline: %s, not passing: %v", rep.Status, notPassing(rep))
	}
	return p
}

func (p *pipeline) run(now time.Time) params.ValidationReport {
	p.t.Helper()
	rep, err := Run(context.Background(), p.d, Options{Now: now})
	if err != nil {
		p.t.Fatal(err)
	}
	return rep
}

// notPassing lists the checks that do not pass, as name=STATUS(count).
func notPassing(rep params.ValidationReport) []string {
	var out []string
	for _, c := range rep.Checks {
		if c.Status != params.StatusPass {
			out = append(out, fmt.Sprintf("%s=%s(%d)", c.Name, c.Status, c.Figures["count"]))
		}
	}
	return out
}

// expect asserts the report's overall status and exactly which checks do
// not pass (with their counts).
func expect(t *testing.T, rep params.ValidationReport, overall string, notPass ...string) {
	t.Helper()
	if got := notPassing(rep); rep.Status != overall || strings.Join(got, " ") != strings.Join(notPass, " ") {
		t.Fatalf("report %s with %v not passing; want %s with %v", rep.Status, got, overall, notPass)
	}
	if rep.Summary.Total != len(rep.Checks) || rep.Summary.Pass != len(rep.Checks)-len(notPass) {
		t.Fatalf("summary %+v for %d checks, %d not passing", rep.Summary, len(rep.Checks), len(notPass))
	}
}

// raw_orders_awaiting_merge warns while an order waits for the merge within
// the grace (it has no FAIL: past the grace, raw_orders_missing_in_prod fails).
func TestAwaitingMergeWarnsWithinTheGrace(t *testing.T) {
	p := healthyPipeline(t)
	p.load(orderEvent(t, 3, 1))
	now := time.Now()
	expect(t, p.run(now), params.StatusWarn, "raw_orders_awaiting_merge=WARN(1)")
	expect(t, p.run(now.Add(MergeGrace+time.Minute)), params.StatusFail, "raw_orders_missing_in_prod=FAIL(1)")
	p.merge()
	expect(t, p.run(time.Now()), params.StatusPass)
}

// prod_version_behind_raw passes while a newer version is within the grace
// and fails once it has waited longer (it has no WARN).
func TestProdVersionBehindRawFailsPastTheGrace(t *testing.T) {
	p := healthyPipeline(t)
	p.load(orderEvent(t, 1, 2))
	now := time.Now()
	expect(t, p.run(now), params.StatusPass)
	expect(t, p.run(now.Add(MergeGrace+time.Minute)), params.StatusFail, "prod_version_behind_raw=FAIL(1)")
	p.merge()
	expect(t, p.run(now.Add(MergeGrace+time.Minute)), params.StatusPass)

	// An update to an order first ingested long ago gets the grace too: it
	// counts from the new version's ingestion.
	p.sql(`UPDATE raw.orders_events SET ingested_at = ingested_at - INTERVAL 1 HOUR`)
	p.load(orderEvent(t, 1, 3))
	expect(t, p.run(time.Now()), params.StatusPass)
	expect(t, p.run(time.Now().Add(MergeGrace+time.Minute)), params.StatusFail, "prod_version_behind_raw=FAIL(1)")
}

// prod_null_keys fails on a null order_id, customer_id or product_id (it has no WARN).
func TestProdNullKeysFail(t *testing.T) {
	for key, alsoFailing := range map[string][]string{
		// A null order id is also a PROD order without RAW event, and its RAW order waits for the merge.
		"order_id":    {"raw_orders_awaiting_merge=WARN(1)", "prod_orders_missing_in_raw=FAIL(1)", "prod_null_keys=FAIL(1)"},
		"customer_id": {"prod_null_keys=FAIL(1)", "prod_orders_unknown_customer=FAIL(1)"},
		"product_id":  {"prod_null_keys=FAIL(1)", "prod_orders_unknown_product=FAIL(1)"},
	} {
		t.Run(key, func(t *testing.T) {
			p := healthyPipeline(t)
			p.unconstrain()
			expect(t, p.run(time.Now()), params.StatusPass) // the rebuilt table alone changes nothing
			p.sql(`UPDATE prod.orders SET ` + key + ` = NULL WHERE order_id = 2`)
			rep := p.run(time.Now())
			expect(t, rep, params.StatusFail, alsoFailing...)
			if !slices.Contains(rep.FailingChecks(), "prod_null_keys") {
				t.Fatalf("failing checks %v miss prod_null_keys", rep.FailingChecks())
			}
		})
	}
}

// prod_duplicate_order_ids fails when an order is in PROD twice (it has no WARN).
func TestProdDuplicateOrderIDsFail(t *testing.T) {
	p := healthyPipeline(t)
	p.unconstrain()
	expect(t, p.run(time.Now()), params.StatusPass)
	p.sql(`INSERT INTO prod.orders SELECT * FROM prod.orders WHERE order_id = 1`)
	rep := p.run(time.Now())
	expect(t, rep, params.StatusFail, "prod_duplicate_order_ids=FAIL(1)")
	if got := rep.FailingChecks(); len(got) != 1 || got[0] != "prod_duplicate_order_ids" {
		t.Fatalf("failing checks %v", got)
	}
	// A second duplicated order counts as two.
	p.sql(`INSERT INTO prod.orders SELECT * FROM prod.orders WHERE order_id = 2`)
	expect(t, p.run(time.Now()), params.StatusFail, "prod_duplicate_order_ids=FAIL(2)")
}
