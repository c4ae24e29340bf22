package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{"DROPSHIPPING_DB", "compute_wh", "_x", "A$1"} {
		if err := Check("SNOW_DATABASE", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1DB", "DB; DROP TABLE X", `DB"`, "DB.RAW", "a-b", "DB--", strings.Repeat("A", 256), "É"} {
		err := Check("SNOW_DATABASE", bad)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), "SNOW_DATABASE") {
			t.Errorf("%q accepted or unnamed: %v", bad, err)
		}
	}
}
