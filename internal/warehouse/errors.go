package warehouse

import "fmt"

// ErrorKind classifies a warehouse error by what can fix it.
type ErrorKind string

// Error kinds. Only KindRetryable is worth retrying.
const (
	KindRetryable     ErrorKind = "Retryable"
	KindAuth          ErrorKind = "WarehouseAuth"          // wrong user, password, key or token
	KindPrivilege     ErrorKind = "WarehousePrivilege"     // the role may not do this
	KindCompilation   ErrorKind = "SQLCompilation"         // the statement does not compile
	KindObjectMissing ErrorKind = "WarehouseObjectMissing" // schema not deployed, or not visible to the role
	KindConfig        ErrorKind = "WarehouseConfig"        // no warehouse, bad account, bad driver setting
)

// QueryError is a failed warehouse statement, named, with its kind (the
// Snowflake adapter classifies its driver's errors into these).
type QueryError struct {
	Statement string
	Kind      ErrorKind
	Err       error
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("warehouse: snowflake %s (%s): %v", e.Statement, e.Kind, e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// Permanent reports whether no retry can fix the error.
func (e *QueryError) Permanent() bool { return e.Kind != KindRetryable }

// LockedError means another process holds the DuckDB file.
type LockedError struct {
	Path string
	Err  error
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("warehouse: DuckDB file %s is locked by another process (%v); stop that process (another worker or demo?) or set DUCKDB_PATH to another file", e.Path, e.Err)
}

func (e *LockedError) Unwrap() error { return e.Err }
