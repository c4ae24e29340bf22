package snowflake

import (
	"errors"
	"strings"

	"github.com/snowflakedb/gosnowflake"

	"github.com/dropflow/dropflow/internal/warehouse"
)

// snowflakeError wraps a driver error with the statement name and its kind;
// it keeps an existing QueryError as it is.
func snowflakeError(statement string, err error) error {
	if err == nil {
		return nil
	}
	var qe *warehouse.QueryError
	if errors.As(err, &qe) {
		return err
	}
	return &warehouse.QueryError{Statement: statement, Kind: Classify(err), Err: err}
}

// Classify sorts a gosnowflake error: authentication, privileges,
// compilation, missing objects and configuration are permanent; network
// errors, throttling, timeouts and anything unknown retry.
func Classify(err error) warehouse.ErrorKind {
	var se *gosnowflake.SnowflakeError
	if !errors.As(err, &se) {
		return warehouse.KindRetryable
	}
	switch se.Number {
	case 390112, 390114, 390111: // session or token expired: the driver logs in again
		return warehouse.KindRetryable
	case 3001: // Insufficient privileges to operate on …
		return warehouse.KindPrivilege
	case 2003, 2043: // Object does not exist or not authorized
		return warehouse.KindObjectMissing
	case 606, 390201, 390189: // no active warehouse; database/role/warehouse given at login does not exist
		return warehouse.KindConfig
	case 608, 625, 630: // warehouse suspended/resuming, statement timeout, queue timeout
		return warehouse.KindRetryable
	case gosnowflake.ErrFailedToAuth:
		return warehouse.KindAuth
	}
	switch {
	case se.Number >= 390000 && se.Number < 391000, se.SQLState == "28000", se.SQLState == "08004":
		return warehouse.KindAuth
	case se.SQLState == "42501":
		return warehouse.KindPrivilege
	case se.SQLState == "42S02", se.SQLState == "02000":
		return warehouse.KindObjectMissing
	case strings.HasPrefix(se.SQLState, "42"):
		return warehouse.KindCompilation
	case se.Number >= 260000 && se.Number < 261000: // driver configuration (DSN, key, account)
		return warehouse.KindConfig
	}
	return warehouse.KindRetryable
}
