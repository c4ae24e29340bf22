package validation

import (
	"testing"

	"github.com/dropflow/dropflow/internal/golden"
)

// TestQueriesGolden pins the SQL this package sends to either warehouse
// (Snowflake included) in testdata/queries.sql.
func TestQueriesGolden(t *testing.T) {
	golden.Check(t, "testdata/queries.sql", golden.Statements(Queries()))
}
