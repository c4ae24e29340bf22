// Package fleet keeps every worker of a task queue on the same warehouse,
// broker and topic. Temporal hands each activity to whichever worker polls
// first, so a worker serving another warehouse would silently load part of
// the data into the wrong place. Each worker advertises what it serves in
// its Temporal identity; before polling, a new worker reads the identities
// of the queue's live pollers (DescribeTaskQueue) and refuses to join a
// queue served by anything else.
package fleet

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Member is what one worker serves.
type Member struct {
	// Warehouse is the comparable identity of the warehouse: "duckdb:<id
	// stored in the file>" or "snowflake:<ACCOUNT>/<DATABASE>".
	Warehouse string
	// Where describes it for people: the DuckDB file as host:path, or the
	// Snowflake account and database.
	Where string
	// Broker is the Kafka cluster id ("" when the broker did not answer at
	// start: then it is not compared); Topic the orders topic.
	Broker string
	Topic  string
}

const marker = "dropflow?"

// maxWhere keeps identities short: Temporal shows them in every poller row.
const maxWhere = 160

// Identity is the Temporal worker identity advertising m: base (pid@host)
// followed by a query-encoded description.
func (m Member) Identity(base string) string {
	where := m.Where
	if len(where) > maxWhere {
		where = "…" + where[len(where)-maxWhere:]
	}
	v := url.Values{}
	v.Set("wh", m.Warehouse)
	v.Set("where", where)
	v.Set("kafka", m.Broker)
	v.Set("topic", m.Topic)
	return base + " " + marker + v.Encode()
}

// Parse reads a Member back from a worker identity; ok is false for a
// poller that does not advertise one (another program, an older worker).
func Parse(identity string) (Member, bool) {
	i := strings.Index(identity, marker)
	if i < 0 {
		return Member{}, false
	}
	v, err := url.ParseQuery(identity[i+len(marker):])
	if err != nil || v.Get("wh") == "" {
		return Member{}, false
	}
	return Member{Warehouse: v.Get("wh"), Where: v.Get("where"), Broker: v.Get("kafka"), Topic: v.Get("topic")}, true
}

// Poller is one entry of DescribeTaskQueue.
type Poller struct {
	Identity   string
	LastAccess time.Time
}

// LiveWindow is how recently a poller must have polled to count as live.
// A worker re-polls at least once a minute (long polls last up to ~70 s), so
// a worker that stopped is forgotten after this.
const LiveWindow = 2 * time.Minute

// MismatchError says which live worker serves something else, and what to do.
type MismatchError struct {
	Queue, What string
	Self, Other Member
	OtherID     string
	Seen        time.Duration
}

func (e *MismatchError) Error() string {
	self, other := e.Self.Where, e.Other.Where
	switch e.What {
	case "broker":
		self, other = "Kafka cluster "+e.Self.Broker, "Kafka cluster "+e.Other.Broker
	case "topic":
		self, other = "topic "+e.Self.Topic, "topic "+e.Other.Topic
	}
	return fmt.Sprintf("refusing to join task queue %s: it is served by %s (worker %q, polled %s ago), this worker serves %s; every worker of a queue must serve the same warehouse, broker and topic: for several workers use WAREHOUSE=snowflake (one account and database), for a second DuckDB file give its worker its own TEMPORAL_NAMESPACE (or stop the other worker and wait %s)",
		e.Queue, other, e.OtherID, e.Seen.Round(time.Second), self, LiveWindow)
}

// Check refuses self when a live poller of the queue advertises another
// warehouse, broker or topic. Pollers without an advertisement are ignored.
func Check(queue string, self Member, pollers []Poller, now time.Time) error {
	for _, p := range pollers {
		other, ok := Parse(p.Identity)
		if !ok || (!p.LastAccess.IsZero() && now.Sub(p.LastAccess) > LiveWindow) {
			continue
		}
		what := ""
		switch {
		case other.Warehouse != self.Warehouse:
			what = "warehouse"
		case other.Broker != self.Broker && other.Broker != "" && self.Broker != "":
			what = "broker"
		case other.Topic != self.Topic:
			what = "topic"
		default:
			continue
		}
		return &MismatchError{Queue: queue, What: what, Self: self, Other: other, OtherID: p.Identity, Seen: now.Sub(p.LastAccess)}
	}
	return nil
}

// Describe lists a queue's pollers (workflow and activity), as the worker's
// Temporal client reports them.
type Describe func(ctx context.Context) ([]Poller, error)

// Join checks the queue's live pollers once.
func Join(ctx context.Context, queue string, self Member, describe Describe) error {
	pollers, err := describe(ctx)
	if err != nil {
		return fmt.Errorf("describe task queue %s (to check its workers serve this warehouse): %w", queue, err)
	}
	return Check(queue, self, pollers, time.Now())
}
