// Package events is the contract of the order events that travel through
// Kafka: their JSON shape (published as order_event.schema.json), Dropflow's
// deterministic ids, and the decoding and validation that decides whether an
// event is loaded or rejected. It imports nothing of the project.
package events

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"
)

// Schema is the JSON Schema (2020-12) of the event: the published contract,
// served by the worker at /api/schema/order-event. Decode agrees with it
// (a test validates one corpus with both).
//
//go:embed order_event.schema.json
var Schema []byte

// Event types.
const (
	TypeOrderCreated = "order_created"
	TypeOrderUpdated = "order_updated"
)

// SchemaVersion of the event JSON produced by this build.
const SchemaVersion = 1

// MaxEventBytes is the largest value accepted; larger ones are rejected.
const MaxEventBytes = 64 << 10

// Sources Dropflow's own producer writes; any producer may write its own.
const (
	SourceReplay = "replay"
	SourceStream = "stream"
)

// Bounds of the open contract (order_event.schema.json states the same).
const (
	MaxEventIDLen = 128
	MaxSourceLen  = 64
)

// Order statuses accepted in events.
var validStatus = map[string]bool{"pending": true, "paid": true, "shipped": true, "delivered": true, "cancelled": true, "returned": true}

// ValidStatus reports whether s is an order status of the contract.
func ValidStatus(s string) bool { return validStatus[s] }

// Statuses lists the order statuses of the contract, in lifecycle order.
func Statuses() []string {
	return []string{"pending", "paid", "shipped", "delivered", "cancelled", "returned"}
}

// namespace is the UUID namespace of Dropflow event ids (a v5 UUID of the name).
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://dropflow.dev/events/order"))

// EventID is deterministic: the same order and version always give the same id,
// so a resent event is recognisably a duplicate.
func EventID(orderID int64, version int) string {
	return uuid.NewSHA1(namespace, []byte(strconv.FormatInt(orderID, 10)+"/"+strconv.Itoa(version))).String()
}

// Cents is a price in hundredths, written in JSON as a decimal number with 2 places.
type Cents int64

// String formats 1999 as "19.99".
func (c Cents) String() string {
	sign := ""
	v := int64(c)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// MarshalJSON writes a JSON number with two decimals.
func (c Cents) MarshalJSON() ([]byte, error) { return []byte(c.String()), nil }

// MaxCents is the largest price (DECIMAL(12, 2) in the warehouse).
const MaxCents Cents = 999999999999

// UnmarshalJSON reads a JSON number with at most 2 decimals, as the schema
// says (a quoted price is refused); an exponent is read exactly.
func (c *Cents) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) > 0 && s[0] == '"' {
		return fmt.Errorf("price %s: want a JSON number, not a string", s)
	}
	v, err := ParseCents(s)
	if err != nil {
		// 1.5e1 and the like: exact rational arithmetic, off the hot path.
		r, ok := new(big.Rat).SetString(s)
		if !ok || !strings.ContainsAny(s, "eE") {
			return err
		}
		r.Mul(r, big.NewRat(100, 1))
		if !r.IsInt() || !r.Num().IsInt64() {
			return fmt.Errorf("price %q: want a decimal with at most 2 places", s)
		}
		v = Cents(r.Num().Int64())
	}
	if v > MaxCents {
		return fmt.Errorf("price %s: above the largest price %s", s, MaxCents)
	}
	*c = v
	return nil
}

// ParseCents parses "19.99", "19.9" or "19" into cents.
func ParseCents(s string) (Cents, error) {
	neg := strings.HasPrefix(s, "-")
	t := strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" || len(frac) > 2 {
		return 0, fmt.Errorf("price %q: want a decimal with at most 2 places", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("price %q: %w", s, err)
	}
	var f int64
	if frac != "" {
		for len(frac) < 2 {
			frac += "0"
		}
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return 0, fmt.Errorf("price %q: %w", s, err)
		}
	}
	v := w*100 + f
	if neg {
		v = -v
	}
	return Cents(v), nil
}

// Order carries the fields of orders.csv.
type Order struct {
	OrderID    int64     `json:"order_id"`
	CustomerID int64     `json:"customer_id"`
	ProductID  int64     `json:"product_id"`
	Quantity   int64     `json:"quantity"`
	UnitPrice  Cents     `json:"unit_price"`
	Status     string    `json:"status"`
	SoldAt     time.Time `json:"sold_at"`
}

// Event is one Kafka record value.
type Event struct {
	EventID       string    `json:"event_id"`
	EventType     string    `json:"event_type"`
	EventVersion  int       `json:"event_version"`
	SchemaVersion int       `json:"schema_version"`
	OccurredAt    time.Time `json:"occurred_at"`
	ProducedAt    time.Time `json:"produced_at"`
	Source        string    `json:"source"`
	Order         Order     `json:"order"`
}

