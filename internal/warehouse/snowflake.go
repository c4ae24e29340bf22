package warehouse

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowflakedb/gosnowflake"
	"github.com/youmark/pkcs8"

	"github.com/dropflow/dropflow/internal/config"
	"github.com/dropflow/dropflow/internal/ident"
	"github.com/dropflow/dropflow/internal/params"
)

// SnowflakeOptions configure the Snowflake warehouse (the SNOW_* variables).
type SnowflakeOptions struct {
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

// SnowflakeOptionsFrom maps the SNOW_* settings onto the adapter's options.
func SnowflakeOptionsFrom(c config.Snowflake) SnowflakeOptions {
	return SnowflakeOptions{
		Account: c.Account, User: c.User, Password: c.Password,
		PrivateKeyPath: c.PrivateKeyPath, PrivateKeyPassphrase: c.PrivateKeyPassphrase,
		Role: c.Role, Warehouse: c.Warehouse, Database: c.Database, Schema: c.Schema,
		Host: c.Host, Port: c.Port, Protocol: c.Protocol,
		StageThreshold: c.StageThreshold, MergeDriver: c.MergeDriver,
	}
}

// Merge drivers.
const (
	MergeDriverTemporal = "temporal"
	MergeDriverTask     = "task"
)

// DefaultStageThreshold is where batch loads switch from INSERT … SELECT to
// PUT + COPY INTO, in events (SNOW_STAGE_THRESHOLD).
const DefaultStageThreshold = 2000

// Snowflake is the production warehouse, through gosnowflake.
type Snowflake struct {
	db     *sql.DB
	o      SnowflakeOptions
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
	return fmt.Sprintf("warehouse: Snowflake refused the connection for account %s, user %s (%s): %v", e.Account, e.User, ClassifySnowflake(e.Err), e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// OpenSnowflake validates the options, logs in and checks the session.
func OpenSnowflake(ctx context.Context, o SnowflakeOptions) (*Snowflake, error) {
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
	s := &Snowflake{db: db, o: o, process: strings.ToUpper(hex.EncodeToString(proc)), tokens: map[string]string{"DATABASE": strings.ToUpper(o.Database), "WAREHOUSE": strings.ToUpper(o.Warehouse)}}
	if err := db.PingContext(QueryTag{Component: "connect"}.apply(ctx)); err != nil {
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
func (s *Snowflake) watchDatabase(ctx context.Context) {
	s.lastDBCheck.Store(time.Now().UnixNano())
	var n int64
	err := s.db.QueryRowContext(QueryTag{Component: "connect"}.apply(ctx), s.stmt(snowDatabaseReady, nil)).Scan(&n)
	switch {
	case err == nil && s.noDB.Swap(false):
		s.db.SetMaxIdleConns(pooledSessions)
	case err != nil && !s.noDB.Swap(true):
		s.db.SetMaxIdleConns(0)
	}
}

// snowflakeConfig builds the driver configuration; identifiers are checked
// here as well as in config, because they are spliced into SQL text.
func snowflakeConfig(o SnowflakeOptions) (*gosnowflake.Config, error) {
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
func (s *Snowflake) Dialect() string { return DialectSnowflake }

// Close closes the connection pool (and the driver's sessions).
func (s *Snowflake) Close() error { return s.db.Close() }

// Ping checks the session answers.
func (s *Snowflake) Ping(ctx context.Context) error {
	if err := s.db.PingContext(s.tag(ctx)); err != nil {
		return snowflakeError("ping", err)
	}
	return nil
}

// tag attaches the Dropflow query tag of ctx (workflow, activity) to every statement.
func (s *Snowflake) tag(ctx context.Context) context.Context {
	if s.noDB.Load() && time.Since(time.Unix(0, s.lastDBCheck.Load())) > time.Second {
		s.watchDatabase(ctx)
	}
	return QueryTagFrom(ctx).apply(ctx)
}

// Query runs read-only SQL (validation, dashboard).
func (s *Snowflake) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	rows, err := s.db.QueryContext(s.tag(ctx), q, args...)
	if err != nil {
		s.dropIfSessionGone(s.db, err)
		return nil, snowflakeError("query", err)
	}
	return rows, nil
}

// QueryRow runs read-only SQL returning one row.
func (s *Snowflake) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(s.tag(ctx), q, args...)
}

// DialectQuery returns the Snowflake text of a dialect-specific read.
func (s *Snowflake) DialectQuery(name string) (string, bool) {
	switch name {
	case QueryDashboardDaily:
		return snowStatement(snowDashboardDailyQuery, s.tokens), true
	case QueryDashboardLastValidation:
		return snowStatement(snowDashboardLastReport, s.tokens), true
	}
	return "", false
}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exec runs a named statement; extra supplies the per-call tokens.
func (s *Snowflake) exec(ctx context.Context, q execQuerier, name string, extra map[string]string, args ...any) (sql.Result, error) {
	r, err := q.ExecContext(s.tag(ctx), s.stmt(name, extra), args...)
	if err != nil {
		s.dropIfSessionGone(q, err)
		return nil, snowflakeError(name, err)
	}
	return r, nil
}

// dropIfSessionGone discards sessions the server no longer knows (390111:
// it restarted, or an admin killed them). gosnowflake renews expired tokens
// but keeps such a session in the pool, and every retry would fail on it:
// the connection in hand is marked bad and the idle ones are closed, so the
// next statement logs in anew.
func (s *Snowflake) dropIfSessionGone(q execQuerier, err error) {
	var se *gosnowflake.SnowflakeError
	if !errors.As(err, &se) || se.Number != 390111 {
		return
	}
	if c, ok := q.(*sql.Conn); ok {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
	s.db.SetMaxIdleConns(0)
	if !s.noDB.Load() {
		s.db.SetMaxIdleConns(pooledSessions)
	}
}

func (s *Snowflake) queryRow(ctx context.Context, q execQuerier, name string, dst []any, args ...any) error {
	if err := q.QueryRowContext(s.tag(ctx), s.stmt(name, nil), args...).Scan(dst...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return err
		}
		s.dropIfSessionGone(q, err)
		return snowflakeError(name, err)
	}
	return nil
}

func (s *Snowflake) stmt(name string, extra map[string]string) string {
	if len(extra) == 0 {
		return snowStatement(name, s.tokens)
	}
	t := make(map[string]string, len(s.tokens)+len(extra))
	for k, v := range s.tokens {
		t[k] = v
	}
	for k, v := range extra {
		t[k] = v
	}
	return snowStatement(name, t)
}

// inTx runs fn between BEGIN and COMMIT on one session (temporary tables and
// transactions are per session). DDL commits implicitly on Snowflake, so
// callers create their temporary tables in before, outside the transaction.
func (s *Snowflake) inTx(ctx context.Context, before func(conn *sql.Conn) error, fn func(conn *sql.Conn) error) error {
	conn, err := s.db.Conn(s.tag(ctx))
	if err != nil {
		return snowflakeError("connect", err)
	}
	defer conn.Close()
	if before != nil {
		if err := before(conn); err != nil {
			return err
		}
	}
	if err := s.abortEarlierAttempts(ctx, conn); err != nil {
		return err
	}
	if _, err := s.exec(ctx, conn, snowBegin, map[string]string{"TXN": s.txnName(ctx)}); err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		if _, rbErr := s.exec(context.WithoutCancel(ctx), conn, snowRollback, nil); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	if _, err := s.exec(ctx, conn, snowCommit, nil); err != nil {
		_, _ = s.exec(context.WithoutCancel(ctx), conn, snowRollback, nil)
		return err
	}
	return nil
}

// Migrate applies the embedded Snowflake migrations, then hands merging to
// the native task or takes it back, per SNOW_MERGE_DRIVER.
func (s *Snowflake) Migrate(ctx context.Context, dryRun bool) (params.DeploySchemaResult, error) {
	ctx = s.tag(ctx)
	m := migrator{
		db:      s.db,
		dialect: DialectSnowflake,
		bootstrap: []string{
			s.stmt(snowBootstrapDatabase, nil), s.stmt(snowBootstrapSchema, nil), s.stmt(snowBootstrapTable, nil),
		},
		read:   s.stmt(snowMigrationsRead, nil),
		record: s.stmt(snowMigrationsRecord, nil),
		render: func(sql string) string { return snowRender(sql, s.tokens) },
		// Snowflake DDL commits implicitly, so a transaction would not make a
		// migration atomic; its statements are idempotent (IF NOT EXISTS, OR REPLACE) instead.
		noTx: true,
	}
	res, err := m.run(ctx, dryRun)
	if err != nil {
		return res, snowflakeError("migrate", err)
	}
	task := snowTaskSuspend
	if s.o.MergeDriver == MergeDriverTask {
		task = snowTaskResume
	}
	if dryRun {
		res.SQL += "-- merge driver " + s.o.MergeDriver + "\n" + s.stmt(task, nil) + ";\n"
		return res, nil
	}
	if _, err := s.exec(ctx, s.db, task, nil); err != nil {
		return res, err
	}
	// Sessions opened before the database existed have no current database;
	// drop the idle ones so the next statements log in with it.
	s.db.SetMaxIdleConns(0)
	s.db.SetMaxIdleConns(pooledSessions)
	return res, nil
}

// Offset returns the stored next offset of a partition.
func (s *Snowflake) Offset(ctx context.Context, topic string, partition int) (int64, bool, error) {
	var next int64
	err := s.queryRow(ctx, s.db, snowOffsetGet, []any{&next}, topic, partition)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("warehouse: read offset of %s/%d: %w", topic, partition, err)
	}
	return next, true, nil
}

// InitOffset stores next if the partition has no offset yet.
func (s *Snowflake) InitOffset(ctx context.Context, topic string, partition int, next int64) (int64, error) {
	if _, err := s.exec(ctx, s.db, snowOffsetInit, nil, topic, partition, next, time.Now().UTC()); err != nil {
		return 0, fmt.Errorf("warehouse: init offset of %s/%d: %w", topic, partition, err)
	}
	stored, _, err := s.Offset(ctx, topic, partition)
	return stored, err
}

// ResetOffset moves a stored offset, fenced on its current value.
func (s *Snowflake) ResetOffset(ctx context.Context, topic string, partition int, from, to int64) error {
	return s.inTx(ctx, nil, func(conn *sql.Conn) error {
		return s.moveOffset(ctx, conn, topic, partition, from, to, time.Now().UTC())
	})
}

func (s *Snowflake) moveOffset(ctx context.Context, conn *sql.Conn, topic string, partition int, from, to int64, at time.Time) error {
	r, err := s.exec(ctx, conn, snowOffsetMove, nil, to, at, topic, partition, from)
	if err != nil {
		return fmt.Errorf("warehouse: move offset of %s/%d: %w", topic, partition, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return ErrFenced
	}
	return nil
}

// ntz formats a timestamp for a TIMESTAMP_NTZ text bind ("" is NULL).
func ntz(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000")
}

var stagePathRE = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)

// LoadBatch writes one batch and its offset in one transaction: the events
// land in a session-temporary table (INSERT … SELECT for small batches,
// PUT + COPY INTO for large ones), move into RAW skipping event_ids already
// there, with the rejects and the fenced offset move. The fence is the last
// statement so that the offsets table is locked only for the commit.
func (s *Snowflake) LoadBatch(ctx context.Context, b Batch) (LoadResult, error) {
	var res LoadResult
	now := time.Now().UTC()
	events, batchConflicts := uniqueEvents(b)
	rejects := append(append([]Reject(nil), b.Rejects...), batchConflicts...)
	staged := len(events) >= s.o.StageThreshold
	var prefix string
	if staged {
		var err error
		if prefix, err = s.putBatch(ctx, b, events); err != nil {
			return res, err
		}
		// The staged file is not needed once the transaction ends either way.
		defer func() {
			_, _ = s.exec(context.WithoutCancel(ctx), s.db, snowLoadRemove, map[string]string{"PREFIX": prefix})
		}()
	}
	err := s.inTx(ctx, func(conn *sql.Conn) error {
		_, err := s.exec(ctx, conn, snowLoadCreate, nil)
		return err
	}, func(conn *sql.Conn) error {
		if len(events) > 0 {
			if _, err := s.exec(ctx, conn, snowLoadClear, nil); err != nil {
				return err
			}
			if staged {
				if _, err := s.exec(ctx, conn, snowLoadCopy, map[string]string{"PREFIX": prefix}); err != nil {
					return err
				}
			} else if err := s.insertEvents(ctx, conn, events); err != nil {
				return err
			}
			// Same id, other content: rejected with both values, before the
			// publish skips every id already in RAW.
			c, err := s.exec(ctx, conn, snowLoadConflicts, nil, b.Topic, b.Partition, now)
			if err != nil {
				return err
			}
			conflicts, _ := c.RowsAffected()
			r, err := s.exec(ctx, conn, snowLoadPublish, nil, b.Topic, b.Partition, now)
			if err != nil {
				return err
			}
			res.Inserted, _ = r.RowsAffected()
			res.Conflicts = conflicts + int64(len(batchConflicts))
			res.Duplicates = int64(len(b.Events)) - res.Inserted - res.Conflicts
			res.Rejected = conflicts
		}
		if len(rejects) > 0 {
			if err := s.insertRejects(ctx, conn, b.Topic, b.Partition, rejects, now); err != nil {
				return err
			}
			res.Rejected += int64(len(rejects))
		}
		return s.moveOffset(ctx, conn, b.Topic, b.Partition, b.FromOffset, b.NextOffset, now)
	})
	if err != nil {
		return LoadResult{}, err
	}
	return res, nil
}

// uniqueEvents keeps the first copy of each event_id of a batch; a later
// copy with other content is returned as an event_id_conflict reject.
func uniqueEvents(b Batch) ([]Event, []Reject) {
	first := make(map[string]int, len(b.Events))
	out := make([]Event, 0, len(b.Events))
	var conflicts []Reject
	for _, e := range b.Events {
		i, dup := first[e.EventID]
		if !dup {
			first[e.EventID] = len(out)
			out = append(out, e)
			continue
		}
		if f := out[i]; f.ContentHash != e.ContentHash {
			conflicts = append(conflicts, conflictReject(e, b.Partition, f.Offset, f.Payload))
		}
	}
	return out, conflicts
}

// conflictReject rejects e, whose event_id an event with other content at
// partition/offset already has.
func conflictReject(e Event, partition int, offset int64, value []byte) Reject {
	return Reject{Offset: e.Offset, Value: e.Payload, Reason: reasonIDConflict,
		Error:    fmt.Sprintf("event_id %q is already loaded with other content (partition %d, offset %d); a resend must carry the same content", e.EventID, partition, offset),
		Conflict: &Conflict{Partition: partition, Offset: offset, Value: value}}
}

// reasonIDConflict is events.ReasonIDConflict (the warehouse does not import the contract).
const reasonIDConflict = "event_id_conflict"

func (s *Snowflake) insertEvents(ctx context.Context, conn *sql.Conn, evs []Event) error {
	ids, types, payloads, produced, hashes := make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs))
	offsets := make([]int64, len(evs))
	for i, e := range evs {
		ids[i], types[i], payloads[i], offsets[i], produced[i], hashes[i] = e.EventID, e.EventType, string(e.Payload), e.Offset, ntz(e.ProducedAt), e.ContentHash
	}
	_, err := s.exec(ctx, conn, snowLoadInsert, nil,
		gosnowflake.Array(&ids), gosnowflake.Array(&types), gosnowflake.Array(&payloads), gosnowflake.Array(&offsets), gosnowflake.Array(&produced), gosnowflake.Array(&hashes))
	return err
}

func (s *Snowflake) insertRejects(ctx context.Context, conn *sql.Conn, topic string, partition int, rejects []Reject, now time.Time) error {
	n := len(rejects)
	topics, keys, values, reasons, msgs, at, cparts, coffs, cvals := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	parts, offsets := make([]int64, n), make([]int64, n)
	for i, r := range rejects {
		topics[i], parts[i], offsets[i] = topic, int64(partition), r.Offset
		keys[i], values[i] = textOf(r.Key), textOf(r.Value)
		reasons[i], msgs[i], at[i] = r.Reason, r.Error, ntz(now)
		if c := r.Conflict; c != nil {
			cparts[i], coffs[i], cvals[i] = strconv.Itoa(c.Partition), strconv.FormatInt(c.Offset, 10), textOf(c.Value)
		}
	}
	_, err := s.exec(ctx, conn, snowRejects, nil,
		gosnowflake.Array(&topics), gosnowflake.Array(&parts), gosnowflake.Array(&offsets), gosnowflake.Array(&keys),
		gosnowflake.Array(&values), gosnowflake.Array(&reasons), gosnowflake.Array(&msgs), gosnowflake.Array(&at),
		gosnowflake.Array(&cparts), gosnowflake.Array(&coffs), gosnowflake.Array(&cvals))
	return err
}

// textOf keeps a poison record's bytes as text, marking invalid UTF-8.
func textOf(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") }

// stagedEvent is one NDJSON line of a staged batch.
type stagedEvent struct {
	EventID    string          `json:"event_id"`
	EventType  string          `json:"event_type"`
	Payload    json.RawMessage `json:"payload"`
	Offset     int64           `json:"kafka_offset"`
	ProducedAt *string         `json:"produced_at"`
	Hash       string          `json:"content_hash,omitempty"`
}

// putBatch writes the events as gzip NDJSON and PUTs the file to
// RAW.LOAD_STAGE under a prefix of its own; it returns the prefix.
func (s *Snowflake) putBatch(ctx context.Context, b Batch, evs []Event) (string, error) {
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("warehouse: staged batch name: %w", err)
	}
	name := fmt.Sprintf("p%d-%d-%s", b.Partition, b.FromOffset, hex.EncodeToString(rnd[:]))
	path := filepath.Join(s.o.TempDir, "dropflow-"+name+".ndjson.gz")
	if err := writeNDJSON(path, evs); err != nil {
		return "", err
	}
	defer os.Remove(path)
	prefix := "batches/" + name + "/"
	if err := s.put(ctx, snowLoadPut, path, prefix); err != nil {
		return "", err
	}
	return prefix, nil
}

func writeNDJSON(path string, evs []Event) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("warehouse: staged batch file: %w", err)
	}
	zw := gzip.NewWriter(f)
	enc := json.NewEncoder(zw)
	for _, e := range evs {
		line := stagedEvent{EventID: e.EventID, EventType: e.EventType, Payload: e.Payload, Offset: e.Offset, Hash: e.ContentHash}
		if p := ntz(e.ProducedAt); p != "" {
			line.ProducedAt = &p
		}
		if err := enc.Encode(line); err != nil {
			f.Close()
			return fmt.Errorf("warehouse: staged batch file: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("warehouse: staged batch file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("warehouse: staged batch file: %w", err)
	}
	return nil
}

// put uploads a local file with a PUT statement; the path and prefix are
// spliced into the statement (PUT takes no binds), so both are checked.
func (s *Snowflake) put(ctx context.Context, name, path, prefix string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("warehouse: %s: %w", name, err)
	}
	abs = filepath.ToSlash(abs)
	if !stagePathRE.MatchString(abs) || !stagePathRE.MatchString(prefix) {
		return fmt.Errorf("warehouse: %s: path %q or stage prefix %q has characters a PUT cannot carry (want letters, digits, _ . / -)", name, abs, prefix)
	}
	_, err = s.exec(ctx, s.db, name, map[string]string{"FILE": abs, "PREFIX": prefix})
	return err
}

