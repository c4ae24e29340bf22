package datagen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/dropflow/dropflow/internal/events"
)

// Stream is the synthetic order stream of ProduceOrders' stream mode. Event n
// is a pure function of the stream's parameters and n, so a resumed producer
// resends exactly the events it may have lost, with the same ids.
//
// Events come in groups of five: three order_created (new orders), one
// order_updated to version 2 ("shipped") of an order created in the previous
// group, and one to version 3 ("delivered") of an order that reached version 2
// eight groups earlier. Every update therefore targets an order already sent.
type Stream struct {
	Seed         int64
	FirstOrderID int64
	Customers    int            // customer ids 1..Customers
	Prices       []events.Cents // unit price of product FirstProductID+i
	Start        time.Time      // sold_at of the stream's first order; later ones follow
	// Spacing between consecutive orders' sold_at.
	Spacing time.Duration
}

const perGroup = 5

// Event returns event n of the stream.
func (s Stream) Event(n int64, producedAt time.Time) events.Event {
	g, j := n/perGroup, n%perGroup
	switch {
	case j < 3:
		return events.NewOrderCreated(s.order(g*3+j, "paid"), events.SourceStream, producedAt)
	case j == 3 && g >= 1:
		return s.update(3*(g-1)+g%3, 2, "shipped", producedAt)
	case j == 4 && g >= 9:
		h := g - 8 // the group whose version-2 update targeted this order
		return s.update(3*(h-1)+h%3, 3, "delivered", producedAt)
	}
	// Early groups have no order to update yet: one more new order instead,
	// numbered after every order the regular slots will ever use in this group.
	return events.NewOrderCreated(s.order(s.extraIndex(g, j), "paid"), events.SourceStream, producedAt)
}

// extraIndex numbers the filler orders of the first nine groups above the
// regular ones' range so that ids never collide: regular orders use indexes
// 3g+j, fillers use a separate block far above any realistic stream.
func (s Stream) extraIndex(g, j int64) int64 { return 1<<40 + g*2 + (j - 3) }

func (s Stream) update(index int64, version int, status string, producedAt time.Time) events.Event {
	o := s.order(index, status)
	return events.Event{
		EventID:       events.EventID(o.OrderID, version),
		EventType:     events.TypeOrderUpdated,
		EventVersion:  version,
		SchemaVersion: events.SchemaVersion,
		OccurredAt:    o.SoldAt.Add(time.Duration(version-1) * time.Hour),
		ProducedAt:    producedAt.UTC(),
		Source:        events.SourceStream,
		Order:         o,
	}
}

// order is the index-th order of the stream (index 0 = FirstOrderID).
func (s Stream) order(index int64, status string) events.Order {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d", s.Seed, index)
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(s.Seed)))
	p := r.IntN(len(s.Prices))
	spacing := s.Spacing
	if spacing <= 0 {
		spacing = time.Second
	}
	soldAt := s.Start.Add(time.Duration(index%(1<<30)) * spacing)
	return events.Order{
		OrderID:    s.FirstOrderID + index,
		CustomerID: int64(1 + r.IntN(s.Customers)),
		ProductID:  int64(FirstProductID + p),
		Quantity:   int64(1 + r.IntN(5)),
		UnitPrice:  s.Prices[p],
		Status:     status,
		SoldAt:     soldAt.UTC().Truncate(time.Second),
	}
}

// ReadPrices reads inventory.csv's unit prices, indexed from FirstProductID.
func ReadPrices(path string) ([]events.Cents, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open inventory CSV: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(InventoryHeader)
	if _, err := r.Read(); err != nil {
		return nil, &CSVError{Path: path, Line: 1, Err: err}
	}
	var prices []events.Cents
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &CSVError{Path: path, Line: line, Err: err}
		}
		id, err := strconv.Atoi(rec[0])
		if err != nil || id != FirstProductID+len(prices) {
			return nil, &CSVError{Path: path, Line: line, Column: "product_id", Err: fmt.Errorf("want %d (ids are consecutive from %d), got %q", FirstProductID+len(prices), FirstProductID, rec[0])}
		}
		c, err := events.ParseCents(rec[3])
		if err != nil {
			return nil, &CSVError{Path: path, Line: line, Column: "unit_price", Err: err}
		}
		prices = append(prices, c)
	}
	if len(prices) == 0 {
		return nil, &CSVError{Path: path, Line: 2, Err: errors.New("no products")}
	}
	return prices, nil
}
