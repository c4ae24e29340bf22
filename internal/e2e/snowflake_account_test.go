package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/dropflow/dropflow/internal/config"
	"github.com/dropflow/dropflow/internal/warehouse"
	"github.com/dropflow/dropflow/internal/warehouse/snowflake"
)

// SnowflakeAccountSkip is what a run without an account prints: a skip is
// never a pass.
const SnowflakeAccountSkip = "SKIPPED, NOT A PASS: no Snowflake account configured; set SNOW_ACCOUNT, SNOW_USER and SNOW_PASSWORD or SNOW_PRIVATE_KEY_PATH (optionally SNOW_ROLE, SNOW_WAREHOUSE) and run `make test-snowflake`"

// TestPipelineOnSnowflakeAccount runs the whole pipeline against a real
// Snowflake account, in a database of its own (DROPFLOW_E2E_<random>) that
// it drops afterwards. Opt-in: it needs the SNOW_* variables.
func TestPipelineOnSnowflakeAccount(t *testing.T) {
	if os.Getenv("SNOW_ACCOUNT") == "" {
		t.Skip(SnowflakeAccountSkip)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	db := "DROPFLOW_E2E_" + strings.ToUpper(hex.EncodeToString(rnd[:]))
	env := []string{"WAREHOUSE=snowflake", "SNOW_DATABASE=" + db}
	cfg, err := config.Load(func(k string) (string, bool) {
		for _, kv := range env {
			if strings.HasPrefix(kv, k+"=") {
				return strings.TrimPrefix(kv, k+"="), true
			}
		}
		return os.LookupEnv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.Snowflake
	opts := snowflake.Options{Account: sc.Account, User: sc.User, Password: sc.Password,
		PrivateKeyPath: sc.PrivateKeyPath, PrivateKeyPassphrase: sc.PrivateKeyPassphrase, Role: sc.Role,
		Warehouse: sc.Warehouse, Database: sc.Database, Schema: sc.Schema, Host: sc.Host, Port: sc.Port, Protocol: sc.Protocol}
	t.Logf("running the pipeline on Snowflake account %s as %s in database %s", sc.Account, sc.User, db)
	t.Cleanup(func() { dropDatabase(t, opts, db) })

	s := newStack(t)
	s.whEnv = env
	s.openWH = func() warehouse.Warehouse {
		wh, err := snowflake.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return wh
	}
	runPipeline(t, s)
}

// dropDatabase removes the test's database with a connection of its own:
// Dropflow itself never drops anything.
func dropDatabase(t *testing.T, o snowflake.Options, db string) {
	cfg := &gosnowflake.Config{Account: o.Account, User: o.User, Password: o.Password, Role: o.Role, Warehouse: o.Warehouse,
		Host: o.Host, Port: o.Port, Protocol: o.Protocol}
	if o.PrivateKeyPath != "" {
		key, err := snowflake.LoadPrivateKey(o.PrivateKeyPath, o.PrivateKeyPassphrase)
		if err != nil {
			t.Errorf("drop %s: %v", db, err)
			return
		}
		cfg.Authenticator, cfg.PrivateKey, cfg.Password = gosnowflake.AuthTypeJwt, key, ""
	}
	conn := sql.OpenDB(gosnowflake.NewConnector(gosnowflake.SnowflakeDriver{}, *cfg))
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		t.Errorf("drop test database %s: %v", db, err)
	}
}
