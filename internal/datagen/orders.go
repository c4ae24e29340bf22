package datagen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/dropflow/dropflow/internal/events"
)

// CSVError names the file, line and column of a bad CSV value.
type CSVError struct {
	Path   string
	Line   int // 1-based line in the file, header is line 1
	Column string
	Err    error
}

func (e *CSVError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: column %s: %v", e.Path, e.Line, e.Column, e.Err)
}

func (e *CSVError) Unwrap() error { return e.Err }

// OrderReader streams orders.csv. Row numbers are 0-based data rows (the
// header is not counted), which is the position producers heartbeat.
type OrderReader struct {
	path string
	f    *os.File
	r    *csv.Reader
	row  int
	base int64 // file offset where r started reading
}

// OpenOrders opens orders.csv and checks its header.
func OpenOrders(path string) (*OrderReader, error) {
	return OpenOrdersAt(path, 0, 0)
}

// OpenOrdersAt opens orders.csv, checks its header, and positions the reader
// at byteOffset, the Offset() of data row `row` from an earlier reader; 0
// means the first data row. Seeking keeps a chunked replay linear in the
// file size instead of re-reading every earlier row.
func OpenOrdersAt(path string, byteOffset int64, row int) (*OrderReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open orders CSV: %w", err)
	}
	r := csv.NewReader(f)
	r.ReuseRecord = true
	r.FieldsPerRecord = len(OrdersHeader)
	h, err := r.Read()
	if err != nil {
		f.Close()
		return nil, &CSVError{Path: path, Line: 1, Err: fmt.Errorf("read header: %w", err)}
	}
	for i, want := range OrdersHeader {
		if h[i] != want {
			f.Close()
			return nil, &CSVError{Path: path, Line: 1, Err: fmt.Errorf("header column %d is %q, want %q (want %v)", i+1, h[i], want, OrdersHeader)}
		}
	}
	if byteOffset > 0 {
		if byteOffset < r.InputOffset() {
			f.Close()
			return nil, &CSVError{Path: path, Line: row + 2, Err: fmt.Errorf("byte offset %d is inside the header", byteOffset)}
		}
		if _, err := f.Seek(byteOffset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("seek orders CSV: %w", err)
		}
		r = csv.NewReader(f)
		r.ReuseRecord = true
		r.FieldsPerRecord = len(OrdersHeader)
		return &OrderReader{path: path, f: f, r: r, row: row, base: byteOffset}, nil
	}
	return &OrderReader{path: path, f: f, r: r}, nil
}

// Offset is the byte offset of the next data row, for OpenOrdersAt.
func (o *OrderReader) Offset() int64 { return o.base + o.r.InputOffset() }

// Close closes the file.
func (o *OrderReader) Close() error { return o.f.Close() }

// Row is the 0-based index of the next data row Next returns.
func (o *OrderReader) Row() int { return o.row }

// Skip advances n data rows without parsing them.
func (o *OrderReader) Skip(n int) error {
	for i := 0; i < n; i++ {
		if _, err := o.r.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return &CSVError{Path: o.path, Line: o.row + 2, Err: err}
		}
		o.row++
	}
	return nil
}

// Next parses the next order; io.EOF at the end.
func (o *OrderReader) Next() (events.Order, error) {
	rec, err := o.r.Read()
	if errors.Is(err, io.EOF) {
		return events.Order{}, io.EOF
	}
	line := o.row + 2
	if err != nil {
		return events.Order{}, &CSVError{Path: o.path, Line: line, Err: err}
	}
	o.row++
	bad := func(col int, err error) error {
		return &CSVError{Path: o.path, Line: line, Column: OrdersHeader[col], Err: err}
	}
	var ord events.Order
	ints := []*int64{&ord.OrderID, &ord.CustomerID, &ord.ProductID, &ord.Quantity}
	for i, dst := range ints {
		v, err := strconv.ParseInt(rec[i], 10, 64)
		if err != nil {
			return ord, bad(i, fmt.Errorf("not an integer: %q", rec[i]))
		}
		*dst = v
	}
	if ord.Quantity < 1 {
		return ord, bad(3, fmt.Errorf("must be >= 1, got %d", ord.Quantity))
	}
	if ord.UnitPrice, err = events.ParseCents(rec[4]); err != nil {
		return ord, bad(4, err)
	}
	if ord.UnitPrice < 0 {
		return ord, bad(4, fmt.Errorf("must be >= 0, got %s", rec[4]))
	}
	if !events.ValidStatus(rec[5]) {
		return ord, bad(5, fmt.Errorf("unknown status %q (want one of %v)", rec[5], events.Statuses()))
	}
	ord.Status = rec[5]
	if ord.SoldAt, err = time.Parse(time.RFC3339, rec[6]); err != nil {
		return ord, bad(6, fmt.Errorf("want ISO 8601 UTC such as 2026-01-31T12:00:00Z, got %q", rec[6]))
	}
	return ord, nil
}

// ReadAllOrders reads a whole orders.csv (tests and validation use it).
func ReadAllOrders(path string) ([]events.Order, error) {
	r, err := OpenOrders(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []events.Order
	for {
		o, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
}
