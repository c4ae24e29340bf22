package warehouse

import (
	"context"
	"encoding/json"
)

// QueryTag says which part of Dropflow sent a statement. On Snowflake it
// becomes the statement's QUERY_TAG (JSON), so that a user finds Dropflow's
// queries in QUERY_HISTORY, e.g.
// WHERE TRY_PARSE_JSON(query_tag):workflow = 'MergeOrders'.
type QueryTag struct {
	Workflow   string `json:"workflow,omitempty"`
	WorkflowID string `json:"workflow_id,omitempty"`
	Activity   string `json:"activity,omitempty"`
	// Component names a caller outside activities (dashboard, worker, starter).
	Component string `json:"component,omitempty"`
	Endpoint  string `json:"endpoint,omitempty"` // the dashboard's HTTP path
}

type queryTagKey struct{}

// WithQueryTag returns ctx carrying tag for the statements run under it.
func WithQueryTag(ctx context.Context, tag QueryTag) context.Context {
	return context.WithValue(ctx, queryTagKey{}, tag)
}

// QueryTagFrom returns the tag of ctx, or one naming the component
// "dropflow" when none was set.
func QueryTagFrom(ctx context.Context) QueryTag {
	if t, ok := ctx.Value(queryTagKey{}).(QueryTag); ok {
		return t
	}
	return QueryTag{Component: "dropflow"}
}

// String is the tag's QUERY_TAG text: {"app":"dropflow",…}.
func (t QueryTag) String() string {
	b, _ := json.Marshal(struct {
		App string `json:"app"`
		QueryTag
	}{"dropflow", t})
	return string(b)
}

// Attempt names one attempt of one activity: Key is the same for every
// attempt of the activity (workflow run and activity id), N counts them.
// The Snowflake adapter names its transactions after it, so that attempt
// N > 1, which Temporal starts only once attempt N-1 timed out (its worker
// died or hung), can abort the transactions that attempt left open and whose
// locks would otherwise block every other loader and merge.
type Attempt struct {
	Key string
	N   int
}

type attemptKey struct{}

// WithAttempt returns ctx carrying the activity attempt of its statements.
func WithAttempt(ctx context.Context, a Attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

// AttemptFrom returns the attempt ctx carries, ok false if none.
func AttemptFrom(ctx context.Context) (Attempt, bool) {
	a, ok := ctx.Value(attemptKey{}).(Attempt)
	return a, ok && a.Key != ""
}
