// Package warehousetest holds behaviour tests every warehouse adapter must
// pass, run by each adapter's own tests (DuckDB in warehouse, Snowflake
// against the emulator in snowemu).
package warehousetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dropflow/dropflow/internal/warehouse"
)

func event(id string, quantity int, offset int64, hash string) warehouse.Event {
	p := fmt.Sprintf(`{"event_id":%q,"event_type":"order_created","event_version":1,"order":{"order_id":7,"customer_id":1,"product_id":1000,"quantity":%d,"unit_price":12.5,"status":"paid","sold_at":"2026-01-31T12:00:00Z"}}`, id, quantity)
	return warehouse.Event{EventID: id, EventType: "order_created", Payload: []byte(p), Offset: offset, ContentHash: hash}
}

// Conflicts: a resend (same event_id, same content) is a duplicate; the
// same event_id with other content, in RAW or earlier in the batch, is
// rejected as event_id_conflict with the partition, offset and value of the
// event it conflicts with; RAW keeps the first.
func Conflicts(t *testing.T, wh warehouse.Warehouse) {
	t.Helper()
	ctx := context.Background()
	const topic = "conflicts"
	for p := 0; p < 2; p++ {
		if _, err := wh.InitOffset(ctx, topic, p, 0); err != nil {
			t.Fatal(err)
		}
	}
	load := func(p int, from int64, evs ...warehouse.Event) warehouse.LoadResult {
		t.Helper()
		r, err := wh.LoadBatch(ctx, warehouse.Batch{Topic: topic, Partition: p, FromOffset: from, NextOffset: from + int64(len(evs)), Events: evs})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := load(0, 0, event("A", 1, 0, "h-a"), event("B", 1, 1, "h-b"), event("A", 2, 2, "h-a2"))
	if r.Inserted != 2 || r.Duplicates != 0 || r.Conflicts != 1 || r.Rejected != 1 {
		t.Fatalf("batch with a conflict inside: %+v", r)
	}
	r = load(1, 0, event("A", 1, 0, "h-a"), event("B", 9, 1, "h-b9"))
	if r.Inserted != 0 || r.Duplicates != 1 || r.Conflicts != 1 || r.Rejected != 1 {
		t.Fatalf("batch with a resend and a conflict with RAW: %+v", r)
	}
	n, err := warehouse.CountInt(ctx, wh, "SELECT count(*) FROM raw.orders_events WHERE kafka_topic = 'conflicts'")
	if err != nil || n != 2 {
		t.Fatalf("RAW holds %d events (%v), want the first 2", n, err)
	}
	rows, err := wh.Query(ctx, `SELECT kafka_partition, kafka_offset, reason, conflict_partition, conflict_offset, raw_value, conflict_value
FROM raw.orders_events_rejected WHERE kafka_topic = 'conflicts' ORDER BY kafka_partition, kafka_offset`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var p, cp int
		var off, coff int64
		var reason, raw, cv string
		if err := rows.Scan(&p, &off, &reason, &cp, &coff, &raw, &cv); err != nil {
			t.Fatal(err)
		}
		q := func(s string) string { // the quantity each value carries
			i := strings.Index(s, `"quantity":`)
			if i < 0 {
				return "?"
			}
			return strings.TrimSpace(strings.SplitN(s[i+len(`"quantity":`):], ",", 2)[0])
		}
		got = append(got, fmt.Sprintf("%d/%d %s vs %d/%d qty %s vs %s", p, off, reason, cp, coff, q(raw), q(cv)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"0/2 event_id_conflict vs 0/0 qty 2 vs 1", "1/1 event_id_conflict vs 0/1 qty 9 vs 1"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("conflict rejects:\n got %q\nwant %q", got, want)
	}
}
