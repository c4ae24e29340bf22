// Package config reads Dropflow's settings from environment variables
// (SNOW_*, KAFKA_*, WAREHOUSE, ...) and refuses bad ones with one line naming
// the variable. Temporal's own variables are read by the SDK's envconfig.
package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/text/currency"

	"github.com/dropflow/dropflow/internal/ident"
)

// Config is the worker's and starter's configuration.
type Config struct {
	Warehouse      string // WAREHOUSE: duckdb | snowflake
	DuckDBPath     string // DUCKDB_PATH
	DuckDBMemory   string // DUCKDB_MEMORY_LIMIT; empty leaves the adapter's default (duckdb.DefaultMemoryLimit)
	KafkaBootstrap string // KAFKA_BOOTSTRAP_SERVERS
	KafkaTopic     string // KAFKA_TOPIC
	KafkaGroup     string // KAFKA_GROUP: consumer group whose offsets show lag
	KafkaPartition int    // KAFKA_PARTITIONS: partitions when the local stack creates the topic
	DataDir        string // DATA_DIR: seed CSVs live in DATA_DIR/seed
	ReportsDir     string // REPORTS_DIR
	HTTPAddr       string // HTTP_ADDR: dashboard, /metrics, /healthz
	// DebugAddr (DEBUG_ADDR) serves /debug/pprof/ when set, apart from the
	// dashboard: heap and goroutine dumps hold connection strings. Off by
	// default; a value without a host (":6060") binds to 127.0.0.1.
	DebugAddr     string
	TemporalUIURL string // TEMPORAL_UI_URL: for links from the dashboard
	LogFormat     string // LOG_FORMAT: console | json
	LogLevel      string // LOG_LEVEL
	// Currency (CURRENCY) is the ISO 4217 code the dashboard shows money in;
	// amounts in the warehouse and the JSON API are plain numbers.
	Currency  string
	Snowflake Snowflake
}

// Snowflake holds the SNOW_* variables.
type Snowflake struct {
	Account, User, Password, Role, Warehouse, Database, Schema string
	PrivateKeyPath                                             string // SNOW_PRIVATE_KEY_PATH: PKCS#8 PEM, key-pair (JWT) login
	PrivateKeyPassphrase                                       string // SNOW_PRIVATE_KEY_PASSPHRASE: for an encrypted key
	// Host, Port and Protocol point the driver at an explicit endpoint
	// (SNOW_HOST, SNOW_PORT, SNOW_PROTOCOL); empty means <account>.snowflakecomputing.com.
	Host     string
	Port     int
	Protocol string
	// StageThreshold (SNOW_STAGE_THRESHOLD): batches of at least this many
	// events load through PUT + COPY INTO, smaller ones through INSERT …
	// SELECT; 0 leaves the adapter's default (snowflake.DefaultStageThreshold).
	StageThreshold int
	// MergeDriver (SNOW_MERGE_DRIVER): temporal (the MergeOrders schedule
	// merges) or task (the native task PROD.MERGE_ORDERS_TASK does).
	MergeDriver string
}

// Error names the variable that is wrong.
type Error struct {
	Var, Value, Want string
}

func (e *Error) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("config: %s is not set: %s", e.Var, e.Want)
	}
	return fmt.Sprintf("config: %s=%q: %s", e.Var, e.Value, e.Want)
}

// Lookup is os.LookupEnv or a test double.
type Lookup func(string) (string, bool)

