package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dropflow/dropflow/internal/params"
)

// The command table is the CLI: unique names, one runner each, all in the usage.
func TestCommandTable(t *testing.T) {
	seen := map[string]bool{}
	u := usage()
	for _, c := range commands {
		if seen[c.name] {
			t.Errorf("command %q twice", c.name)
		}
		seen[c.name] = true
		if (c.run == nil) == (c.exit == nil) {
			t.Errorf("command %q: want exactly one of run and exit", c.name)
		}
		if !strings.Contains(u, "  "+c.name+" ") {
			t.Errorf("usage lacks %q", c.name)
		}
	}
}

// Bad input is refused with exit 2 before any connection: Temporal here is
// an address where nothing listens, which a dial would report as exit 1.
func TestBadInputIsRefusedBeforeConnecting(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	for _, args := range [][]string{
		{"frobnicate"},
		{"schedules", "explode", "dropflow-merge"},
		{"schedules", "backfill", "dropflow-merge", "--start", "yesterday"},
		{"schedules", "pause"},
		{"pipeline", "--orders", "many"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args[0], args[1:], &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errOut.String())
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), "help", nil, &out, &out); code != 0 || !strings.Contains(out.String(), "pipeline") {
		t.Errorf("help: exit %d, %q", code, out.String())
	}
}

// -h prints a command's flags on the injected stdout, with the defaults of
// params (not retyped); a bad flag is named on stderr, exit 2.
func TestHelpShowsParamsDefaults(t *testing.T) {
	for cmd, want := range map[string][]string{
		"produce":   {fmt.Sprintf("(default %d)", params.DefaultProduceChunk)},
		"ingest":    {fmt.Sprintf("(default %d)", params.DefaultBatchRecords), "(default " + params.DefaultFollowChunk.String() + ")"},
		"schedules": {"(default " + params.DefaultValidateEvery.String() + ")"},
	} {
		args := []string{"-h"}
		if cmd == "schedules" {
			args = []string{"apply", "-h"}
		}
		var out, errOut bytes.Buffer
		if code := run(context.Background(), cmd, args, &out, &errOut); code != 0 || errOut.Len() != 0 {
			t.Fatalf("%s -h: exit %d, stderr %q", cmd, code, errOut.String())
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s -h lacks %q:\n%s", cmd, w, out.String())
			}
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), "ingest", []string{"--bogus"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-bogus") || out.Len() != 0 {
		t.Errorf("bad flag: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
