// Package snowemu is a local Snowflake-protocol server on DuckDB: it speaks
// the HTTP protocol an unmodified gosnowflake client uses (login by password
// or key pair, queries with positional and array binds, PUT to a local
// stage, transactions) and executes the Snowflake SQL Dropflow sends, with
// Snowflake's semantics where they differ from DuckDB's. It is a test and
// demo tool: it binds to 127.0.0.1 only and emulates exactly the corpus in
// internal/warehouse/testdata/snowflake; anything else fails with a
// Snowflake-shaped SQL compilation error.
package snowemu

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// User is an account user the server accepts.
type User struct {
	Name     string
	Password string         // empty: no password login
	Key      *rsa.PublicKey // nil: no key-pair login
}

// Options configure a server.
type Options struct {
	// Dir holds the DuckDB files (one per Snowflake database), the stages
	// and the emulator's catalog.
	Dir string
	// Account is the only account name accepted (case-insensitive).
	Account string
	Users   []User
	// Port on 127.0.0.1; 0 picks a free one.
	Port int
}

// Server is a running emulator.
type Server struct {
	o     Options
	ln    net.Listener
	http  *http.Server
	eng   *engine
	users map[string]User

	mu       sync.Mutex
	sessions map[string]*session // by token
	results  map[string]*queryResult
	order    []string // result ids, oldest first
	nextID   int64
}

// Start opens the catalog in o.Dir and serves on 127.0.0.1.
func Start(o Options) (*Server, error) {
	if o.Dir == "" || o.Account == "" || len(o.Users) == 0 {
		return nil, errors.New("snowemu: Dir, Account and at least one User are required")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("snowemu: %w", err)
	}
	eng, err := openEngine(o.Dir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", o.Port))
	if err != nil {
		eng.close()
		return nil, fmt.Errorf("snowemu: listen: %w", err)
	}
	s := &Server{o: o, ln: ln, eng: eng, users: map[string]User{}, sessions: map[string]*session{}, results: map[string]*queryResult{}}
	for _, u := range o.Users {
		s.users[strings.ToUpper(u.Name)] = u
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /session/v1/login-request", s.login)
	mux.HandleFunc("POST /queries/v1/query-request", s.query)
	mux.HandleFunc("GET /queries/{id}/result", s.result)
	mux.HandleFunc("POST /queries/v1/abort-request", s.abort)
	mux.HandleFunc("POST /session", s.logout)
	mux.HandleFunc("POST /session/heartbeat", func(w http.ResponseWriter, r *http.Request) { s.reply(w, nil) })
	mux.HandleFunc("POST /session/token-request", s.renew)
	// The driver's telemetry: accepted and dropped (nothing to report to).
	mux.HandleFunc("POST /telemetry/send", func(w http.ResponseWriter, r *http.Request) { s.reply(w, nil) })
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the TCP port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops serving and closes every session and the catalog.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	s.mu.Lock()
	for t, ss := range s.sessions {
		ss.close()
		delete(s.sessions, t)
	}
	s.mu.Unlock()
	return errors.Join(err, s.eng.close())
}

// envelope is every reply's shape.
type envelope struct {
	Data    any     `json:"data"`
	Code    *string `json:"code"`
	Message *string `json:"message"`
	Success bool    `json:"success"`
}

func (s *Server) reply(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(envelope{Data: data, Success: true})
}

// Error is a Snowflake error: a numeric code (six digits on the wire), the
// SQL state and the message.
type Error struct {
	Code     int
	SQLState string
	Message  string
}

func (e *Error) Error() string { return fmt.Sprintf("%06d (%s): %s", e.Code, e.SQLState, e.Message) }

// compileError is Snowflake's "SQL compilation error" (001003, 42000).
func compileError(format string, a ...any) *Error {
	return &Error{Code: 1003, SQLState: "42000", Message: "SQL compilation error:\n" + fmt.Sprintf(format, a...)}
}

func (s *Server) fail(w http.ResponseWriter, e *Error, queryID string) {
	code := fmt.Sprintf("%06d", e.Code)
	msg := e.Message
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(envelope{
		Data:    map[string]any{"sqlState": e.SQLState, "queryId": queryID, "errorCode": code, "internalError": false},
		Code:    &code,
		Message: &msg,
	})
}

func readJSON(r *http.Request, v any) error {
	var body io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return err
		}
		defer zr.Close()
		body = zr
	}
	return json.NewDecoder(body).Decode(v)
}

