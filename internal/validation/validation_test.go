package validation

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
)

func open(t *testing.T) *warehouse.DuckDB {
	t.Helper()
	d, err := warehouse.OpenDuckDB(context.Background(), filepath.Join(t.TempDir(), "v.duckdb"))
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
