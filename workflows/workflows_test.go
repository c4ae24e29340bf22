package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	Register(env)
	env.RegisterActivity(&stubActivities{})
	return env
}

func appErrType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

func passReport() params.ValidationReport {
	return params.ValidationReport{Status: params.StatusPass, Summary: params.Summary{Total: 1, Pass: 1}, Counts: params.LayerCounts{RawEvents: 10, ProdOrders: 10}}
}

// mockHappyPath mocks every activity of a 10-order pipeline over 2 partitions.
// Activities named in skip are left for the test to mock.
func mockHappyPath(env *testsuite.TestWorkflowEnvironment, skip ...string) {
	skipped := func(name string) bool {
		for _, s := range skip {
			if s == name {
				return true
			}
		}
		return false
	}
	if !skipped("ApplyMigrations") {
		env.OnActivity(names.ActivityApplyMigrations, mock.Anything, mock.Anything).Return(params.DeploySchemaResult{Applied: []string{"0001_init"}}, nil)
	}
	env.OnActivity(names.ActivityGenerateCSVs, mock.Anything, mock.Anything).Return(func(_ context.Context, in params.SeedDataInput) (params.SeedDataResult, error) {
		return params.SeedDataResult{OrdersCSV: "/d/orders.csv", Orders: in.Orders, Customers: in.Customers, Products: in.Products, AsOf: in.AsOf}, nil
	})
	env.OnActivity(names.ActivityLoadReferenceData, mock.Anything, mock.Anything).Return(func(_ context.Context, in params.SeedDataResult) (params.SeedDataResult, error) {
		in.ProdCustomers, in.ProdInventory = int64(in.Customers), int64(in.Products)
		return in, nil
	})
	env.OnActivity(names.ActivityProduceChunk, mock.Anything, mock.Anything).Return(params.ProduceChunkResult{Topic: "orders_topic", Sent: 10, EOF: true}, nil)
	env.OnActivity(names.ActivityListPartitions, mock.Anything, mock.Anything).Return([]int{0, 1}, nil)
	loaded := map[int]bool{}
	env.OnActivity(names.ActivityLoadPartition, mock.Anything, mock.Anything).Return(func(_ context.Context, p params.LoadPartitionParams) (params.PartitionResult, error) {
		if loaded[p.Partition] { // caught up: later rounds find nothing new
			return params.PartitionResult{Partition: p.Partition, NextOffset: 5}, nil
		}
		loaded[p.Partition] = true
		return params.PartitionResult{Partition: p.Partition, Loaded: 5, Batches: 1, NextOffset: 5}, nil
	})
	env.OnActivity(names.ActivityMergeOrders, mock.Anything, mock.Anything).Return(params.MergeOrdersResult{SourceEvents: 10, Inserted: 10}, nil)
	if !skipped("RunValidation") {
		env.OnActivity(names.ActivityRunValidation, mock.Anything, mock.Anything).Return(passReport(), nil)
	}
	env.OnActivity(names.ActivityRecordPipelineRun, mock.Anything, mock.Anything, mock.Anything).Return(nil)
}

func TestPipelineRunsEveryStep(t *testing.T) {
	env := newEnv(t)
	mockHappyPath(env)
	env.ExecuteWorkflow(Pipeline, params.PipelineInput{Orders: 10})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res params.PipelineResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, []string{"0001_init"}, res.Schema.Applied)
	require.Equal(t, 10, res.Seed.Orders)
	require.Equal(t, params.DefaultCustomers, res.Seed.Customers, "unset fields take their defaults")
	require.Equal(t, int64(params.DefaultCustomers), res.Seed.ProdCustomers)
	require.Equal(t, 10, res.Produce.Sent)
	require.Equal(t, int64(10), res.Ingest.Loaded)
	require.Equal(t, 2, res.Ingest.Partitions)
	require.Equal(t, int64(10), res.Merge.Inserted)
	require.Equal(t, params.StatusPass, res.Validation.Status)
	env.AssertActivityNumberOfCalls(t, "RecordPipelineRun", 1)
}

