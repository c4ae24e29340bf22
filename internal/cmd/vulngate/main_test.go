package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const stream = `{"config":{"scanner_name":"govulncheck"}}
{"finding":{"osv":"GO-1","fixed_version":"v1.2.0","trace":[{"module":"m","version":"v1.0.0","package":"m/p","function":"F"}]}}
{"finding":{"osv":"GO-2","trace":[{"module":"n","version":"v1.0.0","package":"n/p"}]}}
{"finding":{"osv":"GO-3","trace":[{"module":"o","version":"v1.0.0","package":"o","function":"G"}]}}
`

func allow(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "allow")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCalledFindingsFailUnlessAllowedWithAReason(t *testing.T) {
	var out bytes.Buffer
	err := run(strings.NewReader(stream), &out, allow(t, "# none\nGO-3 no fix; never reached with user input\n"))
	if err == nil || !strings.Contains(err.Error(), "GO-1: m@v1.0.0 (F), fixed in v1.2.0") || strings.Contains(err.Error(), "GO-2") || strings.Contains(err.Error(), "GO-3") {
		t.Fatalf("called GO-1 must fail alone (GO-2 is only imported, GO-3 allowed): %v", err)
	}
	if err := run(strings.NewReader(stream), &out, allow(t, "GO-1 fixed upstream soon\nGO-3 no fix\n")); err != nil {
		t.Fatalf("all called findings allowed: %v", err)
	}
	if err := run(strings.NewReader(stream), &out, allow(t, "GO-1\n")); err == nil || !strings.Contains(err.Error(), "no reason") {
		t.Fatalf("an exception without a reason: %v", err)
	}
	if err := run(strings.NewReader(""), &out, allow(t, "")); err == nil {
		t.Fatal("no output at all must fail, not pass as no findings")
	}
	if err := run(strings.NewReader("{not json"), &out, allow(t, "")); err == nil {
		t.Fatal("garbage input must fail, not pass as no findings")
	}
}
