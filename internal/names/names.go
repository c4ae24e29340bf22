// Package names holds the public names of Dropflow's Temporal surface: task
// queue, workflow types, signals, queries and workflow-ID builders. Workflows,
// worker and starter all import it so that a name changes in one place only.
package names

import "fmt"

// TaskQueue is the task queue every Dropflow worker polls.
const TaskQueue = "dropflow"

// Workflow type names. They are public API: users start them by name with
// `temporal workflow start --type X`.
const (
	Pipeline         = "Pipeline"
	DeploySchema     = "DeploySchema"
	SeedData         = "SeedData"
	ProduceOrders    = "ProduceOrders"
	IngestOrders     = "IngestOrders"
	MergeOrders      = "MergeOrders"
	ValidatePipeline = "ValidatePipeline"
)

// AllWorkflows lists the workflow types in pipeline order.
func AllWorkflows() []string {
	return []string{DeploySchema, SeedData, ProduceOrders, IngestOrders, MergeOrders, ValidatePipeline, Pipeline}
}

// Signals and queries.
const (
	// SignalDrain tells an IngestOrders run that its producer is done: it
	// loads up to the partitions' current end offsets once more and returns.
	SignalDrain = "drain"
	// SignalStop stops a following IngestOrders run after its current batch.
	SignalStop = "stop"
	// QueryProgress returns a workflow's progress struct.
	QueryProgress = "progress"
	// SignalPause and SignalResume pause and resume a ProduceOrders run at its
	// next chunk boundary (within params.ProduceChunkTime).
	SignalPause  = "pause"
	SignalResume = "resume"
	// UpdateSetRate changes a ProduceOrders run's rate (events/s, 0 =
	// unlimited); a negative rate is refused by the update's validator.
	UpdateSetRate = "set_rate"
)

// SignalNudge asks the nudged MergeOrders run to merge again once it is done.
const SignalNudge = "nudge"

// NudgedMergeID is the one MergeOrders run that ingest nudges with
// signal-with-start: nudges while it runs coalesce into one more merge, so
// nudges never start two merges at once.
const NudgedMergeID = "MergeOrders-nudged"

// Schedule IDs. A scheduled run's workflow ID is the action's ID followed by
// the scheduled time, which Temporal appends.
const (
	ScheduleMerge    = "dropflow-merge"
	ScheduleValidate = "dropflow-validate"
	ScheduleStream   = "dropflow-stream"
	ScheduleFollow   = "dropflow-follow-ingest"
)

// Custom search attributes (Keyword) that workflows set, so that runs can be
// filtered in the Web UI: DropflowStage = "SeedData" etc.
const (
	SearchAttrStage  = "DropflowStage"
	SearchAttrSource = "DropflowSource"
)

// PipelineID names a Pipeline run by its input, so that starting the same
// pipeline twice attaches to the running one instead of duplicating work.
func PipelineID(seed int64, customers, products, orders int) string {
	return fmt.Sprintf("pipeline-seed%d-c%d-p%d-o%d", seed, customers, products, orders)
}

// ChildID names a pipeline step after its parent run.
func ChildID(parentID, workflowType string) string {
	return parentID + "/" + workflowType
}

// StandaloneID names a step started on its own (from the starter) by type and a
// caller-chosen key, typically a timestamp.
func StandaloneID(workflowType, key string) string {
	return workflowType + "-" + key
}