type loginRequest struct {
	Data struct {
		AccountName   string         `json:"ACCOUNT_NAME"`
		LoginName     string         `json:"LOGIN_NAME"`
		Password      string         `json:"PASSWORD"`
		Authenticator string         `json:"AUTHENTICATOR"`
		Token         string         `json:"TOKEN"`
		SessionParams map[string]any `json:"SESSION_PARAMETERS"`
	} `json:"data"`
}

var (
	errBadPassword = &Error{Code: 390100, SQLState: "08004", Message: "Incorrect username or password was specified."}
	errBadJWT      = &Error{Code: 390144, SQLState: "08004", Message: "JWT token is invalid."}
)

// login follows Snowflake's login-request: a password, or a JWT signed with
// the user's private key whose iss and sub name account and user
// (https://docs.snowflake.com/en/developer-guide/sql-api/authenticating#using-key-pair-authentication).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, &Error{Code: 390101, SQLState: "08004", Message: "malformed login request: " + err.Error()}, "")
		return
	}
	d := req.Data
	if !strings.EqualFold(d.AccountName, s.o.Account) {
		s.fail(w, errBadPassword, "")
		return
	}
	var user User
	switch strings.ToUpper(d.Authenticator) {
	case "SNOWFLAKE_JWT":
		u, err := s.verifyJWT(d.Token)
		if err != nil {
			s.fail(w, errBadJWT, "")
			return
		}
		user = u
	case "", "SNOWFLAKE":
		u, ok := s.users[strings.ToUpper(d.LoginName)]
		if !ok || u.Password == "" || u.Password != d.Password {
			s.fail(w, errBadPassword, "")
			return
		}
		user = u
	default:
		s.fail(w, &Error{Code: 390195, SQLState: "08004", Message: "authenticator " + d.Authenticator + " is not supported by the emulator"}, "")
		return
	}
	q := r.URL.Query()
	ss, err := s.eng.newSession(r.Context(), strings.ToUpper(user.Name), q.Get("databaseName"), q.Get("schemaName"), q.Get("warehouse"), q.Get("roleName"))
	if err != nil {
		s.fail(w, &Error{Code: 390201, SQLState: "08004", Message: err.Error()}, "")
		return
	}
	tok := randomHex(24)
	s.mu.Lock()
	s.nextID++
	ss.id = s.nextID
	s.sessions[tok] = ss
	s.mu.Unlock()
	zero := 0
	s.reply(w, map[string]any{
		"token": tok, "validityInSeconds": 86400, "masterToken": "master-" + tok, "masterValidityInSeconds": 86400,
		"sessionId": ss.id, "serverVersion": "dropflow-snowemu", "displayUserName": user.Name,
		// Stage binding over a local stage is broken in gosnowflake v1.19.1:
		// keep array binds inline, whatever their size.
		"parameters":  []map[string]any{{"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": zero}, {"name": "TIMEZONE", "value": "UTC"}},
		"sessionInfo": map[string]any{"databaseName": ss.database, "schemaName": ss.schema, "warehouseName": ss.warehouse, "roleName": ss.role},
	})
}

// verifyJWT checks the token's signature against the user's public key,
// its expiry, and that iss/sub name this account, the user and the key's
// SHA-256 fingerprint.
func (s *Server) verifyJWT(token string) (User, error) {
	var user User
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		sub, _ := claims["sub"].(string)
		acc, name, ok := strings.Cut(sub, ".")
		if !ok || !strings.EqualFold(acc, s.o.Account) {
			return nil, errors.New("sub does not name this account")
		}
		u, found := s.users[strings.ToUpper(name)]
		if !found || u.Key == nil {
			return nil, errors.New("no key-pair user " + name)
		}
		der, err := x509.MarshalPKIXPublicKey(u.Key)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(der)
		iss, _ := claims["iss"].(string)
		if want := strings.ToUpper(acc+"."+name) + ".SHA256:" + base64.StdEncoding.EncodeToString(sum[:]); !strings.EqualFold(iss, want) {
			return nil, errors.New("iss names another key")
		}
		user = u
		return u.Key, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	return user, err
}

