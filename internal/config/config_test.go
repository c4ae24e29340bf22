package config

import (
	"errors"
	"strings"
	"testing"
)

func env(kv ...string) Lookup {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env())
	if err != nil {
		t.Fatal(err)
	}
	if c.Warehouse != "duckdb" || c.KafkaBootstrap != "localhost:9092" || c.KafkaTopic != "orders_topic" || c.Snowflake.Warehouse != "COMPUTE_WH" || c.Snowflake.Database != "DROPSHIPPING_DB" || c.KafkaPartition != 3 {
		t.Fatalf("defaults: %+v", c)
	}
}

// CURRENCY defaults to EUR, takes any ISO 4217 code in either case, and
// refuses what is not one.
func TestCurrency(t *testing.T) {
	for in, want := range map[string]string{"": "EUR", "usd": "USD", "JPY": "JPY", "GBP": "GBP"} {
		c, err := Load(env("CURRENCY", in))
		if err != nil || c.Currency != want {
			t.Errorf("CURRENCY=%q: %q, %v; want %q", in, c.Currency, err, want)
		}
	}
	for _, bad := range []string{"XYZ", "EU", "€", "US$"} {
		if _, err := Load(env("CURRENCY", bad)); err == nil || !strings.Contains(err.Error(), "CURRENCY") {
			t.Errorf("CURRENCY=%q accepted: %v", bad, err)
		}
	}
}

// Profiles are off unless DEBUG_ADDR is set, loopback unless a host is
// named, and never on the dashboard's address.
func TestDebugAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{{"", ""}, {":6060", "127.0.0.1:6060"}, {"0.0.0.0:6060", "0.0.0.0:6060"}} {
		got, err := Load(env("DEBUG_ADDR", c.in))
		if err != nil || got.DebugAddr != c.want {
			t.Errorf("DEBUG_ADDR=%q: %q, %v; want %q", c.in, got.DebugAddr, err, c.want)
		}
	}
	if _, err := Load(env("DEBUG_ADDR", "127.0.0.1:8080")); err == nil || !strings.Contains(err.Error(), "HTTP_ADDR") {
		t.Errorf("DEBUG_ADDR equal to HTTP_ADDR: %v", err)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	for name, e := range map[string]Lookup{
		"WAREHOUSE":               env("WAREHOUSE", "oracle"),
		"KAFKA_BOOTSTRAP_SERVERS": env("KAFKA_BOOTSTRAP_SERVERS", "localhost"),
		"SNOW_ACCOUNT":            env("WAREHOUSE", "snowflake"),
		"SNOW_PASSWORD":           env("WAREHOUSE", "snowflake", "SNOW_ACCOUNT", "a", "SNOW_USER", "u"),
		"LOG_FORMAT":              env("LOG_FORMAT", "xml"),
		"CURRENCY":                env("CURRENCY", "EURO"),
		"KAFKA_PARTITIONS":        env("KAFKA_PARTITIONS", "0"),
		"HTTP_ADDR":               env("HTTP_ADDR", "8080"),
		"DEBUG_ADDR":              env("DEBUG_ADDR", "6060"),
		"SNOW_DATABASE":           snow("SNOW_DATABASE", "DB; DROP DATABASE PROD"),
		"SNOW_WAREHOUSE":          snow("SNOW_WAREHOUSE", "WH\"X"),
		"SNOW_SCHEMA":             snow("SNOW_SCHEMA", "RAW.X"),
		"SNOW_ROLE":               snow("SNOW_ROLE", "ROLE-1"),
		"SNOW_PORT":               snow("SNOW_HOST", "127.0.0.1", "SNOW_PORT", "http"),
		"SNOW_HOST":               snow("SNOW_PORT", "8085"),
		"SNOW_PROTOCOL":           snow("SNOW_PROTOCOL", "ftp"),
		"SNOW_STAGE_THRESHOLD":    snow("SNOW_STAGE_THRESHOLD", "0"),
		"SNOW_MERGE_DRIVER":       snow("SNOW_MERGE_DRIVER", "cron"),
	} {
		_, err := Load(e)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != name || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// snow is a valid WAREHOUSE=snowflake environment plus kv.
func snow(kv ...string) Lookup {
	return env(append([]string{"WAREHOUSE", "snowflake", "SNOW_ACCOUNT", "acc", "SNOW_USER", "u", "SNOW_PASSWORD", "p"}, kv...)...)
}

func TestSnowflakeDefaults(t *testing.T) {
	c, err := Load(snow())
	if err != nil {
		t.Fatal(err)
	}
	s := c.Snowflake
	if s.StageThreshold != 0 || s.MergeDriver != "temporal" || s.Protocol != "https" || s.Port != 0 || s.Schema != "RAW" {
		t.Fatalf("snowflake defaults: %+v", s)
	}
	c, err = Load(snow("SNOW_HOST", "127.0.0.1", "SNOW_PORT", "8085", "SNOW_PROTOCOL", "HTTP", "SNOW_MERGE_DRIVER", "task"))
	if err != nil || c.Snowflake.Port != 8085 || c.Snowflake.Protocol != "http" || c.Snowflake.MergeDriver != "task" {
		t.Fatalf("%+v %v", c.Snowflake, err)
	}
}
