package duckdb

import (
	"context"
	"testing"
)

// 0006 parses each payload once; it must flatten exactly as 0001's view did
// field by field, odd payloads included (texts for numbers, nulls, missing
// or extra fields, a non-object order, other time zones).
func TestFlattenOnceMatchesPerFieldExtraction(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	payloads := []string{
		`{"event_version":1,"order":{"order_id":1,"customer_id":2,"product_id":3,"quantity":4,"unit_price":19.99,"status":"paid","sold_at":"2026-01-02T03:04:05Z"}}`,
		`{"event_version":"2","order":{"order_id":"7","customer_id":2,"product_id":3,"quantity":"4","unit_price":"5","status":"shipped","sold_at":"2026-01-02T05:04:05+02:00"}}`,
		`{"event_version":3,"order":{"order_id":8,"customer_id":null,"product_id":3,"quantity":4,"unit_price":0.1,"status":null,"sold_at":"2026-06-30T23:59:59.123456Z","extra":{"a":1}}}`,
		`{"event_version":1,"order":{"order_id":9}}`,
		`{"event_version":1,"order":42}`,
		`{"order":{"order_id":10,"status":{"nested":true},"unit_price":1e2}}`,
		`{}`,
	}
	for i, p := range payloads {
		if _, err := d.db.ExecContext(ctx, `INSERT INTO raw.orders_events VALUES (?, 'order_created', CAST(? AS JSON), 't', 0, ?, now(), now(), NULL)`,
			"e"+string(rune('a'+i)), p, i); err != nil {
			t.Fatal(err)
		}
	}
	// 0001's view, field by field.
	perField := `SELECT event_id, event_type,
    CAST(payload ->> 'event_version' AS INTEGER), CAST(payload -> 'order' ->> 'order_id' AS BIGINT),
    CAST(payload -> 'order' ->> 'customer_id' AS BIGINT), CAST(payload -> 'order' ->> 'product_id' AS BIGINT),
    CAST(payload -> 'order' ->> 'quantity' AS INTEGER), CAST(payload -> 'order' ->> 'unit_price' AS DECIMAL(12, 2)),
    payload -> 'order' ->> 'status',
    CAST(CAST(payload -> 'order' ->> 'sold_at' AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP),
    produced_at, kafka_topic, kafka_partition, kafka_offset, ingested_at FROM raw.orders_events`
	for _, q := range []string{
		"SELECT count(*) FROM ((" + perField + ") EXCEPT ALL (SELECT * FROM staging.orders_events_flat))",
		"SELECT count(*) FROM ((SELECT * FROM staging.orders_events_flat) EXCEPT ALL (" + perField + "))",
	} {
		if n := count(t, d, q); n != 0 {
			rows, _ := d.db.QueryContext(ctx, "SELECT * FROM staging.orders_events_flat")
			defer rows.Close()
			for rows.Next() {
				var v [15]any
				ptrs := make([]any, len(v))
				for i := range v {
					ptrs[i] = &v[i]
				}
				_ = rows.Scan(ptrs...)
				t.Logf("%v", v)
			}
			t.Fatalf("%d rows differ between the view and the per-field flattening", n)
		}
	}
	if n := count(t, d, "SELECT count(*) FROM staging.orders_events_flat"); n != int64(len(payloads)) {
		t.Fatalf("view has %d rows, want %d", n, len(payloads))
	}
}