func TestPipelineFailsWhenValidationFails(t *testing.T) {
	env := newEnv(t)
	mockHappyPath(env, "RunValidation")
	env.OnActivity(names.ActivityRunValidation, mock.Anything, mock.Anything).Return(params.ValidationReport{
		Status: params.StatusFail, Checks: []params.Check{{Name: "prod_duplicate_order_ids", Status: params.StatusFail}},
	}, nil)
	env.ExecuteWorkflow(Pipeline, params.PipelineInput{})
	err := env.GetWorkflowError()
	require.Error(t, err)
	require.Equal(t, names.ErrValidationFailed, appErrType(err))
	require.Contains(t, err.Error(), "prod_duplicate_order_ids")
	env.AssertActivityNumberOfCalls(t, "RecordPipelineRun", 1)
}

func TestPipelineRefusesBadInputAtOnce(t *testing.T) {
	for name, in := range map[string]params.PipelineInput{
		"orders": {Orders: -5},
		"rate":   {Rate: -1},
		"as_of":  {AsOf: "yesterday"},
	} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t)
			mockHappyPath(env)
			env.ExecuteWorkflow(Pipeline, in)
			err := env.GetWorkflowError()
			require.Error(t, err)
			require.Equal(t, names.ErrInvalidInput, appErrType(err))
			require.Contains(t, err.Error(), name)
			env.AssertActivityNotCalled(t, "ApplyMigrations", mock.Anything, mock.Anything)
		})
	}
}

func TestPipelineStopsOnStepFailure(t *testing.T) {
	env := newEnv(t)
	mockHappyPath(env, "ApplyMigrations")
	env.OnActivity(names.ActivityApplyMigrations, mock.Anything, mock.Anything).Return(params.DeploySchemaResult{},
		temporal.NewNonRetryableApplicationError("migration 0001_init changed", names.ErrChecksumMismatch, nil))
	env.ExecuteWorkflow(Pipeline, params.PipelineInput{})
	err := env.GetWorkflowError()
	require.Error(t, err)
	require.Equal(t, names.ErrChecksumMismatch, appErrType(err))
	env.AssertActivityNotCalled(t, "GenerateCSVs", mock.Anything, mock.Anything)
}

func TestSeedDataDefaultsAsOfToRunDay(t *testing.T) {
	env := newEnv(t)
	start := time.Date(2026, 3, 4, 15, 16, 17, 0, time.UTC)
	env.SetStartTime(start)
	var got params.SeedDataInput
	env.OnActivity(names.ActivityGenerateCSVs, mock.Anything, mock.Anything).Return(func(_ context.Context, in params.SeedDataInput) (params.SeedDataResult, error) {
		got = in
		return params.SeedDataResult{}, nil
	})
	env.ExecuteWorkflow(SeedData, params.SeedDataInput{SkipProdLoad: true})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, "2026-03-04T00:00:00Z", got.AsOf)
	require.Equal(t, params.DefaultSeed, got.Seed)
	env.AssertActivityNotCalled(t, "LoadReferenceData", mock.Anything, mock.Anything)
}

func TestProduceOrdersChunksAndLimit(t *testing.T) {
	env := newEnv(t)
	var starts []int64
	env.OnActivity(names.ActivityProduceChunk, mock.Anything, mock.Anything).Return(func(_ context.Context, p params.ProduceChunkParams) (params.ProduceChunkResult, error) {
		starts = append(starts, p.Position)
		return params.ProduceChunkResult{Topic: "t", Sent: p.Count}, nil
	})
	env.ExecuteWorkflow(ProduceOrders, params.ProduceOrdersInput{ChunkSize: 100, Limit: 250})
	require.NoError(t, env.GetWorkflowError())
	var res params.ProduceOrdersResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 250, res.Sent)
	require.Equal(t, 3, res.Chunks)
	require.Equal(t, []int64{0, 100, 200}, starts)
}

func TestProduceOrdersStopsAtEOF(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityProduceChunk, mock.Anything, mock.Anything).Return(func(_ context.Context, p params.ProduceChunkParams) (params.ProduceChunkResult, error) {
		if p.Position >= 100 {
			return params.ProduceChunkResult{Sent: 30, EOF: true}, nil
		}
		return params.ProduceChunkResult{Sent: p.Count}, nil
	})
	env.ExecuteWorkflow(ProduceOrders, params.ProduceOrdersInput{ChunkSize: 100})
	var res params.ProduceOrdersResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 130, res.Sent)
}

