package warehouse

import (
	"errors"
	"fmt"
	"strings"

	"github.com/snowflakedb/gosnowflake"
)

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

// QueryError is a failed Snowflake statement, named, with its kind.
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

// snowflakeError wraps a driver error with the statement name and its kind;
// it keeps an existing QueryError as it is.
func snowflakeError(statement string, err error) error {
	if err == nil {
		return nil
	}
	var qe *QueryError
	if errors.As(err, &qe) {
		return err
	}
	return &QueryError{Statement: statement, Kind: ClassifySnowflake(err), Err: err}
}

// ClassifySnowflake sorts a gosnowflake error: authentication, privileges,
// compilation, missing objects and configuration are permanent; network
// errors, throttling, timeouts and anything unknown retry.
func ClassifySnowflake(err error) ErrorKind {
	var se *gosnowflake.SnowflakeError
	if !errors.As(err, &se) {
		return KindRetryable
	}
	switch se.Number {
	case 390112, 390114, 390111: // session or token expired: the driver logs in again
		return KindRetryable
	case 3001: // Insufficient privileges to operate on …
		return KindPrivilege
	case 2003, 2043: // Object does not exist or not authorized
		return KindObjectMissing
	case 606, 390201, 390189: // no active warehouse; database/role/warehouse given at login does not exist
		return KindConfig
	case 608, 625, 630: // warehouse suspended/resuming, statement timeout, queue timeout
		return KindRetryable
	case gosnowflake.ErrFailedToAuth:
		return KindAuth
	}
	switch {
	case se.Number >= 390000 && se.Number < 391000, se.SQLState == "28000", se.SQLState == "08004":
		return KindAuth
	case se.SQLState == "42501":
		return KindPrivilege
	case se.SQLState == "42S02", se.SQLState == "02000":
		return KindObjectMissing
	case strings.HasPrefix(se.SQLState, "42"):
		return KindCompilation
	case se.Number >= 260000 && se.Number < 261000: // driver configuration (DSN, key, account)
		return KindConfig
	}
	return KindRetryable
}
