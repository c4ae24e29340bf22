package dashboard

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dropflow/dropflow/internal/kafka"
)

// History keeps the last Window of what only this process can see, sampled
// every Interval: Kafka lag per partition and freshness to PROD (p95 over the
// last minute, from the merge's histogram). The page draws it beside the
// warehouse's own per-minute counts, so trends need no external Prometheus.
type History struct {
	Interval time.Duration
	Window   time.Duration
	// Lag reads lag per partition; nil leaves lag out.
	Lag func(ctx context.Context) ([]kafka.PartitionLag, error)
	// Freshness is the produced_at → PROD histogram; nil leaves it out.
	Freshness prometheus.Histogram

	mu      sync.Mutex
	samples []sample
}

type sample struct {
	at      time.Time
	lag     []kafka.PartitionLag
	lagErr  string
	buckets []uint64 // cumulative counts of Freshness, one per upper bound
	bounds  []float64
}

// Point is one sample as the API serves it.
type Point struct {
	At string `json:"at"`
	// FreshnessP95 is the p95 of produced_at → PROD over the minute before
	// At; null when no merge wrote anything in that minute.
	FreshnessP95 *float64             `json:"freshness_p95_s"`
	Lag          []kafka.PartitionLag `json:"lag"`
	LagError     string               `json:"lag_error,omitempty"`
}

// Run samples until ctx ends.
func (h *History) Run(ctx context.Context) {
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		h.Sample(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sample records one point at now and forgets those older than Window.
func (h *History) Sample(ctx context.Context, now time.Time) {
	s := sample{at: now.UTC(), lag: []kafka.PartitionLag{}}
	if h.Lag != nil {
		s.lag, s.lagErr = readLag(ctx, h.Lag)
	}
	snap := h.read(now)
	s.buckets, s.bounds = snap.buckets, snap.bounds
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, s)
	cut := 0
	for cut < len(h.samples) && now.Sub(h.samples[cut].at) > h.Window {
		cut++
	}
	h.samples = append(h.samples[:0], h.samples[cut:]...)
}

// read snapshots the freshness histogram's cumulative buckets at now.
func (h *History) read(now time.Time) sample {
	s := sample{at: now}
	if h.Freshness == nil {
		return s
	}
	var m dto.Metric
	if err := h.Freshness.Write(&m); err == nil {
		for _, b := range m.GetHistogram().GetBucket() {
			s.buckets = append(s.buckets, b.GetCumulativeCount())
			s.bounds = append(s.bounds, b.GetUpperBound())
		}
		s.buckets = append(s.buckets, m.GetHistogram().GetSampleCount()) // +Inf
		s.bounds = append(s.bounds, math.Inf(1))
	}
	return s
}

// readLag asks for lag within 3 s: a dead broker must not hold the page.
// On error the lag is empty and the error is said.
func readLag(ctx context.Context, lag func(context.Context) ([]kafka.PartitionLag, error)) ([]kafka.PartitionLag, string) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	l, err := lag(ctx)
	if err != nil {
		return []kafka.PartitionLag{}, err.Error()
	}
	return l, ""
}

// Points returns the samples, oldest first, and a last point at now: the
// freshness of the minute up to now read from the live histogram (so a
// merge shows at once, not at the next sample), with the newest lag.
func (h *History) Points() []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Point, 0, len(h.samples)+1)
	for i, s := range h.samples {
		out = append(out, h.point(i, s))
	}
	if n := len(h.samples); n > 0 && h.Freshness != nil {
		now := h.read(time.Now().UTC())
		now.lag, now.lagErr = h.samples[n-1].lag, h.samples[n-1].lagErr
		out = append(out, h.point(n, now))
	}
	return out
}

// point is sample s (at index i, or i == len for the live one) with its p95
// over the samples of the minute before it.
func (h *History) point(i int, s sample) Point {
	p := Point{At: s.at.Format(time.RFC3339), Lag: s.lag, LagError: s.lagErr}
	j := i
	for j > 0 && s.at.Sub(h.samples[j-1].at) <= time.Minute {
		j--
	}
	if j < i {
		if q, ok := quantile(0.95, s.bounds, delta(s.buckets, h.samples[j].buckets)); ok {
			p.FreshnessP95 = &q
		}
	}
	return p
}

func delta(now, before []uint64) []uint64 {
	if len(now) != len(before) {
		return nil
	}
	d := make([]uint64, len(now))
	for i := range now {
		d[i] = now[i] - before[i]
	}
	return d
}

// quantile interpolates within cumulative buckets as Prometheus's
// histogram_quantile does; a quantile in the +Inf bucket is reported as
// the highest finite bound.
func quantile(q float64, bounds []float64, cum []uint64) (float64, bool) {
	if len(cum) == 0 || cum[len(cum)-1] == 0 {
		return 0, false
	}
	rank := q * float64(cum[len(cum)-1])
	lower, below := 0.0, uint64(0)
	for i, c := range cum {
		if float64(c) >= rank {
			if math.IsInf(bounds[i], 1) {
				return lower, true
			}
			in := c - below
			if in == 0 {
				return bounds[i], true
			}
			return lower + (bounds[i]-lower)*(rank-float64(below))/float64(in), true
		}
		lower, below = bounds[i], c
	}
	return lower, true
}
