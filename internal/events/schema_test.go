package events

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSchemaAndDecoderAgree validates one corpus of good and bad events with
// a real JSON Schema (2020-12) validator and with Decode: both must give the
// same verdict, and the verdict must be the one the case states, so the
// published schema is the decoder's contract and neither drifts.
func TestSchemaAndDecoderAgree(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("order_event.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("order_event.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}

	good := `{"event_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","event_type":"order_created","event_version":1,"schema_version":1,` +
		`"occurred_at":"2026-11-30T10:00:00Z","produced_at":"2026-11-30T10:00:01.250Z","source":"shop-api",` +
		`"order":{"order_id":42,"customer_id":7,"product_id":1003,"quantity":2,"unit_price":19.99,"status":"paid","sold_at":"2026-11-30T10:00:00Z"}}`
	// set replaces the value at a dotted path (or deletes it with del).
	type del struct{}
	edit := func(path string, v any) string {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(good))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(path, ".")
		obj := m
		for _, p := range parts[:len(parts)-1] {
			obj = obj[p].(map[string]any)
		}
		if _, ok := v.(del); ok {
			delete(obj, parts[len(parts)-1])
		} else {
			obj[parts[len(parts)-1]] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	num := func(s string) json.Number { return json.Number(s) }
	cases := []struct {
		name  string
		value string
		valid bool
	}{
		{"the good event", good, true},
		{"Dropflow's own v5 id", edit("event_id", EventID(42, 1)), true},
		{"an update", edit("event_type", "order_updated"), true},
		{"version 7", edit("event_version", 7), true},
		{"id of 128 characters", edit("event_id", strings.Repeat("é", 128)), true},
		{"source of 64 characters", edit("source", strings.Repeat("s", 64)), true},
		{"empty source", edit("source", ""), true},
		{"unknown top-level field kept", edit("trace_id", "abc"), true},
		{"unknown order field kept", edit("order.coupon", "XMAS"), true},
		{"integer price", edit("order.unit_price", 20), true},
		{"price with one decimal", edit("order.unit_price", num("19.9")), true},
		{"price 0", edit("order.unit_price", 0), true},
		{"price with an exponent", edit("order.unit_price", num("1.5e1")), true},
		{"largest price", edit("order.unit_price", num("9999999999.99")), true},
		{"every status: returned", edit("order.status", "returned"), true},
		{"offset time", edit("occurred_at", "2026-11-30T11:00:00+01:00"), true},

		{"not JSON", `{"event_id":`, false},
		{"an array", `[1,2]`, false},
		{"a string", `"order"`, false},
		{"empty object", `{}`, false},
		{"missing event_id", edit("event_id", del{}), false},
		{"empty event_id", edit("event_id", ""), false},
		{"event_id of 129 characters", edit("event_id", strings.Repeat("x", 129)), false},
		{"numeric event_id", edit("event_id", 42), false},
		{"unknown event_type", edit("event_type", "order_exploded"), false},
		{"missing event_type", edit("event_type", del{}), false},
		{"version 0", edit("event_version", 0), false},
		{"version above int32", edit("event_version", num("2147483648")), false},
		{"version as text", edit("event_version", "1"), false},
		{"schema_version 2", edit("schema_version", 2), false},
		{"missing schema_version", edit("schema_version", del{}), false},
		{"missing occurred_at", edit("occurred_at", del{}), false},
		{"occurred_at not a date", edit("occurred_at", "yesterday"), false},
		{"missing produced_at", edit("produced_at", del{}), false},
		{"missing source", edit("source", del{}), false},
		{"null source", edit("source", nil), false},
		{"source of 65 characters", edit("source", strings.Repeat("s", 65)), false},
		{"missing order", edit("order", del{}), false},
		{"order is a string", edit("order", "42"), false},
		{"order_id 0", edit("order.order_id", 0), false},
		{"order_id as text", edit("order.order_id", "42"), false},
		{"missing customer_id", edit("order.customer_id", del{}), false},
		{"product_id -1", edit("order.product_id", -1), false},
		{"quantity 0", edit("order.quantity", 0), false},
		{"quantity above int32", edit("order.quantity", num("2147483648")), false},
		{"quantity as text", edit("order.quantity", "two"), false},
		{"negative price", edit("order.unit_price", num("-3.5")), false},
		{"price with 3 decimals", edit("order.unit_price", num("19.999")), false},
		{"price as text", edit("order.unit_price", "19.99"), false},
		{"price above DECIMAL(12, 2)", edit("order.unit_price", num("10000000000")), false},
		{"unknown status", edit("order.status", "lost"), false},
		{"missing status", edit("order.status", del{}), false},
		{"zero sold_at", edit("order.sold_at", "0001-01-01T00:00:00Z"), false},
		{"sold_at not a date", edit("order.sold_at", "2026-13-01"), false},
	}
	valid, invalid := 0, 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schemaOK := true
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.value))
			if err != nil {
				schemaOK = false
			} else if err := sch.Validate(inst); err != nil {
				schemaOK = false
			}
			_, decErr := Decode([]byte(tc.value))
			decodeOK := decErr == nil
			if schemaOK != tc.valid || decodeOK != tc.valid {
				t.Fatalf("want valid=%v; schema says %v, decoder says %v (%v)\n%s", tc.valid, schemaOK, decodeOK, decErr, tc.value)
			}
		})
		if tc.valid {
			valid++
		} else {
			invalid++
		}
	}
	if valid < 10 || invalid < 20 {
		t.Fatalf("corpus too small: %d valid, %d invalid", valid, invalid)
	}
}
