package snowemu

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/warehouse"
)

func startTest(t *testing.T, users ...User) *Server {
	t.Helper()
	if len(users) == 0 {
		users = []User{{Name: "dropflow", Password: "pw"}}
	}
	s, err := Start(Options{Dir: t.TempDir(), Account: "local", Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openAdapter(t *testing.T, s *Server, o warehouse.SnowflakeOptions) *warehouse.Snowflake {
	t.Helper()
	if o.Account == "" {
		o.Account, o.User, o.Password = "local", "dropflow", "pw"
	}
	o.Host, o.Port, o.Protocol = "127.0.0.1", s.Port(), "http"
	if o.Database == "" {
		o.Database, o.Warehouse, o.Schema = "DROPSHIPPING_DB", "COMPUTE_WH", "RAW"
	}
	o.TempDir = t.TempDir()
	wh, err := warehouse.OpenSnowflake(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh
}

func ev(t *testing.T, order, version int, status string, offset int64) warehouse.Event {
	t.Helper()
	id := fmt.Sprintf("e-%d-%d", order, version)
	p, _ := json.Marshal(map[string]any{"event_id": id, "event_type": "order_created", "event_version": version,
		"order": map[string]any{"order_id": order, "customer_id": 1, "product_id": 2, "quantity": 3, "unit_price": 12.5, "status": status, "sold_at": "2026-01-31T12:00:00Z"}})
	return warehouse.Event{EventID: id, EventType: "order_created", Payload: p, Offset: offset, ProducedAt: time.Now().UTC()}
}

func TestAdapterSmoke(t *testing.T) {
	s := startTest(t)
	wh := openAdapter(t, s, warehouse.SnowflakeOptions{StageThreshold: 3})
	ctx := context.Background()
	res, err := wh.Migrate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res.Applied)
	if _, err := wh.InitOffset(ctx, "orders_topic", 0, 0); err != nil {
		t.Fatal(err)
	}
	lr, err := wh.LoadBatch(ctx, warehouse.Batch{Topic: "orders_topic", Partition: 0, FromOffset: 0, NextOffset: 2,
		Events: []warehouse.Event{ev(t, 1, 1, "paid", 0), ev(t, 2, 1, "paid", 1)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", lr)
	lr, err = wh.LoadBatch(ctx, warehouse.Batch{Topic: "orders_topic", Partition: 0, FromOffset: 2, NextOffset: 6,
		Events:  []warehouse.Event{ev(t, 1, 2, "shipped", 2), ev(t, 3, 1, "paid", 3), ev(t, 2, 1, "paid", 4)},
		Rejects: []warehouse.Reject{{Offset: 5, Value: []byte("{"), Reason: "invalid_json", Error: "bad"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", lr)
	m, err := wh.MergeOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", m)
	m, err = wh.MergeOrders(ctx)
	t.Logf("%+v %v", m, err)
	l, err := warehouse.Layers(ctx, wh)
	t.Logf("%+v %v", l, err)
}
