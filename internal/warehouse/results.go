package warehouse

import "time"

// The warehouse's own results: the activities map them onto the workflow
// contracts in params (same fields, so a conversion), which keeps this
// package free of the workflow layer.

// MergeResult reports a MergeOrders call, which may run several merge
// transactions (a backlog merges in windows).
type MergeResult struct {
	// SourceEvents is the number of new RAW events the merge read.
	SourceEvents int64
	Inserted     int64
	Updated      int64
	// Unchanged counts deduplicated orders whose PROD row was already as new.
	Unchanged int64
	// NothingNew is true when RAW had no new events.
	NothingNew bool
	// DelegatedToTask is true when Snowflake's native task
	// PROD.MERGE_ORDERS_TASK merges (SNOW_MERGE_DRIVER=task).
	DelegatedToTask bool
	// Merges counts the merge transactions.
	Merges int
	// LagSample holds produced_at → merged seconds of up to MaxLagSample
	// merged events, for the freshness metric.
	LagSample []float64
}

// MaxLagSample bounds MergeResult.LagSample.
const MaxLagSample = 1000

// Add folds the result of a later merge transaction into r.
func (r *MergeResult) Add(o MergeResult) {
	r.SourceEvents += o.SourceEvents
	r.Inserted += o.Inserted
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
	r.NothingNew = (r.Merges == 0 || r.NothingNew) && o.NothingNew
	r.DelegatedToTask = r.DelegatedToTask || o.DelegatedToTask
	r.Merges += max(1, o.Merges)
	if room := MaxLagSample - len(r.LagSample); room > 0 {
		r.LagSample = append(r.LagSample, o.LagSample[:min(room, len(o.LagSample))]...)
	}
}

// MigrateResult reports a deploy: the migrations applied now and before,
// and the script that ran (or would run, on a dry run).
type MigrateResult struct {
	Applied []string
	Already []string
	SQL     string
}

// LayerCounts are the row counts of each warehouse layer.
type LayerCounts struct {
	RawEvents     int64 `json:"raw_events"`
	RawRejected   int64 `json:"raw_rejected"`
	ProdOrders    int64 `json:"prod_orders"`
	ProdCustomers int64 `json:"prod_customers"`
	ProdInventory int64 `json:"prod_inventory"`
}

// ValidationRun is one validation's row in OPS.validation_runs.
type ValidationRun struct {
	RunID            string
	RanAt            time.Time
	Status           string
	Pass, Warn, Fail int
	// Report is the whole report as JSON.
	Report []byte
}