// Load reads and validates the configuration.
func Load(env Lookup) (Config, error) {
	get := func(name, def string) string {
		if v, ok := env(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	c := Config{
		Warehouse:      strings.ToLower(get("WAREHOUSE", "duckdb")),
		DuckDBPath:     get("DUCKDB_PATH", "data/warehouse.duckdb"),
		DuckDBMemory:   get("DUCKDB_MEMORY_LIMIT", ""),
		KafkaBootstrap: get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
		KafkaTopic:     get("KAFKA_TOPIC", "orders_topic"),
		KafkaGroup:     get("KAFKA_GROUP", "dropflow-ingest"),
		DataDir:        get("DATA_DIR", "data"),
		ReportsDir:     get("REPORTS_DIR", "reports"),
		HTTPAddr:       get("HTTP_ADDR", "127.0.0.1:8080"),
		DebugAddr:      get("DEBUG_ADDR", ""),
		TemporalUIURL:  strings.TrimRight(get("TEMPORAL_UI_URL", "http://localhost:8233"), "/"),
		LogFormat:      strings.ToLower(get("LOG_FORMAT", "console")),
		LogLevel:       get("LOG_LEVEL", "info"),
		Currency:       strings.ToUpper(get("CURRENCY", "EUR")),
		Snowflake: Snowflake{
			Account: get("SNOW_ACCOUNT", ""), User: get("SNOW_USER", ""), Password: get("SNOW_PASSWORD", ""),
			PrivateKeyPath: get("SNOW_PRIVATE_KEY_PATH", ""), PrivateKeyPassphrase: get("SNOW_PRIVATE_KEY_PASSPHRASE", ""), Role: get("SNOW_ROLE", ""),
			Warehouse: get("SNOW_WAREHOUSE", "COMPUTE_WH"), Database: get("SNOW_DATABASE", "DROPSHIPPING_DB"), Schema: get("SNOW_SCHEMA", "RAW"),
			Host: get("SNOW_HOST", ""), Protocol: strings.ToLower(get("SNOW_PROTOCOL", "https")),
			MergeDriver: strings.ToLower(get("SNOW_MERGE_DRIVER", "temporal")),
		},
	}
	parts := get("KAFKA_PARTITIONS", "3")
	n, err := strconv.Atoi(parts)
	if err != nil || n < 1 {
		return c, &Error{Var: "KAFKA_PARTITIONS", Value: parts, Want: "want an integer >= 1"}
	}
	c.KafkaPartition = n
	switch c.Warehouse {
	case "duckdb":
	case "snowflake":
		if c.Snowflake.Account == "" {
			return c, &Error{Var: "SNOW_ACCOUNT", Want: "required with WAREHOUSE=snowflake"}
		}
		if c.Snowflake.User == "" {
			return c, &Error{Var: "SNOW_USER", Want: "required with WAREHOUSE=snowflake"}
		}
		if c.Snowflake.Password == "" && c.Snowflake.PrivateKeyPath == "" {
			return c, &Error{Var: "SNOW_PASSWORD", Want: "set SNOW_PASSWORD or SNOW_PRIVATE_KEY_PATH with WAREHOUSE=snowflake"}
		}
		if err := loadSnowflakeExtras(get, &c.Snowflake); err != nil {
			return c, err
		}
	default:
		return c, &Error{Var: "WAREHOUSE", Value: c.Warehouse, Want: "want duckdb or snowflake"}
	}
	for _, b := range strings.Split(c.KafkaBootstrap, ",") {
		if _, _, err := net.SplitHostPort(strings.TrimSpace(b)); err != nil {
			return c, &Error{Var: "KAFKA_BOOTSTRAP_SERVERS", Value: c.KafkaBootstrap, Want: "want host:port[,host:port]"}
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return c, &Error{Var: "HTTP_ADDR", Value: c.HTTPAddr, Want: "want host:port such as 127.0.0.1:8080"}
	}
	if c.DebugAddr != "" {
		host, port, err := net.SplitHostPort(c.DebugAddr)
		if err != nil || port == "" {
			return c, &Error{Var: "DEBUG_ADDR", Value: c.DebugAddr, Want: "want host:port such as 127.0.0.1:6060, or unset to serve no profiles"}
		}
		if host == "" {
			c.DebugAddr = net.JoinHostPort("127.0.0.1", port)
		}
		if c.DebugAddr == c.HTTPAddr {
			return c, &Error{Var: "DEBUG_ADDR", Value: c.DebugAddr, Want: "want an address other than HTTP_ADDR's"}
		}
	}
	if c.LogFormat != "console" && c.LogFormat != "json" {
		return c, &Error{Var: "LOG_FORMAT", Value: c.LogFormat, Want: "want console or json"}
	}
	if _, err := currency.ParseISO(c.Currency); err != nil || len(c.Currency) != 3 {
		return c, &Error{Var: "CURRENCY", Value: c.Currency, Want: "want an ISO 4217 currency code such as EUR, USD or GBP"}
	}
	return c, nil
}

// loadSnowflakeExtras validates the identifiers and the optional endpoint,
// threshold and merge-driver settings.
func loadSnowflakeExtras(get func(name, def string) string, s *Snowflake) error {
	for _, v := range []struct{ name, value string }{
		{"SNOW_WAREHOUSE", s.Warehouse}, {"SNOW_DATABASE", s.Database}, {"SNOW_SCHEMA", s.Schema}, {"SNOW_ROLE", s.Role},
	} {
		if v.value == "" && v.name == "SNOW_ROLE" {
			continue // the user's default role
		}
		if err := ident.Check(v.name, v.value); err != nil {
			return &Error{Var: v.name, Value: v.value, Want: "want a plain identifier (letters, digits, _ or $, not starting with a digit)"}
		}
	}
	if p := get("SNOW_PORT", ""); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return &Error{Var: "SNOW_PORT", Value: p, Want: "want a TCP port 1-65535"}
		}
		s.Port = n
	}
	if s.Port != 0 && s.Host == "" {
		return &Error{Var: "SNOW_HOST", Want: "required when SNOW_PORT is set"}
	}
	if s.Protocol != "https" && s.Protocol != "http" {
		return &Error{Var: "SNOW_PROTOCOL", Value: s.Protocol, Want: "want https or http"}
	}
	if th := get("SNOW_STAGE_THRESHOLD", ""); th != "" {
		n, err := strconv.Atoi(th)
		if err != nil || n < 1 {
			return &Error{Var: "SNOW_STAGE_THRESHOLD", Value: th, Want: "want an integer >= 1 (events per batch at which loads go through PUT + COPY)"}
		}
		s.StageThreshold = n
	}
	if s.MergeDriver != "temporal" && s.MergeDriver != "task" {
		return &Error{Var: "SNOW_MERGE_DRIVER", Value: s.MergeDriver, Want: "want temporal (MergeOrders schedule) or task (native Snowflake task)"}
	}
	return nil
}
