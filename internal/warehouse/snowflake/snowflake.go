// Package snowflake is the Snowflake adapter, through gosnowflake, behind
// warehouse's interfaces: its statements named in sql.go and pinned by
// golden files, its driver errors classified into warehouse's kinds.
package snowflake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowflakedb/gosnowflake"
	"github.com/youmark/pkcs8"

	"github.com/dropflow/dropflow/internal/ident"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// Options configure the Snowflake warehouse (the SNOW_* variables).
type Options struct {
	Account, User, Password string
	// PrivateKeyPath selects key-pair (JWT) login: a PKCS#8 PEM file,
	// encrypted with PrivateKeyPassphrase if set.
	PrivateKeyPath, PrivateKeyPassphrase string
	Role, Warehouse, Database, Schema    string
	// Host, Port, Protocol: an explicit endpoint; empty means the account's
	// snowflakecomputing.com host over https.
	Host     string
	Port     int
	Protocol string
	// StageThreshold: batches of at least this many events go through PUT +
	// COPY INTO; smaller ones through INSERT … SELECT with array binding.
	StageThreshold int
	// MergeDriver: "temporal" (MergeOrders merges) or "task" (the native task does).
	MergeDriver string
	// TempDir holds the gzip NDJSON files of staged batches (default os.TempDir()).
	TempDir string
	// Transporter replaces the driver's HTTP transport (tests).
	Transporter http.RoundTripper
}

// Merge drivers.
const (
	MergeDriverTemporal = "temporal"
	MergeDriverTask     = "task"
)

// DefaultStageThreshold is where batch loads switch from INSERT … SELECT to
// PUT + COPY INTO, in events (SNOW_STAGE_THRESHOLD).
const DefaultStageThreshold = 2000

// Warehouse is the production warehouse, through gosnowflake.
type Warehouse struct {
	db     *sql.DB
	o      Options
	tokens map[string]string
	// process names this adapter's transactions outside activities.
	process string
	// noDB is set while the database did not exist at the last look
	// (watchDatabase); lastDBCheck is when that was, in Unix nanoseconds.
	noDB        atomic.Bool
	lastDBCheck atomic.Int64
	// swept holds the retried activity attempts that already aborted their
	// predecessors' transactions.
	swept sync.Map
}

