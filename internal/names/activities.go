package names

// Activity type names: the methods of activities.Activities, registered by
// method name. Workflows schedule activities by these names, so they do not
// link the activities' dependencies (DuckDB's cgo, gosnowflake, kafka-go);
// activities' TestActivityNamesAreMethods keeps the two in step.
const (
	ActivityApplyMigrations   = "ApplyMigrations"
	ActivityGenerateCSVs      = "GenerateCSVs"
	ActivityLoadReferenceData = "LoadReferenceData"
	ActivityProduceChunk      = "ProduceChunk"
	ActivityListPartitions    = "ListPartitions"
	ActivityLoadPartition     = "LoadPartition"
	// ActivityMergeOrders merges RAW into PROD once: the operation has one
	// name, the workflow's, the activity's and the adapter's.
	ActivityMergeOrders       = "MergeOrders"
	ActivityMergeUntilIdle    = "MergeUntilIdle"
	ActivityRunValidation     = "RunValidation"
	ActivityRecordPipelineRun = "RecordPipelineRun"
)

// ActivityMergeRawToProd is MergeOrders' name in runs recorded before the
// rename (version merge-activity-name 1): the worker registers the merge under
// it too, so that such runs still find it.
const ActivityMergeRawToProd = "MergeRawToProd"

// AllActivities lists every activity type name.
func AllActivities() []string {
	return []string{ActivityApplyMigrations, ActivityGenerateCSVs, ActivityLoadReferenceData, ActivityProduceChunk, ActivityListPartitions,
		ActivityLoadPartition, ActivityMergeOrders, ActivityMergeUntilIdle, ActivityRunValidation, ActivityRecordPipelineRun}
}

// Failure types of non-retryable application errors: a workflow, a user or
// an alert can match on them (temporal.ApplicationError.Type()).
const (
	ErrInvalidInput     = "InvalidInput"
	ErrChecksumMismatch = "SchemaChecksumMismatch"
	ErrTopicMissing     = "TopicMissing"
	ErrOffsetOutOfRange = "OffsetOutOfRange"
	ErrPartitionFenced  = "PartitionFenced"
	ErrValidationFailed = "ValidationFailed"
	ErrWarehouseLocked  = "WarehouseLocked"
	ErrSchemaMissing    = "SchemaMissing"
	// ErrDatasetMismatch: a data set cannot be remade here as recorded (a
	// worker of another generator version).
	ErrDatasetMismatch = "DatasetMismatch"
	// ErrSourceChanged: a CSV the user supplied differs from what the run's
	// first chunk read (another file at the same path on this host, or edited).
	ErrSourceChanged = "SourceChanged"
)
