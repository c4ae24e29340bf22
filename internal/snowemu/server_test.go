package snowemu

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/snowflakedb/gosnowflake"
)

// connect opens an unmodified gosnowflake pool on the server.
func connect(t *testing.T, s *Server, mut func(*gosnowflake.Config)) *sql.DB {
	t.Helper()
	cfg := gosnowflake.Config{Account: "local", User: "dropflow", Password: "pw", Host: "127.0.0.1", Port: s.Port(), Protocol: "http",
		Database: "TESTDB", Schema: "PUBLIC", ValidateDefaultParameters: gosnowflake.ConfigBoolFalse, MaxRetryCount: 1}
	if mut != nil {
		mut(&cfg)
	}
	db := sql.OpenDB(gosnowflake.NewConnector(gosnowflake.SnowflakeDriver{}, cfg))
	db.SetMaxOpenConns(1) // one session: temporary tables and transactions are per session
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) sql.Result {
	t.Helper()
	r, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

func snowErr(t *testing.T, err error, code int) *gosnowflake.SnowflakeError {
	t.Helper()
	var se *gosnowflake.SnowflakeError
	if !errors.As(err, &se) || se.Number != code {
		t.Fatalf("want Snowflake error %d, got %v", code, err)
	}
	return se
}

func withDB(t *testing.T) (*Server, *sql.DB) {
	s := startTest(t)
	db := connect(t, s, nil)
	exec(t, db, "CREATE DATABASE IF NOT EXISTS TESTDB")
	return s, db
}

// https://docs.snowflake.com/en/user-guide/admin-user-management (passwords):
// a wrong password or unknown user is refused with 390100, never accepted.
func TestLoginRefusesBadPasswordAndUnknownUser(t *testing.T) {
	s := startTest(t)
	for _, cfg := range []func(*gosnowflake.Config){
		func(c *gosnowflake.Config) { c.Password = "wrong" },
		func(c *gosnowflake.Config) { c.User = "mallory" },
		func(c *gosnowflake.Config) { c.Account = "other" },
	} {
		snowErr(t, connect(t, s, cfg).Ping(), 390100)
	}
	if err := connect(t, s, nil).Ping(); err != nil {
		t.Fatalf("good password refused: %v", err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("must bind to 127.0.0.1 only, got %s", s.Addr())
	}
}

// https://docs.snowflake.com/en/user-guide/key-pair-auth: the JWT must be
// signed by the key registered for the user and not be expired.
func TestKeyPairLogin(t *testing.T) {
	good, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	s := startTest(t, User{Name: "dropflow", Key: &good.PublicKey})
	jwtCfg := func(k *rsa.PrivateKey, expire time.Duration) func(*gosnowflake.Config) {
		return func(c *gosnowflake.Config) {
			//lint:ignore SA1019 the only way to make the driver sign an expired token
			c.Password, c.Authenticator, c.PrivateKey, c.JWTExpireTimeout = "", gosnowflake.AuthTypeJwt, k, expire
		}
	}
	if err := connect(t, s, jwtCfg(good, time.Minute)).Ping(); err != nil {
		t.Fatalf("good key refused: %v", err)
	}
	snowErr(t, connect(t, s, jwtCfg(other, time.Minute)).Ping(), 390144)
	snowErr(t, connect(t, s, jwtCfg(good, -time.Minute)).Ping(), 390144)
	// A key-pair user has no password to guess.
	snowErr(t, connect(t, s, func(c *gosnowflake.Config) { c.Password = "" + "x" }).Ping(), 390100)
}

// https://docs.snowflake.com/en/sql-reference/intro-summary-data-types and the
// driver's type mapping (https://pkg.go.dev/github.com/snowflakedb/gosnowflake,
// "Supported Data Types"): values come back typed, NULL as NULL.
func TestResultEncodings(t *testing.T) {
	_, db := withDB(t)
	rows, err := db.Query(`SELECT NULL AS n, 42 AS i, CAST(12.5 AS NUMBER(12, 2)) AS d, 'text' AS s, TRUE AS b,
  CAST('2026-01-31 12:34:56.789' AS TIMESTAMP_NTZ) AS ts, CAST('2026-01-31' AS DATE) AS dt, PARSE_JSON('{"a": [1, 2]}') AS v, 1.5::FLOAT AS f`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if strings.Join(cols, ",") != "N,I,D,S,B,TS,DT,V,F" {
		t.Fatalf("columns %v", cols)
	}
	rows.Next()
	var n sql.NullString
	var i int64
	var d, s, v string
	var b bool
	var ts, dt time.Time
	var f float64
	if err := rows.Scan(&n, &i, &d, &s, &b, &ts, &dt, &v, &f); err != nil {
		t.Fatal(err)
	}
	if n.Valid || i != 42 || d != "12.50" || s != "text" || !b || f != 1.5 || v != `{"a":[1,2]}` {
		t.Fatalf("n=%v i=%d d=%s s=%s b=%v f=%v v=%s", n, i, d, s, b, f, v)
	}
	if !ts.Equal(time.Date(2026, 1, 31, 12, 34, 56, 789e6, time.UTC)) || !dt.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ts=%v dt=%v", ts, dt)
	}
}

// https://pkg.go.dev/github.com/snowflakedb/gosnowflake ("Binding Parameters",
// "Binding Parameters to Array Variables"): positional and array binds run for
// real, and RowsAffected counts the rows.
func TestBindsAndRowsAffected(t *testing.T) {
	_, db := withDB(t)
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.T (ID BIGINT NOT NULL PRIMARY KEY, NAME STRING, V VARIANT, TS TIMESTAMP_NTZ)")
	ids, names, docs := []int64{1, 2, 3}, []string{"a", "b", "c"}, []string{`{"k":1}`, `{"k":2}`, `{"k":3}`}
	r := exec(t, db, "INSERT INTO TESTDB.PUBLIC.T (ID, NAME, V, TS) SELECT ?, ?, PARSE_JSON(?), ?", gosnowflake.Array(&ids), gosnowflake.Array(&names), gosnowflake.Array(&docs), time.Now().UTC())
	if n, _ := r.RowsAffected(); n != 3 {
		t.Fatalf("array insert affected %d", n)
	}
	// Snowflake does not enforce primary keys.
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.T (ID, NAME) SELECT ?, ?", 1, "dup")
	if n, _ := exec(t, db, "UPDATE TESTDB.PUBLIC.T SET NAME = ? WHERE ID = ?", "z", 1).RowsAffected(); n != 2 {
		t.Fatalf("update affected %d", n)
	}
	if n, _ := exec(t, db, `MERGE INTO TESTDB.PUBLIC.T t USING (SELECT 4 AS ID, 'd' AS NAME) s ON t.ID = s.ID
WHEN NOT MATCHED THEN INSERT (ID, NAME) VALUES (s.ID, s.NAME)`).RowsAffected(); n != 1 {
		t.Fatalf("merge affected %d", n)
	}
	if n, _ := exec(t, db, "DELETE FROM TESTDB.PUBLIC.T WHERE ID = ?", 1).RowsAffected(); n != 2 {
		t.Fatalf("delete affected %d", n)
	}
	var k string
	if err := db.QueryRow("SELECT V:k::STRING FROM TESTDB.PUBLIC.T WHERE NAME = ?", "c").Scan(&k); err != nil || k != "3" {
		t.Fatalf("path read %q %v", k, err)
	}
}

// https://docs.snowflake.com/en/sql-reference/sql/insert (usage notes):
// PARSE_JSON inside VALUES is refused, as the original design learned.
func TestParseJSONInsideValuesFails(t *testing.T) {
	_, db := withDB(t)
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.J (V VARIANT)")
	_, err := db.Exec(`INSERT INTO TESTDB.PUBLIC.J (V) VALUES (PARSE_JSON('{"a":1}'))`)
	se := snowErr(t, err, 2014)
	if !strings.Contains(se.Message, "VALUES clause") {
		t.Fatalf("message %q", se.Message)
	}
	exec(t, db, `INSERT INTO TESTDB.PUBLIC.J (V) SELECT PARSE_JSON('{"a":1}')`)
}

// Anything the emulator does not know fails like Snowflake's compilation
// errors, naming the statement; nothing is silently accepted.
func TestUnsupportedStatementsFail(t *testing.T) {
	_, db := withDB(t)
	for _, q := range []string{"SHOW TABLES", "CREATE SEQUENCE S1", "GRANT ROLE R TO USER U", "SELECT 1; SELECT 2"} {
		_, err := db.Exec(q)
		se := snowErr(t, err, 1003)
		if se.SQLState != "42000" || !strings.Contains(se.Message, "SQL compilation error") {
			t.Errorf("%s: %v", q, se)
		}
	}
	_, err := db.Exec("SELECT * FROM TESTDB.PUBLIC.NOPE")
	snowErr(t, err, 2003)
}

// https://docs.snowflake.com/en/user-guide/streams-intro#data-flow: a
// stream's offset advances only when a DML transaction that reads it
// commits; a rollback leaves the rows; SYSTEM$STREAM_HAS_DATA does not consume.
func TestStreamOffsetMovesOnlyOnCommit(t *testing.T) {
	_, db := withDB(t)
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.SRC (ID BIGINT)")
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.DST (ID BIGINT)")
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.SRC (ID) SELECT 0") // before the stream: not in it
	exec(t, db, "CREATE STREAM IF NOT EXISTS TESTDB.PUBLIC.S ON TABLE TESTDB.PUBLIC.SRC APPEND_ONLY = TRUE")
	has := func() bool {
		var b bool
		if err := db.QueryRow("SELECT SYSTEM$STREAM_HAS_DATA('TESTDB.PUBLIC.S')").Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if has() {
		t.Fatal("rows inserted before the stream must not be in it")
	}
	ids := []int64{1, 2}
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.SRC (ID) SELECT ?", gosnowflake.Array(&ids))
	first, second := has(), has()
	if !first || !second {
		t.Fatal("the stream has data, and checking does not consume it")
	}
	exec(t, db, "BEGIN")
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.DST (ID) SELECT ID FROM TESTDB.PUBLIC.S")
	exec(t, db, "ROLLBACK")
	if !has() {
		t.Fatal("a rolled-back DML must leave the stream's offset")
	}
	exec(t, db, "BEGIN")
	exec(t, db, `MERGE INTO TESTDB.PUBLIC.DST d USING (SELECT ID FROM TESTDB.PUBLIC.S) s ON d.ID = s.ID
WHEN NOT MATCHED THEN INSERT (ID) VALUES (s.ID)`)
	exec(t, db, "ROLLBACK")
	if !has() {
		t.Fatal("a rolled-back MERGE must leave the stream's offset")
	}
	exec(t, db, "BEGIN")
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.DST (ID) SELECT ID FROM TESTDB.PUBLIC.S")
	exec(t, db, "COMMIT")
	if has() {
		t.Fatal("a committed DML must consume the stream")
	}
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.SRC (ID) SELECT 3")
	var n, sum int64
	if err := db.QueryRow("SELECT count(*), sum(ID) FROM TESTDB.PUBLIC.S").Scan(&n, &sum); err != nil || n != 1 || sum != 3 {
		t.Fatalf("stream after consumption: %d rows, sum %d, %v", n, sum, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM TESTDB.PUBLIC.DST").Scan(&n); err != nil || n != 2 {
		t.Fatalf("DST has %d rows", n)
	}
}

// https://docs.snowflake.com/en/sql-reference/sql/create-task: tasks are
// created suspended, stored with schedule, condition and body, and ALTER
// TASK … RESUME / SUSPEND changes their state.
func TestTasksStoredSuspended(t *testing.T) {
	s, db := withDB(t)
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.SRC (ID BIGINT)")
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.DST (ID BIGINT)")
	exec(t, db, "CREATE STREAM IF NOT EXISTS TESTDB.PUBLIC.S ON TABLE TESTDB.PUBLIC.SRC APPEND_ONLY = TRUE")
	exec(t, db, `CREATE TASK IF NOT EXISTS TESTDB.PUBLIC.T1 WAREHOUSE = WH SCHEDULE = '1 MINUTE'
  WHEN SYSTEM$STREAM_HAS_DATA('TESTDB.PUBLIC.S') AS INSERT INTO TESTDB.PUBLIC.DST (ID) SELECT ID FROM TESTDB.PUBLIC.S`)
	state := func() Task {
		ts, err := s.Tasks(context.Background())
		if err != nil || len(ts) != 1 {
			t.Fatalf("%v %v", ts, err)
		}
		return ts[0]
	}
	if tk := state(); tk.State != "suspended" || tk.Schedule != "1 MINUTE" || !strings.Contains(tk.Condition, "SYSTEM$STREAM_HAS_DATA") || !strings.HasPrefix(tk.Definition, "INSERT INTO") {
		t.Fatalf("%+v", tk)
	}
	exec(t, db, "ALTER TASK TESTDB.PUBLIC.T1 RESUME")
	if state().State != "started" {
		t.Fatal("RESUME must start the task")
	}
	exec(t, db, "ALTER TASK TESTDB.PUBLIC.T1 SUSPEND")
	if state().State != "suspended" {
		t.Fatal("SUSPEND must suspend the task")
	}
	_, err := db.Exec(`CREATE TASK TESTDB.PUBLIC.T2 WAREHOUSE = WH SCHEDULE = '1 MINUTE' AS INSERT INTO TESTDB.PUBLIC.NOPE SELECT 1`)
	snowErr(t, err, 2003)
	// Without IF NOT EXISTS or OR REPLACE, an existing task is an error.
	_, err = db.Exec(`CREATE TASK TESTDB.PUBLIC.T1 WAREHOUSE = WH SCHEDULE = '5 MINUTE' AS INSERT INTO TESTDB.PUBLIC.DST (ID) SELECT 1`)
	snowErr(t, err, 2002)
	exec(t, db, `CREATE OR REPLACE TASK TESTDB.PUBLIC.T1 WAREHOUSE = WH SCHEDULE = '5 MINUTE' AS INSERT INTO TESTDB.PUBLIC.DST (ID) SELECT 1`)
	if tk := state(); tk.Schedule != "5 MINUTE" || tk.State != "suspended" {
		t.Fatalf("OR REPLACE: %+v", tk)
	}
	// DROP TASK removes it; again with IF EXISTS is no error, without it 2003.
	exec(t, db, "DROP TASK TESTDB.PUBLIC.T1")
	if ts, err := s.Tasks(context.Background()); err != nil || len(ts) != 0 {
		t.Fatalf("after DROP TASK: %v %v", ts, err)
	}
	exec(t, db, "DROP TASK IF EXISTS TESTDB.PUBLIC.T1")
	_, err = db.Exec("DROP TASK TESTDB.PUBLIC.T1")
	snowErr(t, err, 2003)
}

// https://docs.snowflake.com/en/sql-reference/functions/query_history: each
// statement is listed with its query tag.
func TestQueryHistoryShowsQueryTags(t *testing.T) {
	_, db := withDB(t)
	ctx := gosnowflake.WithQueryTag(context.Background(), `{"app":"dropflow","workflow":"MergeOrders"}`)
	if _, err := db.ExecContext(ctx, "SELECT 42"); err != nil {
		t.Fatal(err)
	}
	exec(t, db, "ALTER SESSION SET QUERY_TAG = 'session-tag'")
	exec(t, db, "SELECT 43")
	rows, err := db.Query(`SELECT query_text, query_tag, execution_status FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY()) WHERE query_text LIKE 'SELECT 4%' ORDER BY start_time`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var q, tag, st string
		if err := rows.Scan(&q, &tag, &st); err != nil {
			t.Fatal(err)
		}
		got = append(got, q+"|"+tag+"|"+st)
	}
	want := []string{`SELECT 42|{"app":"dropflow","workflow":"MergeOrders"}|SUCCESS`, "SELECT 43|session-tag|SUCCESS"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s", strings.Join(got, "\n"))
	}
}

// https://docs.snowflake.com/en/sql-reference/transactions: BEGIN … ROLLBACK
// leaves nothing; DDL commits an open transaction.
func TestTransactions(t *testing.T) {
	_, db := withDB(t)
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.X (ID BIGINT)")
	exec(t, db, "BEGIN")
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.X (ID) SELECT 1")
	exec(t, db, "ROLLBACK")
	exec(t, db, "BEGIN")
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.X (ID) SELECT 2")
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.Y (ID BIGINT)") // commits the INSERT
	exec(t, db, "ROLLBACK")
	var n, id int64
	if err := db.QueryRow("SELECT count(*), max(ID) FROM TESTDB.PUBLIC.X").Scan(&n, &id); err != nil || n != 1 || id != 2 {
		t.Fatalf("%d rows, max %d, %v", n, id, err)
	}
}

// https://docs.snowflake.com/en/sql-reference/identifiers-syntax: unquoted
// identifiers are stored and returned in upper case.
func TestIdentifiersFoldToUpperCase(t *testing.T) {
	_, db := withDB(t)
	exec(t, db, "create table if not exists testdb.public.lower_case (order_id bigint, status string)")
	exec(t, db, "INSERT INTO TESTDB.PUBLIC.LOWER_CASE (ORDER_ID, STATUS) SELECT 1, 'paid'")
	rows, err := db.Query("select order_id, status from Testdb.Public.Lower_Case")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if strings.Join(cols, ",") != "ORDER_ID,STATUS" {
		t.Fatalf("columns %v", cols)
	}
}

// https://docs.snowflake.com/en/sql-reference/sql/put,
// https://docs.snowflake.com/en/sql-reference/sql/copy-into-table (load
// metadata, FORCE) and https://docs.snowflake.com/en/sql-reference/sql/remove.
func TestPutCopyRemoveWithLoadMetadata(t *testing.T) {
	_, db := withDB(t)
	exec(t, db, "CREATE STAGE IF NOT EXISTS TESTDB.PUBLIC.ST")
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.C (ID BIGINT, NAME STRING, AT_TS TIMESTAMP_NTZ)")
	csv := t.TempDir() + "/c.csv"
	if err := os.WriteFile(csv, []byte("id,name,at_ts\n1,\"a, b\",2026-01-31T12:00:00Z\n2,,2026-02-01T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exec(t, db, "PUT 'file://"+csv+"' @TESTDB.PUBLIC.ST/in/ AUTO_COMPRESS = TRUE OVERWRITE = TRUE")
	copyInto := func(force string) int64 {
		exec(t, db, `COPY INTO TESTDB.PUBLIC.C (ID, NAME, AT_TS) FROM @TESTDB.PUBLIC.ST/in/
FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '"' EMPTY_FIELD_AS_NULL = TRUE)`+force)
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM TESTDB.PUBLIC.C").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := copyInto(""); n != 2 {
		t.Fatalf("first COPY loaded %d rows", n)
	}
	var name sql.NullString
	var at time.Time
	if err := db.QueryRow("SELECT NAME, AT_TS FROM TESTDB.PUBLIC.C WHERE ID = 1").Scan(&name, &at); err != nil || name.String != "a, b" || !at.Equal(time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("row 1: %v %v %v", name, at, err)
	}
	if err := db.QueryRow("SELECT NAME FROM TESTDB.PUBLIC.C WHERE ID = 2").Scan(&name); err != nil || name.Valid {
		t.Fatalf("an empty field is NULL: %v %v", name, err)
	}
	if n := copyInto(""); n != 2 {
		t.Fatalf("a file already loaded is skipped without FORCE: %d rows", n)
	}
	if n := copyInto(" FORCE = TRUE"); n != 4 {
		t.Fatalf("FORCE reloads: %d rows", n)
	}
	exec(t, db, "REMOVE @TESTDB.PUBLIC.ST/in/")
	if n := copyInto(" FORCE = TRUE"); n != 4 {
		t.Fatalf("after REMOVE nothing is left to load: %d rows", n)
	}
	_, err := db.Exec("COPY INTO TESTDB.PUBLIC.C FROM @TESTDB.PUBLIC.ST FILE_FORMAT = (TYPE = PARQUET)")
	snowErr(t, err, 1003)
}

// https://docs.snowflake.com/en/sql-reference/sql/create-warehouse and
// https://docs.snowflake.com/en/sql-reference/sql/use: warehouses are
// recorded and the session's warehouse, database and schema follow USE.
func TestWarehouseAndUse(t *testing.T) {
	_, db := withDB(t)
	exec(t, db, "CREATE WAREHOUSE IF NOT EXISTS WH2 WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60")
	exec(t, db, "CREATE SCHEMA IF NOT EXISTS TESTDB.OTHER")
	exec(t, db, "USE WAREHOUSE WH2")
	exec(t, db, "USE SCHEMA TESTDB.OTHER")
	exec(t, db, "CREATE TABLE IF NOT EXISTS HERE (ID BIGINT)")
	exec(t, db, "SELECT count(*) FROM TESTDB.OTHER.HERE")
	var wh, sc string
	if err := db.QueryRow(`SELECT warehouse_name, schema_name FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY()) WHERE query_text LIKE 'SELECT count(*) FROM TESTDB.OTHER.HERE'`).Scan(&wh, &sc); err != nil || wh != "WH2" || sc != "OTHER" {
		t.Fatalf("warehouse %q schema %q %v", wh, sc, err)
	}
	_, err := db.Exec("USE DATABASE NOPE")
	snowErr(t, err, 2003)
}

// The emulator runs on DuckDB but refuses the SQL that only DuckDB knows, so
// that a DuckDB-ism in the Snowflake path fails here as it would on an
// account (https://docs.snowflake.com/en/sql-reference-functions).
func TestDuckDBOnlySQLIsRefused(t *testing.T) {
	_, db := withDB(t)
	exec(t, db, "CREATE TABLE IF NOT EXISTS TESTDB.PUBLIC.D (ID BIGINT, J VARIANT)")
	for q, code := range map[string]int{
		"SELECT strftime(SYSDATE(), '%Y')":                                 2140,
		"SELECT epoch(SYSDATE())":                                          2140,
		"SELECT * FROM read_csv('/etc/passwd')":                            2140,
		"SELECT json_extract_string(J, '$.a') FROM TESTDB.PUBLIC.D":        2140,
		"SELECT J ->> 'a' FROM TESTDB.PUBLIC.D":                            1003,
		"SELECT count(*) FILTER (WHERE ID > 1) FROM TESTDB.PUBLIC.D":       1003,
		"SELECT * FROM TESTDB.PUBLIC.D USING SAMPLE 10 ROWS":               1003,
		"INSERT OR REPLACE INTO TESTDB.PUBLIC.D (ID) SELECT 1":             1003,
		"INSERT INTO TESTDB.PUBLIC.D (ID) SELECT 1 ON CONFLICT DO NOTHING": 1003,
		"PRAGMA database_list":                                             1003,
		"SELECT * FROM snowemu.emu.query_history":                          2003,
	} {
		_, err := db.Exec(q)
		var se *gosnowflake.SnowflakeError
		if !errors.As(err, &se) || se.Number != code {
			t.Errorf("%s: want %d, got %v", q, code, err)
		}
	}
	// Snowflake's own spellings pass.
	exec(t, db, "SELECT COUNT_IF(ID > 1), TO_CHAR(SYSDATE(), 'YYYY-MM-DD'), DATEDIFF(millisecond, SYSDATE(), SYSDATE()), DATEDIFF('day', SYSDATE(), SYSDATE()) FROM TESTDB.PUBLIC.D")
}
