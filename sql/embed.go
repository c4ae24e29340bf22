// Package sql embeds the warehouse migrations: sql/duckdb and sql/snowflake
// hold the same file names, one dialect each, applied in name order.
package sql

import "embed"

// Migrations holds duckdb/*.sql and snowflake/*.sql.
//
//go:embed duckdb/*.sql snowflake/*.sql
var Migrations embed.FS