func TestProduceOrdersRefusesUnknownMode(t *testing.T) {
	env := newEnv(t)
	env.ExecuteWorkflow(ProduceOrders, params.ProduceOrdersInput{Mode: "firehose"})
	err := env.GetWorkflowError()
	require.Equal(t, names.ErrInvalidInput, appErrType(err))
	require.Contains(t, err.Error(), "mode")
}

func TestIngestDrainWaitsForSignalThenLoadsOnceMore(t *testing.T) {
	env := newEnv(t)
	rounds := 0
	env.OnActivity(names.ActivityListPartitions, mock.Anything, mock.Anything).Return(func(_ context.Context, _ string) ([]int, error) {
		if rounds >= 2 {
			return []int{0, 1, 2}, nil // a partition added while running
		}
		return []int{0, 1}, nil
	})
	seen := map[int]int{}
	env.OnActivity(names.ActivityLoadPartition, mock.Anything, mock.Anything).Return(func(_ context.Context, p params.LoadPartitionParams) (params.PartitionResult, error) {
		require.False(t, p.Follow)
		seen[p.Partition]++
		if p.Partition == 0 {
			rounds++
		}
		return params.PartitionResult{Partition: p.Partition, Loaded: 1, Batches: 1, NextOffset: int64(seen[p.Partition])}, nil
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(names.SignalDrain, nil) }, 5*time.Second)
	env.ExecuteWorkflow(IngestOrders, params.IngestOrdersInput{AwaitDrainSignal: true})
	require.NoError(t, env.GetWorkflowError())
	var res params.IngestOrdersResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.GreaterOrEqual(t, res.Rounds, 3, "rounds until the signal, then one final round")
	require.Equal(t, 3, res.Partitions)
	require.Positive(t, seen[2], "the new partition was loaded")
	require.Equal(t, int64(seen[0]+seen[1]+seen[2]), res.Loaded)
}

func TestIngestDrainWithoutSignalIsOneRound(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityListPartitions, mock.Anything, mock.Anything).Return([]int{0, 1, 2}, nil)
	env.OnActivity(names.ActivityLoadPartition, mock.Anything, mock.Anything).Return(params.PartitionResult{Loaded: 2}, nil)
	env.ExecuteWorkflow(IngestOrders, params.IngestOrdersInput{})
	var res params.IngestOrdersResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 1, res.Rounds)
	require.Equal(t, int64(6), res.Loaded)
}

func TestIngestFollowStopsOnSignal(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityListPartitions, mock.Anything, mock.Anything).Return([]int{0}, nil)
	env.OnActivity(names.ActivityLoadPartition, mock.Anything, mock.Anything).Return(func(ctx context.Context, p params.LoadPartitionParams) (params.PartitionResult, error) {
		require.True(t, p.Follow)
		select { // runs until cancelled by the stop signal
		case <-ctx.Done():
			return params.PartitionResult{Partition: 0, Loaded: 7}, nil
		case <-time.After(2 * time.Second):
			return params.PartitionResult{}, errors.New("loader was not cancelled by the stop signal")
		}
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(names.SignalStop, nil) }, time.Millisecond)
	env.ExecuteWorkflow(IngestOrders, params.IngestOrdersInput{Mode: params.ModeFollow})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
}

func TestIngestPropagatesNonRetryableLoaderError(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityListPartitions, mock.Anything, mock.Anything).Return([]int{0}, nil)
	env.OnActivity(names.ActivityLoadPartition, mock.Anything, mock.Anything).Return(params.PartitionResult{},
		temporal.NewNonRetryableApplicationError("stored offset 9 outside [10, 20]", names.ErrOffsetOutOfRange, nil))
	env.ExecuteWorkflow(IngestOrders, params.IngestOrdersInput{})
	require.Equal(t, names.ErrOffsetOutOfRange, appErrType(env.GetWorkflowError()))
}

func TestIngestRefusesBadBatchWait(t *testing.T) {
	env := newEnv(t)
	env.ExecuteWorkflow(IngestOrders, params.IngestOrdersInput{BatchWait: params.Duration(time.Hour)})
	require.Equal(t, names.ErrInvalidInput, appErrType(env.GetWorkflowError()))
}

