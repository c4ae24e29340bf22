package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/youmark/pkcs8"

	"github.com/dropflow/dropflow/internal/snowemu"
	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/snowflake"
)

// withEmulator points the stack at a local Snowflake-protocol server: the
// worker and starter reach it through unmodified gosnowflake, over HTTP.
func withEmulator(t *testing.T, s *stack, keyPair bool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// Credentials unique to this run, so that the log scan (noSecretsLogged)
	// cannot match anything else.
	password, passphrase := "pw-"+randomHex(t), "pp-"+randomHex(t)
	emu, err := snowemu.Start(snowemu.Options{Dir: filepath.Join(s.dir, "snowemu"), Account: "local",
		Users: []snowemu.User{{Name: "dropflow", Password: password, Key: &key.PublicKey}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	o := snowflake.Options{Account: "local", User: "dropflow", Database: "DROPSHIPPING_DB", Warehouse: "COMPUTE_WH", Schema: "RAW",
		Host: "127.0.0.1", Port: emu.Port(), Protocol: "http"}
	s.whEnv = []string{"WAREHOUSE=snowflake", "SNOW_ACCOUNT=local", "SNOW_USER=dropflow", "SNOW_HOST=127.0.0.1",
		"SNOW_PORT=" + strconv.Itoa(emu.Port()), "SNOW_PROTOCOL=http"}
	if keyPair {
		// An encrypted PKCS#8 key, as Snowflake's key-pair guide makes.
		der, err := pkcs8.MarshalPrivateKey(key, []byte(passphrase), nil)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(s.dir, "dropflow.p8")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		o.PrivateKeyPath, o.PrivateKeyPassphrase = path, passphrase
		plain, _ := x509.MarshalPKCS8PrivateKey(key)
		s.secrets = append(s.secrets, passphrase, pemBody(pemBytes), pemBody(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: plain})))
		// This run also loads RAW through PUT + COPY INTO; the password run inline.
		s.whEnv = append(s.whEnv, "SNOW_PRIVATE_KEY_PATH="+path, "SNOW_PRIVATE_KEY_PASSPHRASE="+passphrase, "SNOW_PASSWORD=", "SNOW_STAGE_THRESHOLD=100")
	} else {
		o.Password = password
		s.secrets = append(s.secrets, password)
		s.whEnv = append(s.whEnv, "SNOW_PASSWORD="+password, "SNOW_PRIVATE_KEY_PATH=")
	}
	s.openWH = func() warehouse.Warehouse {
		wh, err := snowflake.Open(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return wh
	}
}

// TestPipelineOnSnowflakeEmulatorPassword runs the DuckDB pipeline test's
// assertions through gosnowflake, logged in by password.
func TestPipelineOnSnowflakeEmulatorPassword(t *testing.T) {
	s := newStack(t)
	withEmulator(t, s, false)
	runPipeline(t, s)
	defer noSecretsLogged(t, s)

	// Every statement carried Dropflow's query tag, naming workflow and activity.
	wh := s.openWH()
	defer wh.Close()
	rows, err := wh.Query(context.Background(), `SELECT query_tag, count(*) FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY()) GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	activities := map[string]bool{}
	for rows.Next() {
		var tag string
		var n int64
		if err := rows.Scan(&tag, &n); err != nil {
			t.Fatal(err)
		}
		var qt struct{ App, Workflow, Activity, Component string }
		if err := json.Unmarshal([]byte(tag), &qt); err != nil || qt.App != "dropflow" {
			t.Fatalf("%d statements with query tag %q", n, tag)
		}
		if qt.Workflow != "" {
			activities[qt.Workflow+"/"+qt.Activity] = true
		}
	}
	// The dashboard's reads run on Snowflake SQL too.
	s.startWorker()
	for _, path := range []string{"/api/kpis?range=all", "/api/top-products?range=all", "/api/daily?range=all", "/api/recent-orders?limit=5", "/api/health", "/readyz"} {
		resp, err := http.Get("http://" + s.httpAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) < 3 {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/api/kpis?range=all" && !strings.Contains(string(body), `"orders":5000`) {
			t.Errorf("kpis: %s", body)
		}
	}
	s.stopWorker()
	for _, want := range []string{"DeploySchema/ApplyMigrations", "SeedData/LoadReferenceData", "IngestOrders/LoadPartition", "MergeOrders/MergeOrders", "ValidatePipeline/RunValidation", "Pipeline/RecordPipelineRun"} {
		if !activities[want] {
			t.Errorf("no statement tagged %s; tagged: %v", want, activities)
		}
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// pemBody is a PEM block's base64 body on one line.
func pemBody(b []byte) string {
	var body []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.HasPrefix(l, "-----") {
			body = append(body, l)
		}
	}
	return strings.Join(body, "")
}

// noSecretsLogged scans every log the run wrote (worker, Temporal, emulator)
// and every starter output for the run's credentials: the password, the
// passphrase, and the key's PEM body or any 64-character line of it.
func noSecretsLogged(t *testing.T, s *stack) {
	t.Helper()
	if len(s.secrets) == 0 {
		t.Fatal("no secrets to scan for")
	}
	var needles []string
	for _, sec := range s.secrets {
		needles = append(needles, sec)
		for i := 0; i+64 <= len(sec) && len(sec) > 64; i += 64 {
			needles = append(needles, sec[i:i+64])
		}
	}
	find := func(text string) (found []string) {
		for _, n := range needles {
			if strings.Contains(text, n) {
				found = append(found, n)
			}
		}
		return found
	}
	scan := func(what, text string) {
		for _, n := range find(text) {
			t.Errorf("%s holds a credential (%.6s…)", what, n)
		}
	}
	// The scan must find a planted secret, in a log line as the worker writes them.
	if len(find(`{"level":"info","msg":"connect","dsn":"dropflow:`+s.secrets[0]+`@local"}`)) == 0 {
		t.Fatal("the secret scan does not find a planted secret")
	}
	files := 0
	_ = filepath.WalkDir(s.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files++
		scan(path, string(b))
		return nil
	})
	for i, out := range s.starterOut {
		scan(fmt.Sprintf("starter output %d", i), out)
	}
	if files < 2 || len(s.starterOut) < 2 {
		t.Fatalf("scanned %d log files and %d starter outputs: the run wrote fewer than expected", files, len(s.starterOut))
	}
}

// TestWrongSnowflakePasswordIsOneLine: the worker refuses to start with one
// line naming account and user, never the password.
func TestWrongSnowflakePasswordIsOneLine(t *testing.T) {
	s := newStack(t)
	withEmulator(t, s, false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.workerBin)
	cmd.Env = append(s.env(), "SNOW_PASSWORD=not-the-password-42")
	out, err := cmd.CombinedOutput()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "worker:") {
			lines = append(lines, l)
		}
	}
	if err == nil || len(lines) != 1 {
		t.Fatalf("want exit 1 with one worker: line, got %v:\n%s", err, out)
	}
	l := lines[0]
	if !strings.Contains(l, "account local, user dropflow") || !strings.Contains(l, "WarehouseAuth") || strings.Contains(string(out), "not-the-password-42") {
		t.Fatalf("error line: %s", l)
	}
}

// TestPipelineOnSnowflakeEmulatorKeyPair does the same with a JWT login.
func TestPipelineOnSnowflakeEmulatorKeyPair(t *testing.T) {
	s := newStack(t)
	withEmulator(t, s, true)
	runPipeline(t, s)
	defer noSecretsLogged(t, s)
	wh := s.openWH()
	defer wh.Close()
	var staged int64
	if err := wh.QueryRow(context.Background(), `SELECT count(*) FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY()) WHERE query_text LIKE 'COPY INTO %RAW.LOAD_EVENTS%' AND execution_status = 'SUCCESS'`).Scan(&staged); err != nil || staged == 0 {
		t.Fatalf("RAW batches must have gone through PUT + COPY INTO: %d, %v", staged, err)
	}
}
