package snowemu

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// convertBinds turns the driver's bindings ("1".."n", each a typed string or
// an array of them) into DuckDB arguments; arrays is the array length (0
// when the binds are scalars).
func convertBinds(binds map[string]bindValue) ([]any, int, error) {
	if len(binds) == 0 {
		return nil, 0, nil
	}
	args := make([]any, len(binds))
	arrays := 0
	for k, b := range binds {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || i > len(binds) {
			return nil, 0, compileError("named binds (%q) are not supported by the emulator", k)
		}
		raw := strings.TrimSpace(string(b.Value))
		if strings.HasPrefix(raw, "[") {
			var vals []*string
			if err := json.Unmarshal(b.Value, &vals); err != nil {
				return nil, 0, compileError("bind %s: %v", k, err)
			}
			if arrays != 0 && arrays != len(vals) {
				return nil, 0, compileError("array binds of different lengths (%d and %d)", arrays, len(vals))
			}
			arrays = len(vals)
			conv := make([]any, len(vals))
			for j, v := range vals {
				if conv[j], err = bindScalar(b.Type, v); err != nil {
					return nil, 0, err
				}
			}
			args[i-1] = conv
			continue
		}
		var v *string
		if err := json.Unmarshal(b.Value, &v); err != nil {
			return nil, 0, compileError("bind %s: %v", k, err)
		}
		if args[i-1], err = bindScalar(b.Type, v); err != nil {
			return nil, 0, err
		}
	}
	return args, arrays, nil
}

// bindScalar decodes one bind value as gosnowflake encodes it.
func bindScalar(typ string, v *string) (any, error) {
	if v == nil {
		return nil, nil
	}
	s := *v
	switch strings.ToUpper(typ) {
	case "TEXT":
		return s, nil
	case "FIXED":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &Error{Code: 100038, SQLState: "22018", Message: fmt.Sprintf("Numeric value '%s' is not recognized", s)}
		}
		return n, nil
	case "REAL":
		return strconv.ParseFloat(s, 64)
	case "BOOLEAN":
		return strconv.ParseBool(s)
	case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ":
		ns, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &Error{Code: 100035, SQLState: "22007", Message: fmt.Sprintf("Timestamp '%s' is not recognized", s)}
		}
		return time.Unix(0, ns).UTC(), nil
	case "DATE":
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, err
		}
		return time.UnixMilli(ms).UTC(), nil
	case "BINARY":
		return hex.DecodeString(s)
	}
	return nil, compileError("bind type %s is not supported by the emulator", typ)
}

// row picks the i-th element of array binds.
func row(args []any, i int) []any {
	out := make([]any, len(args))
	for k, a := range args {
		if arr, ok := a.([]any); ok {
			out[k] = arr[i]
		} else {
			out[k] = a
		}
	}
	return out
}
