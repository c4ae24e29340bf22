package snowemu

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// column is one rowtype entry; typ is Snowflake's lower-case type name.
type column struct {
	name             string
	typ              string
	precision, scale int
}

// queryResult is what a statement returns, encoded as gosnowflake reads
// JSON rowsets: every value a string or null.
type queryResult struct {
	stmtType int
	columns  []column
	rows     [][]*string
	produced int64
	extra    map[string]any // PUT's upload instructions
}

func (r *queryResult) data(qid string, ss *session) map[string]any {
	rowtype := make([]map[string]any, len(r.columns))
	for i, c := range r.columns {
		rowtype[i] = map[string]any{"name": c.name, "type": c.typ, "nullable": true, "precision": c.precision, "scale": c.scale, "length": nil, "byteLength": nil}
	}
	rows := r.rows
	if rows == nil {
		rows = [][]*string{}
	}
	d := map[string]any{
		"parameters": []any{}, "rowtype": rowtype, "rowset": rows, "total": len(rows), "returned": len(rows),
		"queryId": qid, "statementTypeId": r.stmtType, "queryResultFormat": "json", "version": 1,
		"finalDatabaseName": ss.database, "finalSchemaName": ss.schema, "finalWarehouseName": ss.warehouse, "finalRoleName": ss.role,
	}
	for k, v := range r.extra {
		d[k] = v
	}
	return d
}

// selectRows runs a query and encodes its rows.
func (ss *session) selectRows(ctx context.Context, q string, args []any) (*queryResult, error) {
	rows, err := ss.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, duckError(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, duckError(err)
	}
	res := &queryResult{stmtType: typeSelect}
	for _, ct := range cts {
		res.columns = append(res.columns, snowColumn(ct.Name(), ct.DatabaseTypeName()))
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, duckError(err)
		}
		out := make([]*string, len(vals))
		for i, v := range vals {
			if out[i], err = encode(v, res.columns[i].typ); err != nil {
				return nil, err
			}
		}
		res.rows = append(res.rows, out)
	}
	if err := rows.Err(); err != nil {
		return nil, duckError(err)
	}
	res.produced = int64(len(res.rows))
	return res, nil
}

// snowColumn maps a DuckDB result type to Snowflake's rowtype.
func snowColumn(name, duck string) column {
	// Unquoted names come back upper case from Snowflake.
	if strings.ToLower(name) == name && !strings.ContainsAny(name, " ()*,'") {
		name = strings.ToUpper(name)
	}
	c := column{name: name, typ: "text"}
	switch {
	case strings.HasPrefix(duck, "DECIMAL"):
		c.typ = "fixed"
		fmt.Sscanf(duck, "DECIMAL(%d,%d)", &c.precision, &c.scale)
	case duck == "BIGINT", duck == "INTEGER", duck == "SMALLINT", duck == "TINYINT", duck == "HUGEINT",
		duck == "UBIGINT", duck == "UINTEGER", duck == "USMALLINT", duck == "UTINYINT":
		c.typ, c.precision = "fixed", 38
	case duck == "DOUBLE", duck == "FLOAT":
		c.typ = "real"
	case duck == "BOOLEAN":
		c.typ = "boolean"
	case duck == "TIMESTAMP", duck == "TIMESTAMP_NS", duck == "TIMESTAMP_MS", duck == "TIMESTAMP_S":
		c.typ, c.scale = "timestamp_ntz", 9
	case duck == "TIMESTAMP WITH TIME ZONE":
		c.typ, c.scale = "timestamp_ltz", 9
	case duck == "DATE":
		c.typ = "date"
	case duck == "JSON":
		c.typ = "variant"
	}
	return c
}

// encode writes a value as the JSON rowset carries it: numbers and text as
// strings, booleans "1"/"0", dates as days and timestamps as
// seconds.nanoseconds since the epoch, variants as JSON text, NULL as null.
func encode(v any, typ string) (*string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = x
	case []byte:
		s = string(x)
	case bool:
		s = "0"
		if x {
			s = "1"
		}
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		s = fmt.Sprint(x)
	case *big.Int:
		s = x.String()
	case float32:
		s = strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case duckdb.Decimal:
		s = decimalString(x)
	case time.Time:
		if typ == "date" {
			s = strconv.FormatInt(x.Unix()/86400, 10)
		} else {
			s = fmt.Sprintf("%d.%09d", x.Unix(), x.Nanosecond())
		}
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		s = string(b)
	default:
		s = fmt.Sprint(x)
	}
	return &s, nil
}

func decimalString(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	neg := d.Value.Sign() < 0
	digits := new(big.Int).Abs(d.Value).String()
	scale := int(d.Scale)
	if scale > 0 {
		for len(digits) <= scale {
			digits = "0" + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits
}