// LoadCustomers upserts PROD.customers from customers.csv through the seed
// stage: PUT, COPY INTO a temporary table, MERGE.
func (s *Snowflake) LoadCustomers(ctx context.Context, csvPath string) (int64, error) {
	return s.loadSeed(ctx, csvPath, seedLoad{"customers/", snowCustomersCreate, snowCustomersClear, snowCustomersCopy, snowCustomersMerge})
}

// LoadInventory upserts PROD.inventory from inventory.csv.
func (s *Snowflake) LoadInventory(ctx context.Context, csvPath string) (int64, error) {
	return s.loadSeed(ctx, csvPath, seedLoad{"inventory/", snowInventoryCreate, snowInventoryClear, snowInventoryCopy, snowInventoryMerge})
}

// seedLoad names the stage prefix and statements of one seed table.
type seedLoad struct {
	prefix, create, clear, copy, merge string
}

func (s *Snowflake) loadSeed(ctx context.Context, csvPath string, l seedLoad) (int64, error) {
	if _, err := os.Stat(csvPath); err != nil {
		return 0, fmt.Errorf("warehouse: load %s: %w", csvPath, err)
	}
	tok := map[string]string{"PREFIX": l.prefix}
	if _, err := s.exec(ctx, s.db, snowSeedRemove, tok); err != nil {
		return 0, err
	}
	if err := s.put(ctx, snowSeedPut, csvPath, l.prefix); err != nil {
		return 0, err
	}
	var n int64
	now := time.Now().UTC()
	err := s.inTx(ctx, func(conn *sql.Conn) error {
		_, err := s.exec(ctx, conn, l.create, nil)
		return err
	}, func(conn *sql.Conn) error {
		if _, err := s.exec(ctx, conn, l.clear, nil); err != nil {
			return err
		}
		if _, err := s.exec(ctx, conn, l.copy, tok); err != nil {
			return err
		}
		r, err := s.exec(ctx, conn, l.merge, nil, now, now)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("warehouse: load %s: %w", csvPath, err)
	}
	_, _ = s.exec(context.WithoutCancel(ctx), s.db, snowSeedRemove, tok)
	return n, nil
}

// MergeOrders merges the stream's new events into PROD.orders: one
// transaction reads the stream into a temporary table (which moves the
// stream's offset at commit), classifies, MERGEs and records the run.
// HasUnmerged asks the stream (SYSTEM$STREAM_HAS_DATA, a metadata read that
// scans no table). With the native task merging, MergeOrders has nothing to do.
func (s *Snowflake) HasUnmerged(ctx context.Context) (bool, error) {
	if s.o.MergeDriver == MergeDriverTask {
		return false, nil
	}
	var has bool
	if err := s.queryRow(ctx, s.db, snowMergeHasData, []any{&has}); err != nil {
		return false, err
	}
	return has, nil
}

func (s *Snowflake) MergeOrders(ctx context.Context) (params.MergeOrdersResult, error) {
	if s.o.MergeDriver == MergeDriverTask {
		// The native task owns the stream; a second consumer would split it.
		return params.MergeOrdersResult{NothingNew: true, DelegatedToTask: true, Merges: 1}, nil
	}
	var res params.MergeOrdersResult
	res.Merges = 1
	started := time.Now().UTC()
	var has bool
	if err := s.queryRow(ctx, s.db, snowMergeHasData, []any{&has}); err != nil {
		return res, err
	}
	if !has {
		res.NothingNew = true
		_, err := s.exec(ctx, s.db, snowMergeRun, nil, started, time.Now().UTC(), 0, 0, 0, 0, true)
		return res, err
	}
	err := s.inTx(ctx, func(conn *sql.Conn) error {
		_, err := s.exec(ctx, conn, snowMergeCreate, nil)
		return err
	}, func(conn *sql.Conn) error {
		// Another worker's merge holds this row until it commits; the stream
		// read below then sees only what that merge left.
		if _, err := s.exec(ctx, conn, snowMergeLock, nil, started, QueryTagFrom(ctx).WorkflowID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, conn, snowMergeClear, nil); err != nil {
			return err
		}
		r, err := s.exec(ctx, conn, snowMergeFill, nil)
		if err != nil {
			return err
		}
		res.SourceEvents, _ = r.RowsAffected()
		if res.SourceEvents == 0 {
			res.NothingNew = true
		} else {
			if err := s.queryRow(ctx, conn, snowMergeClassify, []any{&res.Inserted, &res.Updated, &res.Unchanged}); err != nil {
				return err
			}
			if _, err := s.exec(ctx, conn, snowMergeOrders, nil); err != nil {
				return err
			}
			if err := s.sampleLags(ctx, conn, started, &res); err != nil {
				return err
			}
		}
		_, err = s.exec(ctx, conn, snowMergeRun, nil, started, time.Now().UTC(), res.SourceEvents, res.Inserted, res.Updated, res.Unchanged, res.NothingNew)
		return err
	})
	if err != nil {
		return params.MergeOrdersResult{}, err
	}
	return res, nil
}

func (s *Snowflake) sampleLags(ctx context.Context, conn *sql.Conn, at time.Time, res *params.MergeOrdersResult) error {
	rows, err := conn.QueryContext(s.tag(ctx), s.stmt(snowMergeLags, nil), at)
	if err != nil {
		s.dropIfSessionGone(conn, err)
		return snowflakeError(snowMergeLags, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v float64
		if err := rows.Scan(&v); err != nil {
			return snowflakeError(snowMergeLags, err)
		}
		res.LagSample = append(res.LagSample, v)
	}
	if err := rows.Err(); err != nil {
		return snowflakeError(snowMergeLags, err)
	}
	return nil
}

// RecordValidation stores a report.
func (s *Snowflake) RecordValidation(ctx context.Context, r params.ValidationReport, report []byte) error {
	ranAt, err := time.Parse(time.RFC3339Nano, r.Timestamp)
	if err != nil {
		ranAt = time.Now()
	}
	_, err = s.exec(ctx, s.db, snowValidationInsert, nil, r.RunID, ranAt.UTC(), r.Status, r.Summary.Pass, r.Summary.Warn, r.Summary.Fail, string(report))
	if err != nil {
		return fmt.Errorf("warehouse: record validation run: %w", err)
	}
	return nil
}

// RecordPipelineRun stores a finished pipeline run.
func (s *Snowflake) RecordPipelineRun(ctx context.Context, workflowID, runID, status string, result []byte) error {
	_, err := s.exec(ctx, s.db, snowPipelineRunInsert, nil, workflowID, runID, time.Now().UTC(), status, string(result))
	if err != nil {
		return fmt.Errorf("warehouse: record pipeline run: %w", err)
	}
	return nil
}

// RecordDataset stores a seeded data set as the current one.
func (s *Snowflake) RecordDataset(ctx context.Context, key string, ds params.Dataset) error {
	body, err := json.Marshal(ds)
	if err != nil {
		return fmt.Errorf("warehouse: encode data set: %w", err)
	}
	return s.inTx(ctx, nil, func(conn *sql.Conn) error {
		if _, err := s.exec(ctx, conn, snowDatasetDelete, nil, key); err != nil {
			return fmt.Errorf("warehouse: record data set: %w", err)
		}
		if _, err := s.exec(ctx, conn, snowDatasetInsert, nil, key, string(body), time.Now().UTC()); err != nil {
			return fmt.Errorf("warehouse: record data set: %w", err)
		}
		return nil
	})
}

// CurrentDataset returns the data set recorded last.
func (s *Snowflake) CurrentDataset(ctx context.Context) (params.Dataset, bool, error) {
	var body string
	err := s.queryRow(ctx, s.db, snowDatasetCurrent, []any{&body})
	return decodeDataset(body, err)
}

// txnName names a transaction after the activity attempt that runs it
// (DROPFLOW_<key>_<attempt>), or after this process outside activities.
func (s *Snowflake) txnName(ctx context.Context) string {
	if a, ok := attemptFrom(ctx); ok {
		return fmt.Sprintf("DROPFLOW_%s_%d", a.Key, a.N)
	}
	return "DROPFLOW_" + s.process
}

// abortEarlierAttempts runs once per retried activity attempt: it aborts the
// transactions that earlier attempts of the same activity left open. Temporal
// retries an attempt only after it failed or timed out, so such a transaction
// belongs to a dead (or abandoned) worker; Snowflake would keep its locks
// until it idles out, blocking every loader and merge meanwhile. Aborting it
// loses nothing: its batch or merge never committed, and this attempt redoes it.
func (s *Snowflake) abortEarlierAttempts(ctx context.Context, conn *sql.Conn) error {
	a, ok := attemptFrom(ctx)
	if !ok || a.N <= 1 {
		return nil
	}
	attempt := fmt.Sprintf("%s/%d", a.Key, a.N)
	if _, done := s.swept.LoadOrStore(attempt, true); done {
		return nil
	}
	rows, err := conn.QueryContext(s.tag(ctx), s.stmt(snowShowTxns, nil))
	if err != nil {
		s.swept.Delete(attempt)
		s.dropIfSessionGone(conn, err)
		return snowflakeError(snowShowTxns, err)
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		s.swept.Delete(attempt)
		return snowflakeError(snowShowTxns, err)
	}
	idCol, nameCol, stateCol := -1, -1, -1
	for i, c := range cols {
		switch strings.ToLower(c) {
		case "id":
			idCol = i
		case "name":
			nameCol = i
		case "state":
			stateCol = i
		}
	}
	prefix := fmt.Sprintf("DROPFLOW_%s_", a.Key)
	var stale []int64
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dst := make([]any, len(cols))
		for i := range vals {
			dst[i] = &vals[i]
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			s.swept.Delete(attempt)
			return snowflakeError(snowShowTxns, err)
		}
		if idCol < 0 || nameCol < 0 {
			continue
		}
		name := strings.ToUpper(vals[nameCol].String)
		n, err := strconv.Atoi(strings.TrimPrefix(name, prefix))
		if !strings.HasPrefix(name, prefix) || err != nil || n >= a.N {
			continue
		}
		if stateCol >= 0 && !strings.EqualFold(vals[stateCol].String, "running") {
			continue
		}
		if id, err := strconv.ParseInt(vals[idCol].String, 10, 64); err == nil {
			stale = append(stale, id)
		}
	}
	rows.Close()
	for _, id := range stale {
		// The id is an integer from SHOW TRANSACTIONS: Snowflake wants a constant here.
		if _, err := s.exec(ctx, conn, snowAbortTxn, map[string]string{"TXN_ID": strconv.FormatInt(id, 10)}); err != nil {
			s.swept.Delete(attempt)
			return err
		}
	}
	return nil
}
