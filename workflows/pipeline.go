package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

type pipeline struct {
	in    params.PipelineInput
	id    string
	stage string
	res   params.PipelineResult
}

// Pipeline runs everything once, in order: DeploySchema, SeedData,
// ProduceOrders alongside IngestOrders (drain), MergeOrders, ValidatePipeline.
// Each step is a child workflow named after this run, visible on its own.
func Pipeline(ctx workflow.Context, in params.PipelineInput) (params.PipelineResult, error) {
	var w pipeline
	if err := w.setup(ctx, in); err != nil {
		return params.PipelineResult{}, err
	}
	res, err := w.run(ctx)
	status := "succeeded"
	if err != nil {
		status = "failed"
	}
	// Best effort: the record is for the dashboard, not part of the result.
	rctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	_ = workflow.ExecuteActivity(shortActivity(rctx, time.Minute), names.ActivityRecordPipelineRun, status, res).Get(rctx, nil)
	return res, err
}

func (w *pipeline) setup(ctx workflow.Context, in params.PipelineInput) error {
	seed, err := params.SeedDataInput{Seed: in.Seed, Customers: in.Customers, Products: in.Products, Orders: in.Orders, AsOf: in.AsOf}.WithDefaults()
	if err != nil {
		return invalidInput(err)
	}
	if _, err := (params.ProduceOrdersInput{Rate: in.Rate}).WithDefaults(); err != nil {
		return invalidInput(err)
	}
	if _, err := (params.IngestOrdersInput{BatchRecords: in.BatchRecords}).WithDefaults(); err != nil {
		return invalidInput(err)
	}
	in.Seed, in.Customers, in.Products, in.Orders = seed.Seed, seed.Customers, seed.Products, seed.Orders
	w.in = in
	markRun(ctx, "starting")
	w.id = workflow.GetInfo(ctx).WorkflowExecution.ID
	w.stage = "starting"
	return workflow.SetQueryHandler(ctx, names.QueryProgress, func() (params.PipelineProgress, error) {
		return params.PipelineProgress{Stage: w.stage}, nil
	})
}

// enter records the step the pipeline is in, for its progress query and the
// DropflowStage search attribute.
func (w *pipeline) enter(ctx workflow.Context, stage string) {
	w.stage = stage
	markStage(ctx, stage)
}

func (w *pipeline) child(ctx workflow.Context, workflowType string) workflow.Context {
	return workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: names.ChildID(w.id, workflowType), TaskQueue: names.TaskQueue})
}

func (w *pipeline) run(ctx workflow.Context) (params.PipelineResult, error) {
	w.enter(ctx, names.DeploySchema)
	if err := workflow.ExecuteChildWorkflow(w.child(ctx, names.DeploySchema), DeploySchema, params.DeploySchemaInput{}).Get(ctx, &w.res.Schema); err != nil {
		return w.res, err
	}
	w.enter(ctx, names.SeedData)
	seedIn := params.SeedDataInput{Seed: w.in.Seed, Customers: w.in.Customers, Products: w.in.Products, Orders: w.in.Orders, AsOf: w.in.AsOf}
	if err := workflow.ExecuteChildWorkflow(w.child(ctx, names.SeedData), SeedData, seedIn).Get(ctx, &w.res.Seed); err != nil {
		return w.res, err
	}

	w.enter(ctx, names.ProduceOrders+"+"+names.IngestOrders)
	ingest := workflow.ExecuteChildWorkflow(w.child(ctx, names.IngestOrders), IngestOrders,
		params.IngestOrdersInput{Mode: params.ModeDrain, AwaitDrainSignal: true, BatchRecords: w.in.BatchRecords})
	if err := ingest.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return w.res, err
	}
	// The data set, not a path: the producer may run on another host.
	produceIn := params.ProduceOrdersInput{Dataset: &w.res.Seed.Dataset, Rate: w.in.Rate}
	if w.res.Seed.Dataset.OrdersSHA256 == "" { // a SeedData result recorded before data sets
		produceIn = params.ProduceOrdersInput{OrdersCSV: w.res.Seed.OrdersCSV, Rate: w.in.Rate}
	}
	produceErr := workflow.ExecuteChildWorkflow(w.child(ctx, names.ProduceOrders), ProduceOrders, produceIn).Get(ctx, &w.res.Produce)
	// Whether or not producing succeeded, let ingest finish what reached the topic.
	if err := ingest.SignalChildWorkflow(ctx, names.SignalDrain, nil).Get(ctx, nil); err != nil {
		return w.res, err
	}
	ingestErr := ingest.Get(ctx, &w.res.Ingest)
	if produceErr != nil {
		return w.res, produceErr
	}
	if ingestErr != nil {
		return w.res, ingestErr
	}

	w.enter(ctx, names.MergeOrders)
	if err := workflow.ExecuteChildWorkflow(w.child(ctx, names.MergeOrders), MergeOrders, params.MergeOrdersInput{}).Get(ctx, &w.res.Merge); err != nil {
		return w.res, err
	}
	w.enter(ctx, names.ValidatePipeline)
	if err := workflow.ExecuteChildWorkflow(w.child(ctx, names.ValidatePipeline), ValidatePipeline, params.ValidatePipelineInput{}).Get(ctx, &w.res.Validation); err != nil {
		return w.res, err
	}
	w.enter(ctx, "done")
	return w.res, nil
}
