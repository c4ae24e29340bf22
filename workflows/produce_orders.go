package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
)

type produceOrders struct {
	in       params.ProduceOrdersInput
	progress params.ProduceProgress
	chunks   int
	topic    string
}

// ProduceOrders replays orders.csv into Kafka in chunks; each chunk is a
// heartbeating activity that resumes after the last acknowledged write.
func ProduceOrders(ctx workflow.Context, in params.ProduceOrdersInput) (params.ProduceOrdersResult, error) {
	var w produceOrders
	if err := w.setup(ctx, in); err != nil {
		return params.ProduceOrdersResult{}, err
	}
	return w.run(ctx)
}

func (w *produceOrders) setup(ctx workflow.Context, in params.ProduceOrdersInput) error {
	in, err := in.WithDefaults()
	if err != nil {
		return invalidInput(err)
	}
	w.in = in
	w.progress.Rate = in.Rate
	if in.Carry != nil {
		w.progress = *in.Carry
	}
	return workflow.SetQueryHandler(ctx, names.QueryProgress, func() (params.ProduceProgress, error) { return w.progress, nil })
}

// chunkTimeout leaves a rate-limited chunk time to finish.
func (w *produceOrders) chunkTimeout() time.Duration {
	d := 10 * time.Minute
	if w.in.Rate > 0 {
		if need := time.Duration(3*float64(w.in.ChunkSize)/w.in.Rate) * time.Second; need > d {
			d = need
		}
	}
	return d
}

func (w *produceOrders) run(ctx workflow.Context) (params.ProduceOrdersResult, error) {
	actx := longActivity(ctx, w.chunkTimeout())
	for {
		count := w.in.ChunkSize
		if w.in.Limit > 0 {
			count = min(count, w.in.Limit-w.progress.Sent)
		}
		if count <= 0 {
			break
		}
		var r params.ProduceChunkResult
		err := workflow.ExecuteActivity(actx, acts.ProduceChunk, params.ProduceChunkParams{
			OrdersCSV: w.in.OrdersCSV, Topic: w.in.Topic, StartLine: w.progress.Position, Count: count, Rate: w.in.Rate,
		}).Get(ctx, &r)
		if err != nil {
			return w.result(), err
		}
		w.chunks++
		w.topic = r.Topic
		w.progress.Sent += r.Sent
		w.progress.Position += r.Sent
		if r.EOF || r.Sent < count {
			break
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			in := w.in
			carry := w.progress
			in.Carry = &carry
			return w.result(), workflow.NewContinueAsNewError(ctx, ProduceOrders, in)
		}
	}
	w.progress.Done = true
	return w.result(), nil
}

func (w *produceOrders) result() params.ProduceOrdersResult {
	return params.ProduceOrdersResult{Topic: w.topic, Sent: w.progress.Sent, Chunks: w.chunks}
}
