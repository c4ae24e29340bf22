package workflows

import (
	"context"
	"errors"

	"github.com/dropflow/dropflow/internal/params"
)

// stubActivities registers every activity type under its name for the
// testsuite; each test mocks the ones its workflow calls (OnActivity), and
// an unmocked call fails loudly.
type stubActivities struct{}

var _ params.Activities = stubActivities{}

var errNotMocked = errors.New("activity not mocked in this test")

func (stubActivities) ApplyMigrations(context.Context, params.DeploySchemaInput) (params.DeploySchemaResult, error) {
	return params.DeploySchemaResult{}, errNotMocked
}
func (stubActivities) GenerateCSVs(context.Context, params.SeedDataInput) (params.SeedDataResult, error) {
	return params.SeedDataResult{}, errNotMocked
}
func (stubActivities) LoadReferenceData(context.Context, params.SeedDataResult) (params.SeedDataResult, error) {
	return params.SeedDataResult{}, errNotMocked
}
func (stubActivities) ProduceChunk(context.Context, params.ProduceChunkParams) (params.ProduceChunkResult, error) {
	return params.ProduceChunkResult{}, errNotMocked
}
func (stubActivities) ListPartitions(context.Context, string) ([]int, error) {
	return nil, errNotMocked
}
func (stubActivities) LoadPartition(context.Context, params.LoadPartitionParams) (params.PartitionResult, error) {
	return params.PartitionResult{}, errNotMocked
}
func (stubActivities) MergeOrders(context.Context, params.MergeOrdersInput) (params.MergeOrdersResult, error) {
	return params.MergeOrdersResult{}, errNotMocked
}
func (stubActivities) MergeUntilIdle(context.Context, params.MergeUntilIdleInput) (params.MergeUntilIdleResult, error) {
	return params.MergeUntilIdleResult{}, errNotMocked
}
func (stubActivities) RunValidation(context.Context, params.ValidatePipelineInput) (params.ValidationReport, error) {
	return params.ValidationReport{}, errNotMocked
}
func (stubActivities) RecordPipelineRun(context.Context, string, params.PipelineResult) error {
	return errNotMocked
}
