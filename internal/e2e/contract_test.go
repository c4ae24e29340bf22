package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// shopEvent is an event as another service of the shop writes it: its own
// UUID and source, built from the published contract, not from Dropflow's code.
func shopEvent(id string, order, quantity int) []byte {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(map[string]any{
		"event_id": id, "event_type": "order_created", "event_version": 1, "schema_version": 1,
		"occurred_at": "2026-11-30T10:00:00Z", "produced_at": now, "source": "shop-api",
		"trace_id": "forward-compatible field, kept in RAW and ignored",
		"order": map[string]any{"order_id": order, "customer_id": 1 + order%1000, "product_id": 1000 + order%200, "quantity": quantity,
			"unit_price": 12.5, "status": "paid", "sold_at": "2026-11-30T10:00:00Z"},
	})
	return b
}

func TestOpenEventContractOnDuckDB(t *testing.T) { runOpenContract(t, newStack(t)) }

func TestOpenEventContractOnSnowflakeEmulator(t *testing.T) {
	s := newStack(t)
	withEmulator(t, s, false)
	runOpenContract(t, s)
}

// runOpenContract: a producer that is not Dropflow's (franz-go's kgo, and
// kcat as the README shows) writes events with its own ids and source; they
// land once, a resend is a duplicate, the same id with a changed quantity is
// an event_id_conflict (PROD keeps the first, validation not PASS), and a
// second seed replayed over the first fails the validation.
func runOpenContract(t *testing.T, s *stack) {
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s.deploySchema(ctx)
	if err := execute(t, s.client, "contract-seed", names.SeedData, params.SeedDataInput{Orders: 500}).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	kc, err := kgo.NewClient(kgo.SeedBrokers(s.brokerAddr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	var records []*kgo.Record
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = uuid.NewString()
		order := 900001 + i
		records = append(records, &kgo.Record{Key: []byte(strconv.Itoa(order)), Value: shopEvent(ids[i], order, 2)})
	}
	produce := func(rs []*kgo.Record) {
		t.Helper()
		if err := kc.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	round := 0
	ingestMerge := func() params.IngestOrdersResult {
		t.Helper()
		round++
		var in params.IngestOrdersResult
		if err := execute(t, s.client, fmt.Sprintf("contract-ingest-%d", round), names.IngestOrders, params.IngestOrdersInput{}).Get(ctx, &in); err != nil {
			t.Fatal(err)
		}
		if err := execute(t, s.client, fmt.Sprintf("contract-merge-%d", round), names.MergeOrders, params.MergeOrdersInput{}).Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		return in
	}
	validate := func() params.ValidationReport {
		t.Helper()
		round++
		var rep params.ValidationReport
		if err := execute(t, s.client, fmt.Sprintf("contract-validate-%d", round), names.ValidatePipeline, params.ValidatePipelineInput{AllowFail: true}).Get(ctx, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}

	produce(records)
	if in := ingestMerge(); in.Loaded != 100 || in.Rejected != 0 {
		t.Fatalf("kgo events: %+v", in)
	}
	if rep := validate(); rep.Status != params.StatusPass {
		t.Fatalf("validation after foreign events: %s %+v", rep.Status, rep.Checks)
	}
	// Resent as they were: duplicates, nothing new.
	produce(records)
	if in := ingestMerge(); in.Loaded != 0 || in.Duplicates != 100 || in.Conflicts != 0 {
		t.Fatalf("resend: %+v", in)
	}

	// kcat, as the README's one-liner has it.
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat missing: `make test` installs Debian's kcat")
	}
	kcatID := uuid.NewString()
	cmd := exec.CommandContext(ctx, "kcat", "-P", "-b", s.brokerAddr, "-t", topic, "-K", "|")
	cmd.Stdin = strings.NewReader("900200|" + string(shopEvent(kcatID, 900200, 1)) + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v %s", err, out)
	}
	if in := ingestMerge(); in.Loaded != 1 || in.Rejected != 0 {
		t.Fatalf("kcat event: %+v", in)
	}

	// The same id with another quantity: a conflict, kept with both offsets.
	changed := &kgo.Record{Key: records[0].Key, Value: shopEvent(ids[0], 900001, 5)}
	produce([]*kgo.Record{changed})
	if in := ingestMerge(); in.Loaded != 0 || in.Conflicts != 1 || in.Rejected != 1 {
		t.Fatalf("conflict: %+v", in)
	}
	s.stopWorker() // DuckDB has one process: release the file for the checks
	wh := s.openWarehouse()
	var rawPart, rawOff, confPart, confOff, rejOff, qty int64
	var reason string
	if err := wh.QueryRow(ctx, "SELECT kafka_partition, kafka_offset FROM raw.orders_events WHERE event_id = ?", ids[0]).Scan(&rawPart, &rawOff); err != nil {
		t.Fatal(err)
	}
	if err := wh.QueryRow(ctx, "SELECT reason, conflict_partition, conflict_offset, kafka_offset FROM raw.orders_events_rejected WHERE kafka_partition = ? ORDER BY kafka_offset DESC LIMIT 1", rawPart).Scan(&reason, &confPart, &confOff, &rejOff); err != nil {
		t.Fatal(err)
	}
	if reason != "event_id_conflict" || confPart != rawPart || confOff != rawOff || rejOff != changed.Offset {
		t.Fatalf("reject %s at %d conflicts with %d/%d; the event is at %d/%d, the resend at offset %d", reason, rejOff, confPart, confOff, rawPart, rawOff, changed.Offset)
	}
	if err := wh.QueryRow(ctx, "SELECT quantity FROM prod.orders WHERE order_id = 900001").Scan(&qty); err != nil || qty != 2 {
		t.Fatalf("PROD must keep the first quantity 2: %d %v", qty, err)
	}
	wh.Close()
	s.startWorker()
	if rep := validate(); rep.Status == params.StatusPass || status(rep, "raw_event_id_conflicts") != params.StatusWarn {
		t.Fatalf("validation with a conflict: %s, raw_event_id_conflicts %s", rep.Status, status(rep, "raw_event_id_conflicts"))
	}

	// A second seed replayed over the first: hundreds of conflicts, FAIL.
	for i, seed := range []int64{42, 43} {
		var res params.PipelineResult
		err := execute(t, s.client, fmt.Sprintf("contract-pipeline-%d", seed), names.Pipeline, params.PipelineInput{Seed: seed, Orders: 500}).Get(ctx, &res)
		if i == 0 {
			if err != nil || res.Ingest.Conflicts != 0 {
				t.Fatalf("first seed: %v %+v", err, res.Ingest)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "raw_event_id_conflicts") {
			t.Fatalf("a second seed over the first must fail validation on raw_event_id_conflicts: %v", err)
		}
	}
	out, code := s.starter("validate")
	if code != 1 || !strings.Contains(out, "raw_event_id_conflicts") {
		t.Fatalf("starter validate: exit %d\n%s", code, out)
	}
}

func status(rep params.ValidationReport, name string) string {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}
