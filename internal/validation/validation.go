// Package validation checks the warehouse the way a data engineer would
// before trusting it: RAW against PROD, duplicates, data quality, referential
// integrity, rejects and freshness. Each check carries its figures and the
// query behind it. The SQL is plain enough to run on DuckDB and Snowflake.
package validation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// MergeGrace is how long a RAW event may wait for the merge before its
// absence from PROD is a failure rather than a warning.
const MergeGrace = 10 * time.Minute

// FreshnessWindow: no event ingested within it is a warning (a shop that
// sells every hour has stopped reaching the warehouse).
const FreshnessWindow = time.Hour

type check struct {
	name  string
	query string
	args  func(now time.Time) []any
	// judge turns the figure into a status and message.
	judge func(n int64) (string, string)
}

func failIfAny(what string) func(int64) (string, string) {
	return func(n int64) (string, string) {
		if n > 0 {
			return params.StatusFail, fmt.Sprintf("%d %s", n, what)
		}
		return params.StatusPass, "none: " + what
	}
}

// DefaultConflictThreshold is the count of event_id conflicts above which
// the conflicts check fails (any conflict warns).
const DefaultConflictThreshold = 100

func checks(o Options) []check {
	conflictLimit := o.ConflictThreshold
	if conflictLimit <= 0 {
		conflictLimit = DefaultConflictThreshold
	}
	return []check{
		{name: "raw_orders_missing_in_prod", query: `SELECT count(*) FROM (SELECT order_id, min(ingested_at) AS first_ingested FROM staging.orders_events_flat GROUP BY order_id) r
LEFT JOIN prod.orders p ON p.order_id = r.order_id WHERE p.order_id IS NULL AND r.first_ingested < ?`,
			args:  func(now time.Time) []any { return []any{now.Add(-MergeGrace)} },
			judge: failIfAny("orders in RAW for over 10 minutes but not in PROD")},
		{name: "raw_orders_awaiting_merge", query: `SELECT count(*) FROM (SELECT order_id, min(ingested_at) AS first_ingested FROM staging.orders_events_flat GROUP BY order_id) r
LEFT JOIN prod.orders p ON p.order_id = r.order_id WHERE p.order_id IS NULL AND r.first_ingested >= ?`,
			args: func(now time.Time) []any { return []any{now.Add(-MergeGrace)} },
			judge: func(n int64) (string, string) {
				if n > 0 {
					return params.StatusWarn, fmt.Sprintf("%d orders ingested in the last 10 minutes not merged yet", n)
				}
				return params.StatusPass, "every RAW order is in PROD"
			}},
		{name: "prod_orders_missing_in_raw", query: `SELECT count(*) FROM prod.orders p WHERE NOT EXISTS (SELECT 1 FROM staging.orders_events_flat r WHERE r.order_id = p.order_id)`,
			judge: failIfAny("PROD orders without any RAW event")},
		// The grace runs from the newer version's ingestion, not the order's first.
		{name: "prod_version_behind_raw", query: `SELECT count(*) FROM prod.orders p WHERE EXISTS (SELECT 1 FROM staging.orders_events_flat r
WHERE r.order_id = p.order_id AND r.event_version > p.event_version AND r.ingested_at < ?)`,
			args:  func(now time.Time) []any { return []any{now.Add(-MergeGrace)} },
			judge: failIfAny("PROD orders older than their newest RAW event")},
		{name: "raw_duplicate_event_ids", query: `SELECT count(*) FROM (SELECT event_id FROM raw.orders_events GROUP BY event_id HAVING count(*) > 1) d`,
			judge: failIfAny("event_ids stored more than once in RAW")},
		{name: "prod_duplicate_order_ids", query: `SELECT count(*) FROM (SELECT order_id FROM prod.orders GROUP BY order_id HAVING count(*) > 1) d`,
			judge: failIfAny("order_ids present more than once in PROD")},
		{name: "prod_null_keys", query: `SELECT count(*) FROM prod.orders WHERE order_id IS NULL OR customer_id IS NULL OR product_id IS NULL`,
			judge: failIfAny("PROD orders with a null key")},
		{name: "prod_non_positive_quantity", query: `SELECT count(*) FROM prod.orders WHERE quantity IS NULL OR quantity <= 0`,
			judge: failIfAny("PROD orders with quantity <= 0")},
		{name: "prod_negative_price", query: `SELECT count(*) FROM prod.orders WHERE unit_price IS NULL OR unit_price < 0`,
			judge: failIfAny("PROD orders with a negative price")},
		{name: "prod_total_mismatch", query: `SELECT count(*) FROM prod.orders WHERE total_amount <> quantity * unit_price`,
			judge: failIfAny("PROD orders whose total is not quantity × unit_price")},
		{name: "prod_future_timestamps", query: `SELECT count(*) FROM prod.orders WHERE sold_at > ?`,
			args:  func(now time.Time) []any { return []any{now.Add(5 * time.Minute)} },
			judge: failIfAny("PROD orders sold in the future")},
		{name: "prod_orders_unknown_customer", query: `SELECT count(*) FROM prod.orders o LEFT JOIN prod.customers c ON c.customer_id = o.customer_id WHERE c.customer_id IS NULL`,
			judge: failIfAny("PROD orders whose customer is missing from PROD.customers")},
		{name: "prod_orders_unknown_product", query: `SELECT count(*) FROM prod.orders o LEFT JOIN prod.inventory i ON i.product_id = o.product_id WHERE i.product_id IS NULL`,
			judge: failIfAny("PROD orders whose product is missing from PROD.inventory")},
		// Same event_id, other content: two producers (or two seeds) disagree on
		// an event; RAW kept the first, and PROD may mix data sets.
		{name: "raw_event_id_conflicts", query: `SELECT count(*) FROM raw.orders_events_rejected WHERE reason = 'event_id_conflict'`,
			judge: func(n int64) (string, string) {
				switch {
				case n > conflictLimit:
					return params.StatusFail, fmt.Sprintf("%d events reuse an event_id already loaded with other content (over %d): producers disagree, PROD may mix data sets; see RAW.orders_events_rejected (conflict_partition, conflict_offset, conflict_value)", n, conflictLimit)
				case n > 0:
					return params.StatusWarn, fmt.Sprintf("%d events reuse an event_id already loaded with other content; RAW kept the first (see RAW.orders_events_rejected)", n)
				}
				return params.StatusPass, "no event_id reused with other content"
			}},
		{name: "raw_rejected_events", query: `SELECT count(*) FROM raw.orders_events_rejected`,
			judge: func(n int64) (string, string) {
				if n > 0 {
					return params.StatusWarn, fmt.Sprintf("%d Kafka records rejected (kept in RAW.orders_events_rejected)", n)
				}
				return params.StatusPass, "no rejected records"
			}},
		{name: "freshness", query: `SELECT count(*) FROM raw.orders_events WHERE ingested_at >= ?`,
			args: func(now time.Time) []any { return []any{now.Add(-FreshnessWindow)} },
			judge: func(n int64) (string, string) {
				if n == 0 {
					return params.StatusWarn, "no event ingested in the last hour"
				}
				return params.StatusPass, fmt.Sprintf("%d events ingested in the last hour", n)
			}},
	}
}

