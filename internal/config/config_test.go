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

func TestBadValuesNameTheVariable(t *testing.T) {
	for name, e := range map[string]Lookup{
		"WAREHOUSE":               env("WAREHOUSE", "oracle"),
		"KAFKA_BOOTSTRAP_SERVERS": env("KAFKA_BOOTSTRAP_SERVERS", "localhost"),
		"SNOW_ACCOUNT":            env("WAREHOUSE", "snowflake"),
		"SNOW_PASSWORD":           env("WAREHOUSE", "snowflake", "SNOW_ACCOUNT", "a", "SNOW_USER", "u"),
		"LOG_FORMAT":              env("LOG_FORMAT", "xml"),
		"KAFKA_PARTITIONS":        env("KAFKA_PARTITIONS", "0"),
		"HTTP_ADDR":               env("HTTP_ADDR", "8080"),
	} {
		_, err := Load(e)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != name || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
