package params

import (
	"time"
)

// MergeOrdersInput is the input of MergeOrders.
type MergeOrdersInput struct {
	// Nudged marks the run ingest starts with signal-with-start: nudges that
	// arrive while it merges coalesce into one more merge. Default false.
	Nudged bool `json:"nudged,omitempty"`
}

// MergeOrdersResult reports one merge.
type MergeOrdersResult struct {
	// SourceEvents is the number of new RAW events the merge read.
	SourceEvents int64 `json:"source_events"`
	Inserted     int64 `json:"inserted"`
	Updated      int64 `json:"updated"`
	// Unchanged counts deduplicated orders whose PROD row was already as new.
	Unchanged int64 `json:"unchanged"`
	// NothingNew is true when the merge skipped because RAW had no new events.
	NothingNew bool `json:"nothing_new"`
	// DelegatedToTask is true when SNOW_MERGE_DRIVER=task: Snowflake's native
	// task PROD.MERGE_ORDERS_TASK merges, and MergeOrders leaves the stream to it.
	DelegatedToTask bool `json:"delegated_to_task,omitempty"`
	// Merges is how many merge transactions the result folds in (a nudged run
	// merges again for nudges received meanwhile; a large backlog merges in windows).
	Merges int `json:"merges,omitempty"`
	// LagSample holds produced_at → merged seconds of up to 1000 merged
	// events, for the freshness metric; never sent through Temporal.
	LagSample []float64 `json:"-"`
}

// Add folds another merge result (one merge, or several folded already) into the totals.
func (r *MergeOrdersResult) Add(o MergeOrdersResult) {
	r.SourceEvents += o.SourceEvents
	r.Inserted += o.Inserted
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
	// Nothing new only if every merge folded in found nothing.
	r.NothingNew = (r.Merges == 0 || r.NothingNew) && o.NothingNew
	r.DelegatedToTask = r.DelegatedToTask || o.DelegatedToTask
	r.Merges += max(1, o.Merges)
}

// Merger bounds: the nudged MergeOrders run (the merger) runs one
// MergeUntilIdle activity at a time and continues as new before its history
// passes MergerHistoryBound events.
const (
	// MergerPoll is how often the merger asks the warehouse whether RAW has
	// events not merged yet (a commit on the merger's own host wakes it at once).
	MergerPoll = 500 * time.Millisecond
	// MergerRest is how many times a merge's own duration the merger rests
	// after it while loaders on its host are behind (a backlog): merging at
	// most a fifth of the time, since merges then grow and, on DuckDB, share
	// the cores with ingest. It stops resting as soon as they catch up; in a
	// steady stream it does not rest.
	MergerRest = 4
	// MergerSteadyRest caps the rest while no loader is behind: freshness
	// stays within it, and the lock is free between merges for a moment.
	MergerSteadyRest = time.Second
	// MergerIdle ends the merger after this long without new RAW events; the
	// next nudge starts it again.
	MergerIdle = time.Minute
	// MergerMaxRun bounds one MergeUntilIdle activity; the merger then
	// continues as new.
	MergerMaxRun = 10 * time.Minute
	// MergerHistoryBound: at or above this many history events (nudges
	// while it runs), the merger continues as new.
	MergerHistoryBound = 500
	// NudgeInterval is the least time between two nudges from one worker
	// process: a running merger needs no nudge, one is only to start it.
	NudgeInterval = 10 * time.Second
)

// MergeUntilIdleInput is the input of the merger's activity; zero fields take
// the Merger* defaults.
type MergeUntilIdleInput struct {
	Poll   Duration `json:"poll,omitempty"`
	Idle   Duration `json:"idle,omitempty"`
	MaxRun Duration `json:"max_run,omitempty"`
}

// MergeUntilIdleResult folds the merges of one MergeUntilIdle activity.
type MergeUntilIdleResult struct {
	MergeOrdersResult
	// Idle is true when it ended for lack of new events (not at MaxRun).
	Idle bool `json:"idle"`
}