// MergeStaleAfter: no merge run (skips included) for this long is a warning.
const MergeStaleAfter = 15 * time.Minute

// DefaultLagThreshold is the per-partition lag (records) above which the lag check warns.
const DefaultLagThreshold = 10000

// Options are the inputs of Run besides the warehouse.
type Options struct {
	Now time.Time
	// Topic, Lag and LagErr describe Kafka lag, measured by the caller.
	Topic        string
	Lag          []kafka.PartitionLag
	LagErr       error
	LagThreshold int64
	// ConflictThreshold: event_id conflicts above it fail (default DefaultConflictThreshold).
	ConflictThreshold int64
}

// Run executes every check and returns the report (without path or run id).
func Run(ctx context.Context, wh warehouse.Reader, o Options) (params.ValidationReport, error) {
	now := o.Now
	rep := params.ValidationReport{Timestamp: now.UTC().Format(time.RFC3339Nano), Status: params.StatusPass}
	for _, c := range checks(o) {
		var args []any
		if c.args != nil {
			args = c.args(now)
		}
		n, err := warehouse.CountInt(ctx, wh, c.query, args...)
		if err != nil {
			return rep, fmt.Errorf("validation: check %s: %w", c.name, err)
		}
		status, msg := c.judge(n)
		rep.Checks = append(rep.Checks, params.Check{Name: c.name, Status: status, Message: msg,
			Figures: map[string]int64{"count": n}, Query: strings.Join(strings.Fields(c.query), " ")})
	}
	if err := topReasons(ctx, wh, &rep); err != nil {
		return rep, err
	}
	for _, extra := range []func(context.Context, warehouse.Reader, Options) (params.Check, error){rejectsSinceLastRun, newestEventAge, lastMerge} {
		c, err := extra(ctx, wh, o)
		if err != nil {
			return rep, err
		}
		rep.Checks = append(rep.Checks, c)
	}
	rep.Checks = append(rep.Checks, kafkaLag(o))
	counts, err := warehouse.Layers(ctx, wh)
	if err != nil {
		return rep, fmt.Errorf("validation: %w", err)
	}
	rep.Counts = params.LayerCounts(counts)
	for _, c := range rep.Checks {
		rep.Summary.Total++
		switch c.Status {
		case params.StatusPass:
			rep.Summary.Pass++
		case params.StatusWarn:
			rep.Summary.Warn++
		case params.StatusFail:
			rep.Summary.Fail++
		}
	}
	switch {
	case rep.Summary.Fail > 0:
		rep.Status = params.StatusFail
	case rep.Summary.Warn > 0:
		rep.Status = params.StatusWarn
	}
	return rep, nil
}

