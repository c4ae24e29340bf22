// Package migrations embeds the warehouse migrations: duckdb/ and
// snowflake/ hold the same file names, one dialect each, applied in name
// order.
package migrations

import "embed"

// FS holds duckdb/*.sql and snowflake/*.sql.
//
//go:embed duckdb/*.sql snowflake/*.sql
var FS embed.FS