// ConnectError is a refused connection: it names the account and user,
// never the password or key.
type ConnectError struct {
	Account, User string
	Err           error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("warehouse: Snowflake refused the connection for account %s, user %s (%s): %v", e.Account, e.User, Classify(e.Err), e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// Open validates the options, logs in and checks the session.
func Open(ctx context.Context, o Options) (*Warehouse, error) {
	cfg, err := snowflakeConfig(o)
	if err != nil {
		return nil, err
	}
	if o.StageThreshold <= 0 {
		o.StageThreshold = DefaultStageThreshold
	}
	if o.MergeDriver == "" {
		o.MergeDriver = MergeDriverTemporal
	}
	if o.MergeDriver != MergeDriverTemporal && o.MergeDriver != MergeDriverTask {
		return nil, fmt.Errorf("warehouse: SNOW_MERGE_DRIVER=%q: want temporal or task", o.MergeDriver)
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	db := sql.OpenDB(gosnowflake.NewConnector(gosnowflake.SnowflakeDriver{}, *cfg))
	// Sessions are recycled, so that one opened before the first deploy
	// created the database does not stay without it for long.
	db.SetConnMaxLifetime(10 * time.Minute)
	proc := make([]byte, 6)
	_, _ = rand.Read(proc)
	s := &Warehouse{db: db, o: o, process: strings.ToUpper(hex.EncodeToString(proc)), tokens: map[string]string{"DATABASE": strings.ToUpper(o.Database), "WAREHOUSE": strings.ToUpper(o.Warehouse)}}
	if err := db.PingContext(tagged(ctx, warehouse.QueryTag{Component: "connect"})); err != nil {
		db.Close()
		return nil, &ConnectError{Account: o.Account, User: o.User, Err: scrub(err, o.Password)}
	}
	s.watchDatabase(ctx)
	return s, nil
}

// pooledSessions is how many idle sessions the adapter keeps (database/sql's default).
const pooledSessions = 2

// watchDatabase handles a worker started before the first deploy created
// the database: Snowflake logs such a session in without a current
// database, and it keeps none even once another worker's deploy creates it,
// so its unqualified reads (validation, dashboard) would fail. While the
// database is missing, sessions are not pooled (each statement logs in
// anew, and sees the database as soon as it exists); once it exists,
// pooling resumes with sessions that have it.
func (s *Warehouse) watchDatabase(ctx context.Context) {
	s.lastDBCheck.Store(time.Now().UnixNano())
	var n int64
	err := s.db.QueryRowContext(tagged(ctx, warehouse.QueryTag{Component: "connect"}), s.stmt(snowDatabaseReady, nil)).Scan(&n)
	switch {
	case err == nil && s.noDB.Swap(false):
		s.db.SetMaxIdleConns(pooledSessions)
	case err != nil && !s.noDB.Swap(true):
		s.db.SetMaxIdleConns(0)
	}
}

// snowflakeConfig builds the driver configuration; identifiers are checked
// here as well as in config, because they are spliced into SQL text.
func snowflakeConfig(o Options) (*gosnowflake.Config, error) {
	if o.Account == "" || o.User == "" {
		return nil, errors.New("warehouse: SNOW_ACCOUNT and SNOW_USER are required for the Snowflake warehouse")
	}
	for _, c := range []struct{ name, value string }{{"SNOW_DATABASE", o.Database}, {"SNOW_WAREHOUSE", o.Warehouse}, {"SNOW_SCHEMA", o.Schema}, {"SNOW_ROLE", o.Role}} {
		if c.value == "" && c.name == "SNOW_ROLE" {
			continue // the user's default role
		}
		if err := ident.Check(c.name, c.value); err != nil {
			return nil, fmt.Errorf("warehouse: %w", err)
		}
	}
	cfg := &gosnowflake.Config{
		Account: o.Account, User: o.User,
		Role: o.Role, Warehouse: o.Warehouse, Database: o.Database, Schema: o.Schema,
		Host: o.Host, Port: o.Port, Protocol: o.Protocol,
		Application: "Dropflow",
		// The database does not exist before the first deploy, which creates it.
		ValidateDefaultParameters: gosnowflake.ConfigBoolFalse,
		Transporter:               o.Transporter,
	}
	switch {
	case o.PrivateKeyPath != "":
		key, err := LoadPrivateKey(o.PrivateKeyPath, o.PrivateKeyPassphrase)
		if err != nil {
			return nil, err
		}
		cfg.Authenticator = gosnowflake.AuthTypeJwt
		cfg.PrivateKey = key
	case o.Password != "":
		cfg.Password = o.Password
	default:
		return nil, errors.New("warehouse: set SNOW_PASSWORD or SNOW_PRIVATE_KEY_PATH for the Snowflake warehouse")
	}
	return cfg, nil
}

// LoadPrivateKey reads an RSA key for key-pair login: PKCS#8 PEM
// ("PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" with a passphrase) or PKCS#1.
func LoadPrivateKey(path, passphrase string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("warehouse: SNOW_PRIVATE_KEY_PATH: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("warehouse: SNOW_PRIVATE_KEY_PATH=%s is not a PEM file", path)
	}
	var key any
	switch blk.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		if passphrase == "" {
			return nil, fmt.Errorf("warehouse: SNOW_PRIVATE_KEY_PATH=%s is encrypted: set SNOW_PRIVATE_KEY_PASSPHRASE", path)
		}
		key, err = pkcs8.ParsePKCS8PrivateKey(blk.Bytes, []byte(passphrase))
		if err != nil {
			return nil, fmt.Errorf("warehouse: SNOW_PRIVATE_KEY_PATH=%s: cannot decrypt with SNOW_PRIVATE_KEY_PASSPHRASE: %w", path, err)
		}
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("warehouse: SNOW_PRIVATE_KEY_PATH=%s holds a %q PEM block, want PRIVATE KEY (PKCS#8)", path, blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("warehouse: SNOW_PRIVATE_KEY_PATH=%s: %w", path, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("warehouse: SNOW_PRIVATE_KEY_PATH=%s is a %T key; Snowflake key-pair login needs RSA", path, key)
	}
	return rk, nil
}

// scrub removes a secret from an error's text (defence in depth: the driver
// is not known to echo it).
func scrub(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "***"))
}

// Dialect returns "snowflake".
func (s *Warehouse) Dialect() string { return warehouse.DialectSnowflake }

// Close closes the connection pool (and the driver's sessions).
func (s *Warehouse) Close() error { return s.db.Close() }

// Ping checks the session answers.
func (s *Warehouse) Ping(ctx context.Context) error {
	if err := s.db.PingContext(s.tag(ctx)); err != nil {
		return snowflakeError("ping", err)
	}
	return nil
}

// Identity of a Snowflake warehouse: the account and database (and the
// explicit endpoint when one is set, as for a local emulator).
func (s *Warehouse) Identity(context.Context) (warehouse.Identity, error) {
	acct, db := strings.ToUpper(s.o.Account), strings.ToUpper(s.o.Database)
	where := fmt.Sprintf("Snowflake account %s, database %s", acct, db)
	key := "snowflake:" + acct + "/" + db
	if s.o.Host != "" {
		key += "@" + s.o.Host + ":" + fmt.Sprint(s.o.Port)
		where += fmt.Sprintf(" at %s:%d", s.o.Host, s.o.Port)
	}
	return warehouse.Identity{Key: key, Where: where}, nil
}