func TestValidateAllowFailReturnsReport(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityRunValidation, mock.Anything, mock.Anything).Return(params.ValidationReport{Status: params.StatusFail}, nil)
	env.ExecuteWorkflow(ValidatePipeline, params.ValidatePipelineInput{AllowFail: true})
	var rep params.ValidationReport
	require.NoError(t, env.GetWorkflowResult(&rep))
	require.Equal(t, params.StatusFail, rep.Status)
}

func TestValidateWarnIsNotAFailure(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityRunValidation, mock.Anything, mock.Anything).Return(params.ValidationReport{Status: params.StatusWarn}, nil)
	env.ExecuteWorkflow(ValidatePipeline, params.ValidatePipelineInput{})
	require.NoError(t, env.GetWorkflowError())
}

func TestMergeAndDeploySchemaPassResultsThrough(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(names.ActivityMergeOrders, mock.Anything, mock.Anything).Return(params.MergeOrdersResult{NothingNew: true}, nil)
	env.ExecuteWorkflow(MergeOrders, params.MergeOrdersInput{})
	var m params.MergeOrdersResult
	require.NoError(t, env.GetWorkflowResult(&m))
	require.True(t, m.NothingNew, "a skip is a success")

	env = newEnv(t)
	env.OnActivity(names.ActivityApplyMigrations, mock.Anything, params.DeploySchemaInput{DryRun: true}).Return(params.DeploySchemaResult{SQL: "CREATE ..."}, nil)
	env.ExecuteWorkflow(DeploySchema, params.DeploySchemaInput{DryRun: true})
	var d params.DeploySchemaResult
	require.NoError(t, env.GetWorkflowResult(&d))
	require.Equal(t, "CREATE ...", d.SQL)
}

func TestProduceStreamPauseResumeAndRate(t *testing.T) {
	env := newEnv(t)
	var rates []float64
	paused := true
	env.OnActivity(names.ActivityProduceChunk, mock.Anything, mock.Anything).Return(func(_ context.Context, p params.ProduceChunkParams) (params.ProduceChunkResult, error) {
		require.Equal(t, params.ModeStream, p.Mode)
		require.False(t, paused, "no chunk may run while paused")
		rates = append(rates, p.Rate)
		return params.ProduceChunkResult{Topic: "t", Sent: 10, Attempt: 1, Customers: 100, FirstOrderID: 5001}, nil
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(names.SignalPause, nil) }, 0)
	// Refused: a negative rate, with a message naming the field.
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(names.UpdateSetRate, "neg", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { require.Contains(t, err.Error(), "rate") },
			OnAccept:   func() { t.Error("a negative rate was accepted") },
			OnComplete: func(any, error) {},
		}, -5.0)
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(names.UpdateSetRate, "ok", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("rate 50 refused: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, 50.0)
	}, 2*time.Second)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(names.QueryProgress)
		require.NoError(t, err)
		var p params.ProduceProgress
		require.NoError(t, v.Get(&p))
		require.True(t, p.Paused)
		require.Equal(t, 50.0, p.Rate)
		require.Zero(t, p.Sent)
		paused = false
		env.SignalWorkflow(names.SignalResume, nil)
	}, 3*time.Second)
	env.ExecuteWorkflow(ProduceOrders, params.ProduceOrdersInput{Mode: params.ModeStream, Rate: 10, ChunkSize: 10, Limit: 40})
	require.NoError(t, env.GetWorkflowError())
	var res params.ProduceOrdersResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 40, res.Sent)
	require.Equal(t, []float64{50, 50, 50, 50}, rates, "the new rate applies to every later chunk")
}

func TestProduceStopsAtDeadline(t *testing.T) {
	env := newEnv(t)
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.OnActivity(names.ActivityProduceChunk, mock.Anything, mock.Anything).Return(params.ProduceChunkResult{Sent: 5, Attempt: 1}, nil)
	// A run continued as new after its deadline passed sends nothing more.
	env.ExecuteWorkflow(ProduceOrders, params.ProduceOrdersInput{Mode: params.ModeStream, Carry: &params.ProduceProgress{
		Sent: 100, Position: 100, StartedAt: start.Add(-time.Hour).Format(time.RFC3339Nano), Deadline: start.Add(-time.Second).Format(time.RFC3339Nano),
	}})
	require.NoError(t, env.GetWorkflowError())
	var res params.ProduceOrdersResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 100, res.Sent)
	env.AssertActivityNotCalled(t, "ProduceChunk", mock.Anything, mock.Anything)
}
