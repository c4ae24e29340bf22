package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropflow/dropflow/internal/devstack"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestProfilesOnlyOnDebugAddr: the dashboard's port never serves Go's
// profiles; DEBUG_ADDR serves them, on loopback, only when set.
func TestProfilesOnlyOnDebugAddr(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=2", "/debug/pprof/cmdline"} {
		if code, body := get(t, "http://"+s.httpAddr+path); code != http.StatusNotFound {
			t.Errorf("dashboard port, DEBUG_ADDR unset: GET %s = %d (%.80s), want 404", path, code, body)
		}
	}
	s.stopWorker()

	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s.whEnv = append(s.whEnv, fmt.Sprintf("DEBUG_ADDR=:%d", port))
	s.startWorker()
	debug := fmt.Sprintf("127.0.0.1:%d", port)
	if code, body := get(t, "http://"+debug+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("DEBUG_ADDR: GET /debug/pprof/ = %d %.200s", code, body)
	}
	if code, _ := get(t, "http://"+debug+"/debug/pprof/heap"); code != http.StatusOK {
		t.Fatalf("DEBUG_ADDR: GET /debug/pprof/heap = %d", code)
	}
	if code, _ := get(t, "http://"+s.httpAddr+"/debug/pprof/heap"); code != http.StatusNotFound {
		t.Fatalf("dashboard port with DEBUG_ADDR set: GET /debug/pprof/heap = %d, want 404", code)
	}
	// ":port" binds loopback only, as the worker's log says.
	log, _ := os.ReadFile(filepath.Join(s.dir, "worker.log"))
	if !strings.Contains(string(log), "http://"+debug+"/debug/pprof/") {
		t.Fatalf("worker log does not name the loopback debug address %s", debug)
	}
}
