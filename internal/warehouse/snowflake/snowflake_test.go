package snowflake

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/snowflakedb/gosnowflake"
	"github.com/youmark/pkcs8"

	goldenfile "github.com/dropflow/dropflow/internal/golden"
	"github.com/dropflow/dropflow/internal/warehouse"
)

var goldenTokens = map[string]string{"DATABASE": "DROPSHIPPING_DB", "WAREHOUSE": "COMPUTE_WH"}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "snowflake", name), got)
}

// TestSnowflakeStatementsGolden pins every statement the Snowflake adapter
// sends, rendered with the default identifiers, one file per statement.
func TestSnowflakeStatementsGolden(t *testing.T) {
	names := make([]string, 0, len(snowStatements))
	for n := range snowStatements {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for _, n := range names {
		golden(t, n+".sql", snowStatement(n, goldenTokens)+"\n")
		seen[n+".sql"] = true
	}
	migs, err := warehouse.Migrations(warehouse.DialectSnowflake)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migs {
		var b strings.Builder
		for i, s := range warehouse.SplitStatements(snowRender(m.SQL, goldenTokens)) {
			b.WriteString("-- statement " + strconv.Itoa(i+1) + "\n" + s + ";\n")
		}
		golden(t, "migration_"+m.Version+".sql", b.String())
		seen["migration_"+m.Version+".sql"] = true
	}
	// A golden file without a statement is a statement the code stopped sending.
	files, _ := filepath.Glob(filepath.Join("testdata", "snowflake", "*.sql"))
	for _, f := range files {
		if !seen[filepath.Base(f)] && !goldenfile.Updating() {
			t.Errorf("%s pins no statement any more: delete it", f)
		}
	}
}

func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestSnowflakeMergeIsOneDefinition holds the STAGING view, the activity's
// merge and the native task's MERGE to the same expressions.
func TestSnowflakeMergeIsOneDefinition(t *testing.T) {
	migs, err := warehouse.Migrations(warehouse.DialectSnowflake)
	if err != nil {
		t.Fatal(err)
	}
	script := normalize(migs[0].SQL)
	view := normalize("SELECT " + snowFlatColumns + " FROM {{DATABASE}}.RAW.ORDERS_EVENTS;")
	if !strings.Contains(script, view) {
		t.Errorf("STAGING.ORDERS_EVENTS_FLAT does not select snowFlatColumns:\n%s", view)
	}
	// The task deployed is the last one created (0005 renamed it; 0001's
	// copy is applied history and cannot change).
	var last string
	for _, m := range migs {
		if strings.Contains(m.SQL, "CREATE TASK") {
			last = normalize(m.SQL)
		}
	}
	if !strings.Contains(last, "CREATE TASK IF NOT EXISTS {{DATABASE}}.PROD.MERGE_ORDERS_TASK") {
		t.Errorf("the last migration creating a task does not create PROD.MERGE_ORDERS_TASK")
	}
	task := normalize(strings.Replace(snowMergeTemplate, "{{SOURCE}}",
		"SELECT "+snowFlatColumns+" FROM {{DATABASE}}.RAW.ORDERS_STREAM "+snowNewestPerOrder, 1))
	if !strings.Contains(last, "AS "+task+";") {
		t.Errorf("the task's MERGE differs from snowMergeTemplate over the stream:\n%s", task)
	}
	if !strings.Contains(normalize(snowStatements[snowMergeFill]), normalize(snowFlatColumns)) {
		t.Error("merge_source_fill does not flatten with snowFlatColumns")
	}
}

// TestSnowflakeNeverParsesJSONInsideValues guards the original design's
// defect: Snowflake refuses PARSE_JSON inside VALUES.
func TestSnowflakeNeverParsesJSONInsideValues(t *testing.T) {
	re := regexp.MustCompile(`(?is)VALUES\s*\([^)]*PARSE_JSON`)
	for n, s := range snowStatements {
		if re.MatchString(s) {
			t.Errorf("%s binds a VARIANT inside VALUES", n)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want warehouse.ErrorKind
	}{
		{&gosnowflake.SnowflakeError{Number: 390100, SQLState: "08004", Message: "Incorrect username or password was specified."}, warehouse.KindAuth},
		{&gosnowflake.SnowflakeError{Number: 390144, SQLState: "08004", Message: "JWT token is invalid."}, warehouse.KindAuth},
		{&gosnowflake.SnowflakeError{Number: 390114, SQLState: "08001", Message: "Authentication token has expired."}, warehouse.KindRetryable},
		{&gosnowflake.SnowflakeError{Number: 3001, SQLState: "42501", Message: "SQL access control error: Insufficient privileges"}, warehouse.KindPrivilege},
		{&gosnowflake.SnowflakeError{Number: 1003, SQLState: "42000", Message: "SQL compilation error: syntax error"}, warehouse.KindCompilation},
		{&gosnowflake.SnowflakeError{Number: 2003, SQLState: "42S02", Message: "Object 'RAW.ORDERS_EVENTS' does not exist or not authorized."}, warehouse.KindObjectMissing},
		{&gosnowflake.SnowflakeError{Number: 606, SQLState: "57P03", Message: "No active warehouse selected in the current session."}, warehouse.KindConfig},
		{&gosnowflake.SnowflakeError{Number: 630, SQLState: "57014", Message: "Statement reached its statement or warehouse timeout"}, warehouse.KindRetryable},
		{errors.New("dial tcp 127.0.0.1:443: connect: connection refused"), warehouse.KindRetryable},
	} {
		if got := Classify(c.err); got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
	missing := snowflakeError(snowOffsetGet, &gosnowflake.SnowflakeError{Number: 2003, SQLState: "42S02"})
	if !warehouse.IsSchemaMissing(missing) || !strings.Contains(missing.Error(), snowOffsetGet) {
		t.Errorf("object missing must read as schema missing and name the statement: %v", missing)
	}
}

func TestOpenSnowflakeRefusesBadIdentifiersBeforeConnecting(t *testing.T) {
	for _, o := range []Options{
		{Account: "a", User: "u", Password: "p", Database: "DB; DROP DATABASE X", Warehouse: "WH", Schema: "RAW"},
		{Account: "a", User: "u", Password: "p", Database: "DB", Warehouse: `W"H`, Schema: "RAW"},
		{Account: "a", User: "u", Password: "p", Database: "DB", Warehouse: "WH", Schema: "RAW", Role: "R-1"},
	} {
		_, err := Open(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "not a plain SQL identifier") {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestRefusedLoginNamesAccountAndUserNotSecret answers the login the way
// Snowflake refuses one (a 200 with success false and code 390100).
func TestRefusedLoginNamesAccountAndUserNotSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/session/v1/login-request") {
			_, _ = w.Write([]byte(`{"data":{"nextAction":null,"authnMethod":"USERNAME_PASSWORD"},"code":"390100","message":"Incorrect username or password was specified.","success":false}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	secret := "s3cret-Pa55"
	_, err := Open(context.Background(), Options{
		Account: "acme", User: "loader", Password: secret, Database: "DB", Warehouse: "WH", Schema: "RAW",
		Host: "127.0.0.1", Port: port, Protocol: "http",
	})
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("want ConnectError, got %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "account acme") || !strings.Contains(msg, "user loader") || strings.Contains(msg, secret) {
		t.Errorf("error must name account and user, never the password: %s", msg)
	}
	if Classify(err) != warehouse.KindAuth {
		t.Errorf("a refused password is an authentication error: %s", msg)
	}
	t.Log(msg)
	if strings.Count(msg, "\n") > 0 {
		t.Errorf("want one line: %q", msg)
	}
}

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.p8")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrivateKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := x509.MarshalPKCS8PrivateKey(key)
	if k, err := LoadPrivateKey(writePEM(t, "PRIVATE KEY", plain), ""); err != nil || !k.Equal(key) {
		t.Fatalf("PKCS#8: %v", err)
	}
	enc, err := pkcs8.MarshalPrivateKey(key, []byte("open sesame"), nil)
	if err != nil {
		t.Fatal(err)
	}
	encPath := writePEM(t, "ENCRYPTED PRIVATE KEY", enc)
	if k, err := LoadPrivateKey(encPath, "open sesame"); err != nil || !k.Equal(key) {
		t.Fatalf("encrypted PKCS#8: %v", err)
	}
	for pass, want := range map[string]string{"": "SNOW_PRIVATE_KEY_PASSPHRASE", "wrong": "cannot decrypt"} {
		if _, err := LoadPrivateKey(encPath, pass); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("passphrase %q: %v", pass, err)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	if _, err := LoadPrivateKey(writePEM(t, "PRIVATE KEY", ecDER), ""); err == nil || !strings.Contains(err.Error(), "needs RSA") {
		t.Errorf("EC key: %v", err)
	}
	if _, err := LoadPrivateKey(filepath.Join(t.TempDir(), "none.p8"), ""); err == nil || !strings.Contains(err.Error(), "SNOW_PRIVATE_KEY_PATH") {
		t.Errorf("missing file: %v", err)
	}
}

func TestQueryTagNamesWorkflowAndActivity(t *testing.T) {
	ctx := warehouse.WithQueryTag(context.Background(), warehouse.QueryTag{Workflow: "MergeOrders", WorkflowID: "MergeOrders-nudged", Activity: "MergeRawToProd"})
	got := warehouse.QueryTagFrom(ctx).String()
	want := `{"app":"dropflow","workflow":"MergeOrders","workflow_id":"MergeOrders-nudged","activity":"MergeRawToProd"}`
	if got != want {
		t.Errorf("tag %s, want %s", got, want)
	}
	if d := warehouse.QueryTagFrom(context.Background()).String(); d != `{"app":"dropflow","component":"dropflow"}` {
		t.Errorf("default tag %s", d)
	}
}