// NewOrderCreated builds the version-1 event of an order.
func NewOrderCreated(o Order, source string, producedAt time.Time) Event {
	return Event{
		EventID:       EventID(o.OrderID, 1),
		EventType:     TypeOrderCreated,
		EventVersion:  1,
		SchemaVersion: SchemaVersion,
		OccurredAt:    o.SoldAt.UTC(),
		ProducedAt:    producedAt.UTC(),
		Source:        source,
		Order:         o,
	}
}

// Key is the Kafka key of an event: the order id, so one order stays in one
// partition, in order.
func (e Event) Key() []byte { return []byte(strconv.FormatInt(e.Order.OrderID, 10)) }

// Reject reasons: stable, low-cardinality codes stored with each reject and
// used as metric labels.
const (
	ReasonTooLarge      = "too_large"
	ReasonInvalidJSON   = "invalid_json"
	ReasonMissingField  = "missing_field"
	ReasonInvalidField  = "invalid_field"
	ReasonUnknownType   = "unknown_event_type"
	ReasonBadQuantity   = "invalid_quantity"
	ReasonNegativePrice = "negative_price"
	// ReasonIDConflict: the event_id is already in RAW with other content
	// (set by the loader, not the decoder).
	ReasonIDConflict = "event_id_conflict"
	// ReasonUnknownSchema: a schema_version this build does not read.
	ReasonUnknownSchema = "unknown_schema_version"
)

// RejectError explains why an event cannot be loaded.
type RejectError struct {
	Reason string // one of the Reason constants
	Detail string
}

func (e *RejectError) Error() string { return e.Reason + ": " + e.Detail }

func reject(reason, format string, args ...any) error {
	return &RejectError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// wire mirrors Event with pointers, so that one decode both fills the event
// and tells which required fields are missing (nil) — a third of the cost of
// decoding into maps first.
type wire struct {
	EventID       *string    `json:"event_id"`
	EventType     *string    `json:"event_type"`
	EventVersion  *int       `json:"event_version"`
	SchemaVersion *int       `json:"schema_version"`
	OccurredAt    *time.Time `json:"occurred_at"`
	ProducedAt    *time.Time `json:"produced_at"`
	Source        *string    `json:"source"`
	Order         *wireOrder `json:"order"`
}

type wireOrder struct {
	OrderID    *int64     `json:"order_id"`
	CustomerID *int64     `json:"customer_id"`
	ProductID  *int64     `json:"product_id"`
	Quantity   *int64     `json:"quantity"`
	UnitPrice  *Cents     `json:"unit_price"`
	Status     *string    `json:"status"`
	SoldAt     *time.Time `json:"sold_at"`
}

// Decode parses and validates one record value. A *RejectError says why it is
// rejected; the value itself is kept by the caller.
func Decode(value []byte) (Event, error) {
	var ev Event
	if len(value) > MaxEventBytes {
		return ev, reject(ReasonTooLarge, "value is %d bytes, limit %d", len(value), MaxEventBytes)
	}
	// Fast path: nearly every record has every field, none null or zero, and
	// decodes straight into Event with half the allocations. Anything else
	// (a missing, null or zero field, a type error) takes the wire path,
	// which tells missing from zero and names the problem; with no null
	// literal and no zero field both paths decode to the same event.
	if !bytes.Contains(value, nullLiteral) {
		if err := json.Unmarshal(value, &ev); err == nil && complete(ev) {
			return ev, ev.Validate()
		}
		ev = Event{}
	}
	var w wire
	if err := json.Unmarshal(value, &w); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return ev, reject(ReasonInvalidField, "%s: want %s, got %s", te.Field, te.Type, te.Value)
		case errors.As(err, &se), !json.Valid(value):
			return ev, reject(ReasonInvalidJSON, "%v", err)
		}
		return ev, reject(ReasonInvalidField, "%v", err)
	}
	missing := func(name string) (Event, error) { return ev, reject(ReasonMissingField, "%s", name) }
	switch {
	case w.EventID == nil:
		return missing("event_id")
	case w.EventType == nil:
		return missing("event_type")
	case w.EventVersion == nil:
		return missing("event_version")
	case w.SchemaVersion == nil:
		return missing("schema_version")
	case w.OccurredAt == nil:
		return missing("occurred_at")
	case w.ProducedAt == nil:
		return missing("produced_at")
	case w.Source == nil:
		return missing("source")
	case w.Order == nil:
		return missing("order")
	}
	o := w.Order
	switch {
	case o.OrderID == nil:
		return missing("order.order_id")
	case o.CustomerID == nil:
		return missing("order.customer_id")
	case o.ProductID == nil:
		return missing("order.product_id")
	case o.Quantity == nil:
		return missing("order.quantity")
	case o.UnitPrice == nil:
		return missing("order.unit_price")
	case o.Status == nil:
		return missing("order.status")
	case o.SoldAt == nil:
		return missing("order.sold_at")
	}
	ev = Event{EventID: *w.EventID, EventType: *w.EventType, EventVersion: *w.EventVersion, SchemaVersion: *w.SchemaVersion,
		OccurredAt: *w.OccurredAt, ProducedAt: *w.ProducedAt, Source: *w.Source,
		Order: Order{OrderID: *o.OrderID, CustomerID: *o.CustomerID, ProductID: *o.ProductID, Quantity: *o.Quantity,
			UnitPrice: *o.UnitPrice, Status: *o.Status, SoldAt: *o.SoldAt}}
	return ev, ev.Validate()
}

