package duckdb

import (
	"context"
	"testing"
)

// HasUnmerged is what the merger polls: true exactly while RAW holds events
// no merge has taken, and false again after a merge, also when the newest
// offsets held only duplicates (no RAW rows to merge).
func TestHasUnmergedFollowsTheWatermark(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	has := func() bool {
		t.Helper()
		h, err := d.HasUnmerged(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if has() {
		t.Fatal("an empty warehouse has nothing to merge")
	}
	load(t, d, 0, event(t, 1, 1, "paid", 0), event(t, 2, 1, "paid", 1))
	if !has() {
		t.Fatal("two new RAW events: want true")
	}
	if _, err := d.MergeOrders(ctx); err != nil {
		t.Fatal(err)
	}
	if has() {
		t.Fatal("after the merge: want false")
	}
	// Offsets 2-3 are resends only: the offset moves, RAW does not.
	load(t, d, 0, event(t, 1, 1, "paid", 2), event(t, 2, 1, "paid", 3))
	if !has() {
		t.Fatal("the loaded offset passed the watermark: want true until a merge looks")
	}
	runs := count(t, d, "SELECT count(*) FROM ops.merge_runs")
	if _, err := d.MergeOrders(ctx); err != nil {
		t.Fatal(err)
	}
	if has() {
		t.Fatal("a merge over duplicates only must move the watermark past them")
	}
	if n := count(t, d, "SELECT count(*) FROM ops.merge_runs"); n != runs+1 {
		t.Fatalf("merge runs %d -> %d", runs, n)
	}
	// Polling records nothing.
	for i := 0; i < 3; i++ {
		has()
	}
	if n := count(t, d, "SELECT count(*) FROM ops.merge_runs"); n != runs+1 {
		t.Fatalf("HasUnmerged recorded merge runs: %d", n)
	}
}
