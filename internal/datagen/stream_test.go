package datagen

import (
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/events"
)

func TestStreamIsDeterministicAndUpdatesSentOrders(t *testing.T) {
	s := Stream{Seed: 9, FirstOrderID: 5001, Customers: 100, Prices: []events.Cents{100, 250, 999}, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	now := time.Now()
	sent := map[int64]int{} // order -> highest version sent
	ids := map[string]bool{}
	for n := int64(0); n < 5000; n++ {
		ev := s.Event(n, now)
		if err := ev.Validate(); err != nil {
			t.Fatalf("event %d invalid: %v", n, err)
		}
		if ids[ev.EventID] {
			t.Fatalf("event %d repeats id %s", n, ev.EventID)
		}
		ids[ev.EventID] = true
		if ev.Order.OrderID < 5001 {
			t.Fatalf("event %d uses order %d below the first stream id", n, ev.Order.OrderID)
		}
		if ev.EventVersion > 1 && sent[ev.Order.OrderID] != ev.EventVersion-1 {
			t.Fatalf("event %d: version %d of order %d whose last sent version is %d", n, ev.EventVersion, ev.Order.OrderID, sent[ev.Order.OrderID])
		}
		sent[ev.Order.OrderID] = ev.EventVersion
		if again := s.Event(n, now); again.EventID != ev.EventID || again.Order != ev.Order {
			t.Fatalf("event %d is not deterministic", n)
		}
	}
	updates := 0
	for _, v := range sent {
		if v > 1 {
			updates++
		}
	}
	if updates < 900 {
		t.Fatalf("only %d orders updated in 5000 events", updates)
	}
}