var nullLiteral = []byte("null")

// complete says every field of ev is non-zero, so each was present.
func complete(ev Event) bool {
	o := ev.Order
	return ev.EventID != "" && ev.EventType != "" && ev.EventVersion != 0 && ev.SchemaVersion != 0 && !ev.OccurredAt.IsZero() &&
		!ev.ProducedAt.IsZero() && ev.Source != "" && o.OrderID != 0 && o.CustomerID != 0 && o.ProductID != 0 && o.Quantity != 0 &&
		o.UnitPrice != 0 && o.Status != "" && !o.SoldAt.IsZero()
}

// Validate checks the business rules of an event.
func (e Event) Validate() error {
	switch e.EventType {
	case TypeOrderCreated, TypeOrderUpdated:
	default:
		return reject(ReasonUnknownType, "%q", e.EventType)
	}
	if e.EventVersion < 1 || e.EventVersion > math.MaxInt32 {
		return reject(ReasonInvalidField, "event_version: must be 1 to %d, got %d", math.MaxInt32, e.EventVersion)
	}
	if e.SchemaVersion != SchemaVersion {
		return reject(ReasonUnknownSchema, "schema_version: this build reads %d, got %d", SchemaVersion, e.SchemaVersion)
	}
	// Characters, as JSON Schema counts them; bytes bound them first, cheaply.
	if n := len(e.EventID); n == 0 || (n > MaxEventIDLen && utf8.RuneCountInString(e.EventID) > MaxEventIDLen) {
		return reject(ReasonInvalidField, "event_id: want 1 to %d characters, got %d", MaxEventIDLen, utf8.RuneCountInString(e.EventID))
	}
	if len(e.Source) > MaxSourceLen && utf8.RuneCountInString(e.Source) > MaxSourceLen {
		return reject(ReasonInvalidField, "source: want at most %d characters, got %d", MaxSourceLen, utf8.RuneCountInString(e.Source))
	}
	o := e.Order
	if o.OrderID < 1 {
		return reject(ReasonInvalidField, "order.order_id: must be >= 1, got %d", o.OrderID)
	}
	if o.CustomerID < 1 {
		return reject(ReasonInvalidField, "order.customer_id: must be >= 1, got %d", o.CustomerID)
	}
	if o.ProductID < 1 {
		return reject(ReasonInvalidField, "order.product_id: must be >= 1, got %d", o.ProductID)
	}
	if o.Quantity < 1 {
		return reject(ReasonBadQuantity, "order.quantity: must be >= 1, got %d", o.Quantity)
	}
	if o.Quantity > math.MaxInt32 {
		return reject(ReasonBadQuantity, "order.quantity: must be <= %d, got %d", math.MaxInt32, o.Quantity)
	}
	if o.UnitPrice < 0 {
		return reject(ReasonNegativePrice, "order.unit_price: %s", o.UnitPrice)
	}
	if !ValidStatus(o.Status) {
		return reject(ReasonInvalidField, "order.status: %q", o.Status)
	}
	if o.SoldAt.IsZero() {
		return reject(ReasonInvalidField, "order.sold_at: zero time")
	}
	return nil
}

// ContentHash fingerprints what an event says, everything but produced_at
// (a resend's only difference) and fields the contract does not know: the
// same event_id with another hash is a conflict, not a duplicate. FNV-1a
// over the fields in a fixed order, so it costs no allocation per event.
func ContentHash(e Event) string {
	h := fnv.New64a()
	var buf [20]byte
	field := func(b []byte) {
		h.Write(b)
		h.Write([]byte{0})
	}
	num := func(v int64) { field(strconv.AppendInt(buf[:0], v, 10)) }
	field([]byte(e.EventID))
	field([]byte(e.EventType))
	num(int64(e.EventVersion))
	num(int64(e.SchemaVersion))
	num(e.OccurredAt.UnixNano())
	field([]byte(e.Source))
	o := e.Order
	num(o.OrderID)
	num(o.CustomerID)
	num(o.ProductID)
	num(o.Quantity)
	num(int64(o.UnitPrice))
	field([]byte(o.Status))
	num(o.SoldAt.UnixNano())
	return strconv.FormatUint(h.Sum64(), 16)
}
