// Package activities holds Dropflow's Temporal activities: methods on one
// struct whose dependencies (warehouse, Kafka client, settings) are injected
// by the worker. They are thin: the work is in internal/.
package activities

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/dropflow/dropflow/internal/datagen"
	"github.com/dropflow/dropflow/internal/kafka"
	"github.com/dropflow/dropflow/internal/metrics"
	"github.com/dropflow/dropflow/internal/names"
	"github.com/dropflow/dropflow/internal/params"
	"github.com/dropflow/dropflow/internal/warehouse"
)

// Settings are the worker-side defaults activities apply to empty inputs.
type Settings struct {
	Topic      string // KAFKA_TOPIC
	Group      string // KAFKA_GROUP
	DataDir    string // DATA_DIR
	ReportsDir string // REPORTS_DIR
	// Host names this worker's host in errors about host-local files
	// (default os.Hostname()).
	Host string
}

// Activities is registered on the worker (by method name: names.Activity*);
// it implements params.Activities.
type Activities struct {
	WH       warehouse.Warehouse
	Kafka    *kafka.Client
	Settings Settings
	// Nudger asks for a merge soon after ingest commits new events; nil
	// leaves merging to the schedule.
	Nudger Nudger
	// Metrics receives the pipeline's measurements (required).
	Metrics *metrics.Metrics

	// merging serialises merges in this process: DuckDB has one writing
	// process, so this is every merge of the warehouse.
	merging sync.Mutex
	// wake tells this host's merger that a batch was committed (mergeWake).
	wakeOnce sync.Once
	wake     chan struct{}
	// behindAt is when a loader on this host last saw itself more than a
	// batch behind its partition's end (unix ns): a backlog, during which
	// the merger rests between merges to leave the cores to ingest.
	behindAt atomic.Int64
	// files caches data-set checksums and serialises their regeneration.
	files fileCache
}

// Registry is what Register needs: a worker or a test environment.
type Registry interface {
	RegisterActivity(a any)
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// Register registers every activity under its method's name, and the merge
// also under its name in runs recorded before the rename. The old name goes
// on a function of its own: the SDK maps a registered function's name to its
// alias, so aliasing MergeOrders itself would schedule every new merge as
// MergeRawToProd.
func Register(r Registry, a *Activities) {
	r.RegisterActivity(a)
	r.RegisterActivityWithOptions(a.mergeRawToProd, activity.RegisterOptions{Name: names.ActivityMergeRawToProd})
}

// Nudger starts the merger (the nudged MergeOrders run) if it is not running.
type Nudger interface {
	NudgeMerge(ctx context.Context) error
}

// classify turns errors that no retry can fix into non-retryable application
// errors with a type name; everything else is returned as is and retried.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var (
		inv *params.InvalidInputError
		csv *datagen.CSVError
		cm  *warehouse.ChecksumMismatchError
		tm  *kafka.TopicMissingError
		le  *warehouse.LockedError
		qe  *warehouse.QueryError
		ae  *temporal.ApplicationError
	)
	switch {
	case errors.As(err, &ae):
		return err // classified where it was made
	case errors.As(err, &inv), errors.As(err, &csv), errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return temporal.NewNonRetryableApplicationError(err.Error(), names.ErrInvalidInput, err)
	case errors.As(err, &cm):
		return temporal.NewNonRetryableApplicationError(err.Error(), names.ErrChecksumMismatch, err)
	case errors.As(err, &tm):
		return temporal.NewNonRetryableApplicationError(err.Error(), names.ErrTopicMissing, err)
	case errors.As(err, &le):
		return temporal.NewNonRetryableApplicationError(err.Error(), names.ErrWarehouseLocked, err)
	case warehouse.IsSchemaMissing(err):
		return temporal.NewNonRetryableApplicationError(err.Error()+" (the warehouse schema is not deployed, or the role cannot see it: run DeploySchema, e.g. `starter deploy-schema --wait`)", names.ErrSchemaMissing, err)
	case errors.As(err, &qe) && qe.Permanent():
		// WarehouseAuth, WarehousePrivilege, SQLCompilation, WarehouseConfig.
		return temporal.NewNonRetryableApplicationError(err.Error(), string(qe.Kind), err)
	}
	return err
}

func (a *Activities) topic(t string) string {
	if t != "" {
		return t
	}
	return a.Settings.Topic
}
