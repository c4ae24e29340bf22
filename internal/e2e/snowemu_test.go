package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/dropflow/dropflow/internal/snowemu"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// withEmulator points the stack at a local Snowflake-protocol server: the
// worker and starter reach it through unmodified gosnowflake, over HTTP.
func withEmulator(t *testing.T, s *stack, keyPair bool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	emu, err := snowemu.Start(snowemu.Options{Dir: filepath.Join(s.dir, "snowemu"), Account: "local",
		Users: []snowemu.User{{Name: "dropflow", Password: "e2e-secret", Key: &key.PublicKey}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	o := warehouse.SnowflakeOptions{Account: "local", User: "dropflow", Database: "DROPSHIPPING_DB", Warehouse: "COMPUTE_WH", Schema: "RAW",
		Host: "127.0.0.1", Port: emu.Port(), Protocol: "http"}
	s.whEnv = []string{"WAREHOUSE=snowflake", "SNOW_ACCOUNT=local", "SNOW_USER=dropflow", "SNOW_HOST=127.0.0.1",
		"SNOW_PORT=" + strconv.Itoa(emu.Port()), "SNOW_PROTOCOL=http"}
	if keyPair {
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		path := filepath.Join(s.dir, "dropflow.p8")
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		o.PrivateKeyPath = path
		s.whEnv = append(s.whEnv, "SNOW_PRIVATE_KEY_PATH="+path, "SNOW_PASSWORD=")
	} else {
		o.Password = "e2e-secret"
		s.whEnv = append(s.whEnv, "SNOW_PASSWORD=e2e-secret", "SNOW_PRIVATE_KEY_PATH=")
	}
	s.openWH = func() warehouse.Warehouse {
		wh, err := warehouse.OpenSnowflake(context.Background(), o)
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
}

// TestPipelineOnSnowflakeEmulatorKeyPair does the same with a JWT login.
func TestPipelineOnSnowflakeEmulatorKeyPair(t *testing.T) {
	s := newStack(t)
	withEmulator(t, s, true)
	runPipeline(t, s)
}