// topReasons adds the rejects' reasons as figures of the rejects check.
func topReasons(ctx context.Context, wh warehouse.Reader, rep *params.ValidationReport) error {
	rows, err := wh.Query(ctx, topReasonsQuery)
	if err != nil {
		return fmt.Errorf("validation: reject reasons: %w", err)
	}
	defer rows.Close()
	for i := range rep.Checks {
		if rep.Checks[i].Name != "raw_rejected_events" {
			continue
		}
		for rows.Next() {
			var reason string
			var n int64
			if err := rows.Scan(&reason, &n); err != nil {
				return fmt.Errorf("validation: reject reasons: %w", err)
			}
			rep.Checks[i].Figures["reason:"+reason] = n
		}
	}
	return rows.Err()
}

// The validation's SQL outside checks(): portable between the dialects.
const (
	topReasonsQuery  = `SELECT reason, count(*) AS n FROM raw.orders_events_rejected GROUP BY reason ORDER BY n DESC, reason LIMIT 5`
	newestEventQuery = `SELECT max(ingested_at) FROM raw.orders_events`
	lastMergeQuery   = `SELECT max(finished_at) FROM ops.merge_runs`
)

// Queries returns every statement validation sends, by check or helper name
// (both dialects run the same text; golden-file tests pin it).
func Queries() map[string]string {
	q := map[string]string{"top_reject_reasons": topReasonsQuery, "newest_event_age": newestEventQuery, "last_merge": lastMergeQuery, "rejects_since_last_validation": sinceLastRunQuery}
	for _, c := range checks(Options{}) {
		q[c.name] = c.query
	}
	return q
}

const sinceLastRunQuery = `SELECT count(*) FROM raw.orders_events_rejected WHERE rejected_at > (SELECT coalesce(max(ran_at), CAST('1970-01-01' AS TIMESTAMP)) FROM ops.validation_runs)`