// sessionToken reads the session token of `Authorization: Snowflake Token="…"`.
func sessionToken(r *http.Request) string {
	t, ok := strings.CutPrefix(r.Header.Get("Authorization"), `Snowflake Token="`)
	if !ok {
		return ""
	}
	return strings.TrimSuffix(t, `"`)
}

func (s *Server) session(r *http.Request) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sessionToken(r)]
}

var errNoSession = &Error{Code: 390111, SQLState: "08001", Message: "Session no longer exists. New login required to access the service."}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("delete") != "true" {
		http.NotFound(w, r)
		return
	}
	t := sessionToken(r)
	s.mu.Lock()
	ss := s.sessions[t]
	delete(s.sessions, t)
	s.mu.Unlock()
	if ss != nil {
		ss.close()
	}
	s.reply(w, nil)
}

func (s *Server) renew(w http.ResponseWriter, r *http.Request) {
	if s.session(r) == nil {
		s.fail(w, errNoSession, "")
		return
	}
	t := sessionToken(r)
	s.reply(w, map[string]any{"sessionToken": t, "validityInSecondsST": 86400, "masterToken": "master-" + t, "validityInSecondsMT": 86400})
}

func (s *Server) abort(w http.ResponseWriter, r *http.Request) {
	// Statements run synchronously within their request: a cancelled
	// request interrupts its DuckDB statement, so there is nothing to abort.
	s.reply(w, nil)
}

type queryRequest struct {
	SQLText    string                     `json:"sqlText"`
	Parameters map[string]any             `json:"parameters"`
	Bindings   map[string]bindValue       `json:"bindings"`
	BindStage  string                     `json:"bindStage"`
	Extra      map[string]json.RawMessage `json:"-"`
}

type bindValue struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	ss := s.session(r)
	if ss == nil {
		s.fail(w, errNoSession, "")
		return
	}
	var req queryRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, compileError("malformed query request: %v", err), "")
		return
	}
	qid := newQueryID()
	if req.BindStage != "" {
		s.fail(w, compileError("stage binding is not supported by the emulator (CLIENT_STAGE_ARRAY_BINDING_THRESHOLD is 0)"), qid)
		return
	}
	if n, ok := req.Parameters["MULTI_STATEMENT_COUNT"]; ok && fmt.Sprint(n) != "1" {
		s.fail(w, compileError("multi-statement requests are not supported by the emulator"), qid)
		return
	}
	tag, _ := req.Parameters["QUERY_TAG"].(string)
	res, err := ss.execute(r.Context(), qid, req.SQLText, req.Bindings, tag)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Code: 100000, SQLState: "XX000", Message: err.Error()}
		}
		s.fail(w, e, qid)
		return
	}
	s.keep(qid, res)
	s.reply(w, res.data(qid, ss))
}

// keep holds the last results for GET /queries/{id}/result.
func (s *Server) keep(id string, res *queryResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[id] = res
	s.order = append(s.order, id)
	if len(s.order) > 256 {
		delete(s.results, s.order[0])
		s.order = s.order[1:]
	}
}

func (s *Server) result(w http.ResponseWriter, r *http.Request) {
	ss := s.session(r)
	if ss == nil {
		s.fail(w, errNoSession, "")
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	res := s.results[id]
	s.mu.Unlock()
	if res == nil {
		s.fail(w, &Error{Code: 709, SQLState: "02000", Message: "Statement " + id + " not found"}, id)
		return
	}
	s.reply(w, res.data(id, ss))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newQueryID is a UUID-shaped id, like Snowflake's.
func newQueryID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// stageDir is where a stage's files live.
func stageDir(root, qualified string) string {
	return filepath.Join(root, "stages", strings.ToUpper(qualified))
}

// Task is a stored task, as SHOW TASKS would list it.
type Task struct {
	Name, Warehouse, Schedule, Condition, Definition, State string
}

// Tasks lists the stored tasks.
func (s *Server) Tasks(ctx context.Context) ([]Task, error) {
	rows, err := s.eng.db.QueryContext(ctx, `SELECT name, warehouse, schedule, condition, definition, state FROM snowemu.emu.tasks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("snowemu: tasks: %w", err)
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var t Task
		if err := rows.Scan(&t.Name, &t.Warehouse, &t.Schedule, &t.Condition, &t.Definition, &t.State); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
