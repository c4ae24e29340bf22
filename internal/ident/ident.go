// Package ident validates SQL identifiers that come from configuration
// (database, warehouse, schema, role, stage names) before they are spliced
// into SQL text; values always travel as bind parameters instead.
package ident

import (
	"fmt"
	"regexp"
)

// pattern is Snowflake's unquoted identifier rule, minus the case-sensitive
// and quoted forms: a letter or underscore, then letters, digits, _ or $,
// 255 characters at most. Anything else is refused rather than quoted.
var pattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,254}$`)

// Error names the setting whose value is not a plain identifier.
type Error struct {
	Setting, Value string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s=%q is not a plain SQL identifier (want a letter or _, then letters, digits, _ or $, at most 255 characters)", e.Setting, e.Value)
}

// Check returns an *Error naming setting when value is not a plain identifier.
func Check(setting, value string) error {
	if !pattern.MatchString(value) {
		return &Error{Setting: setting, Value: value}
	}
	return nil
}