func rejectsSinceLastRun(ctx context.Context, wh warehouse.Reader, _ Options) (params.Check, error) {
	c := params.Check{Name: "rejects_since_last_validation", Query: sinceLastRunQuery, Figures: map[string]int64{}}
	n, err := warehouse.CountInt(ctx, wh, sinceLastRunQuery)
	if err != nil {
		return c, fmt.Errorf("validation: rejects since last run: %w", err)
	}
	c.Figures["count"] = n
	c.Status, c.Message = params.StatusPass, "no new rejects since the last validation"
	if n > 0 {
		c.Status, c.Message = params.StatusWarn, fmt.Sprintf("%d records rejected since the last validation", n)
	}
	return c, nil
}

func maxTime(ctx context.Context, wh warehouse.Reader, q string) (*time.Time, error) {
	var t *time.Time
	if err := wh.QueryRow(ctx, q).Scan(&t); err != nil {
		return nil, fmt.Errorf("validation: %s: %w", q, err)
	}
	return t, nil
}

func newestEventAge(ctx context.Context, wh warehouse.Reader, o Options) (params.Check, error) {
	return ageCheck(ctx, wh, o, ageRule{name: "newest_event_age", query: newestEventQuery, none: "RAW holds no event yet", what: "newest event ingested",
		stale: FreshnessWindow})
}

func lastMerge(ctx context.Context, wh warehouse.Reader, o Options) (params.Check, error) {
	return ageCheck(ctx, wh, o, ageRule{name: "last_merge", query: lastMergeQuery, note: " (a run that found nothing new counts as a run)",
		none: "no merge has run yet", what: "last merge finished", stale: MergeStaleAfter, hint: ": is the MergeOrders schedule running?"})
}

// ageRule is a check of how long ago a timestamp query's answer was: WARN
// when there is none yet, or when it is older than stale.
type ageRule struct {
	name, query, note, none, what, hint string
	stale                               time.Duration
}

func ageCheck(ctx context.Context, wh warehouse.Reader, o Options, r ageRule) (params.Check, error) {
	c := params.Check{Name: r.name, Query: r.query + r.note, Figures: map[string]int64{}}
	t, err := maxTime(ctx, wh, r.query)
	if err != nil {
		return c, err
	}
	if t == nil {
		c.Status, c.Message = params.StatusWarn, r.none
		return c, nil
	}
	age := o.Now.Sub(t.UTC()).Round(time.Second)
	c.Figures["age_seconds"] = int64(age.Seconds())
	c.Status, c.Message = params.StatusPass, fmt.Sprintf("%s %s ago", r.what, age)
	if age > r.stale {
		c.Status = params.StatusWarn
		if r.hint != "" {
			c.Message = fmt.Sprintf("%s %s ago (over %s)%s", r.what, age, r.stale, r.hint)
		}
	}
	return c, nil
}

func kafkaLag(o Options) params.Check {
	c := params.Check{Name: "kafka_lag", Query: "Kafka ListOffsets end offset minus OPS.kafka_offsets.next_offset, per partition of " + o.Topic, Figures: map[string]int64{}}
	threshold := o.LagThreshold
	if threshold <= 0 {
		threshold = DefaultLagThreshold
	}
	if o.LagErr != nil {
		c.Status, c.Message = params.StatusWarn, "lag unknown: "+o.LagErr.Error()
		return c
	}
	worst := int64(0)
	for _, p := range o.Lag {
		c.Figures[fmt.Sprintf("partition_%d", p.Partition)] = p.Lag
		worst = max(worst, p.Lag)
	}
	c.Figures["threshold"] = threshold
	c.Status, c.Message = params.StatusPass, fmt.Sprintf("max lag %d records (threshold %d)", worst, threshold)
	if worst > threshold {
		c.Status = params.StatusWarn
	}
	return c
}
