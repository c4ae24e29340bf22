package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/dropflow/dropflow/internal/metrics"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/validation"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// RunValidation runs every check, writes the JSON report under the reports
// directory and stores it in OPS.validation_runs. The workflow decides what a
// FAIL means; the activity only fails when it cannot check.
func (a *Activities) RunValidation(ctx context.Context, in params.ValidatePipelineInput) (params.ValidationReport, error) {
	defer heartbeatEvery(ctx, 2*time.Second)()
	topic := a.topic("")
	lag, lagErr := a.Kafka.Lag(ctx, topic, a.WH.Offset)
	rep, err := validation.Run(ctx, a.WH, validation.Options{Now: time.Now().UTC(), Topic: topic, Lag: lag, LagErr: lagErr, LagThreshold: in.LagThreshold, ConflictThreshold: in.ConflictThreshold})
	if err != nil {
		return rep, classify(err)
	}
	rep.RunID = activity.GetInfo(ctx).WorkflowExecution.RunID
	dir := in.ReportsDir
	if dir == "" {
		dir = a.Settings.ReportsDir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rep, classify(fmt.Errorf("create reports dir %s: %w", dir, err))
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	rep.ReportPath = filepath.Join(dir, fmt.Sprintf("validation_%s_%s.json", stamp, rep.RunID))
	body, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return rep, fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(rep.ReportPath, append(body, '\n'), 0o644); err != nil {
		return rep, classify(fmt.Errorf("write report %s: %w", rep.ReportPath, err))
	}
	ranAt, err := time.Parse(time.RFC3339Nano, rep.Timestamp)
	if err != nil {
		ranAt = time.Now().UTC()
	}
	run := warehouse.ValidationRun{RunID: rep.RunID, RanAt: ranAt, Status: rep.Status,
		Pass: rep.Summary.Pass, Warn: rep.Summary.Warn, Fail: rep.Summary.Fail, Report: body}
	if err := a.WH.RecordValidation(ctx, run); err != nil {
		return rep, err
	}
	for _, c := range rep.Checks {
		a.Metrics.ValidationCheck.WithLabelValues(c.Name).Set(metrics.Status(c.Status))
	}
	a.Metrics.ValidationLast.SetToCurrentTime()
	activity.GetLogger(ctx).Info("validation done", "status", rep.Status, "pass", rep.Summary.Pass, "warn", rep.Summary.Warn, "fail", rep.Summary.Fail, "report", rep.ReportPath)
	return rep, nil
}

// RecordPipelineRun stores a finished pipeline in OPS.pipeline_runs.
func (a *Activities) RecordPipelineRun(ctx context.Context, status string, result params.PipelineResult) error {
	body, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("encode pipeline result: %w", err)
	}
	info := activity.GetInfo(ctx).WorkflowExecution
	return a.WH.RecordPipelineRun(ctx, info.ID, info.RunID, status, body)
}
