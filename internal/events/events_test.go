package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func sample() Event {
	o := Order{OrderID: 7, CustomerID: 3, ProductID: 1004, Quantity: 2, UnitPrice: 1999, Status: "paid",
		SoldAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return NewOrderCreated(o, SourceReplay, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC))
}

func TestEventIDDeterministic(t *testing.T) {
	a, b := EventID(7, 1), EventID(7, 1)
	if a != b || len(a) != 36 {
		t.Fatal("same order and version must give the same id")
	}
	if EventID(7, 1) == EventID(7, 2) || EventID(7, 1) == EventID(8, 1) {
		t.Fatal("different order or version must give different ids")
	}
}

func TestRoundTrip(t *testing.T) {
	ev := sample()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"unit_price":19.99`) {
		t.Fatalf("price must be a 2-decimal number: %s", b)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got.Order != ev.Order || got.EventID != ev.EventID {
		t.Fatalf("round trip changed the event: %+v vs %+v", got, ev)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := json.Marshal(sample())
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	order := func(m map[string]any) map[string]any { return m["order"].(map[string]any) }
	cases := map[string]struct {
		value  []byte
		reason string
	}{
		"not json":        {[]byte("{nope"), ReasonInvalidJSON},
		"missing id":      {mutate(func(m map[string]any) { delete(m, "event_id") }), ReasonMissingField},
		"missing order":   {mutate(func(m map[string]any) { delete(order(m), "quantity") }), ReasonMissingField},
		"string quantity": {mutate(func(m map[string]any) { order(m)["quantity"] = "two" }), ReasonInvalidField},
		"negative qty":    {mutate(func(m map[string]any) { order(m)["quantity"] = -1 }), ReasonBadQuantity},
		"negative price":  {mutate(func(m map[string]any) { order(m)["unit_price"] = -3.5 }), ReasonNegativePrice},
		"unknown type":    {mutate(func(m map[string]any) { m["event_type"] = "order_exploded" }), ReasonUnknownType},
		"empty id":        {mutate(func(m map[string]any) { m["event_id"] = "" }), ReasonInvalidField},
		"schema v2":       {mutate(func(m map[string]any) { m["schema_version"] = 2 }), ReasonUnknownSchema},
		"too large":       {append(good, make([]byte, MaxEventBytes)...), ReasonTooLarge},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(c.value)
			var re *RejectError
			if !errors.As(err, &re) {
				t.Fatalf("want a RejectError, got %v", err)
			}
			if re.Reason != c.reason {
				t.Fatalf("reason %q, want %q (%v)", re.Reason, c.reason, err)
			}
		})
	}
}

func TestParseCents(t *testing.T) {
	for in, want := range map[string]Cents{"19.99": 1999, "19.9": 1990, "19": 1900, "0.05": 5, "-1.25": -125} {
		got, err := ParseCents(in)
		if err != nil || got != want {
			t.Errorf("ParseCents(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseCents("1.999"); err == nil {
		t.Error("3 decimals must be refused")
	}
}
