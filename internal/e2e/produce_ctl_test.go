package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

// TestSteerAStreamFromTheStarter runs a synthetic stream and steers it the
// way an operator would: refused negative rate, new rate, pause, progress.
func TestSteerAStreamFromTheStarter(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.deploySchema(ctx)
	if err := execute(t, s.client, "seed", names.SeedData, params.SeedDataInput{Orders: 100}).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if out, code := s.starter("produce", "--mode", "stream", "--rate", "200"); code != 0 {
		t.Fatalf("start stream: %d %s", code, out)
	}
	progress := func() params.ProduceProgress {
		out, code := s.starter("produce-ctl", "progress")
		var p params.ProduceProgress
		if code != 0 || json.Unmarshal([]byte(out), &p) != nil {
			t.Fatalf("progress: %d %s", code, out)
		}
		return p
	}
	waitFor(t, "the stream to send", time.Minute, func() bool { return progress().Sent > 0 })
	if out, code := s.starter("produce-ctl", "rate", "-3"); code == 0 || !strings.Contains(out, "rate") {
		t.Fatalf("a negative rate must be refused naming the rate: %d %s", code, out)
	}
	if out, code := s.starter("produce-ctl", "rate", "500"); code != 0 || !strings.Contains(out, `"rate": 500`) {
		t.Fatalf("rate 500: %d %s", code, out)
	}
	if out, code := s.starter("produce-ctl", "pause"); code != 0 {
		t.Fatalf("pause: %d %s", code, out)
	}
	waitFor(t, "the pause", 30*time.Second, func() bool { return progress().Paused })
	time.Sleep(params.ProduceChunkTime + time.Second) // the chunk in flight finishes
	before := progress().Sent
	time.Sleep(2 * time.Second)
	if after := progress().Sent; after != before {
		t.Fatalf("paused stream kept sending: %d -> %d", before, after)
	}
	if out, code := s.starter("produce-ctl", "resume"); code != 0 {
		t.Fatalf("resume: %d %s", code, out)
	}
	waitFor(t, "the stream to resume", 30*time.Second, func() bool { return progress().Sent > before })
	if err := s.client.TerminateWorkflow(ctx, names.StandaloneID(names.ProduceOrders, "stream"), "", "test done"); err != nil {
		t.Fatal(err)
	}
}
