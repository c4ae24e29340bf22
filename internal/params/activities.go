package params

import "context"

// Activities is the signature of every activity, by its type name (see
// names.Activity*). activities.Activities implements it; workflow tests
// register a stub of it, so that workflows and their tests need neither the
// activities package nor what it links (DuckDB's cgo, gosnowflake, kafka-go).
type Activities interface {
	ApplyMigrations(ctx context.Context, in DeploySchemaInput) (DeploySchemaResult, error)
	GenerateCSVs(ctx context.Context, in SeedDataInput) (SeedDataResult, error)
	LoadReferenceData(ctx context.Context, in SeedDataResult) (SeedDataResult, error)
	ProduceChunk(ctx context.Context, p ProduceChunkParams) (ProduceChunkResult, error)
	ListPartitions(ctx context.Context, topic string) ([]int, error)
	LoadPartition(ctx context.Context, p LoadPartitionParams) (PartitionResult, error)
	MergeOrders(ctx context.Context, in MergeOrdersInput) (MergeOrdersResult, error)
	MergeUntilIdle(ctx context.Context, in MergeUntilIdleInput) (MergeUntilIdleResult, error)
	RunValidation(ctx context.Context, in ValidatePipelineInput) (ValidationReport, error)
	RecordPipelineRun(ctx context.Context, status string, result PipelineResult) error
}
