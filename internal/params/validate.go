package params

// Validation statuses.
const (
	StatusPass = "PASS"
	StatusWarn = "WARN"
	StatusFail = "FAIL"
)

// ValidatePipelineInput is the input of ValidatePipeline.
type ValidatePipelineInput struct {
	// ReportsDir receives the JSON report. Default: the worker's REPORTS_DIR ("reports").
	ReportsDir string `json:"reports_dir,omitempty"`
	// AllowFail returns a FAIL report as a result instead of failing the workflow. Default false.
	AllowFail bool `json:"allow_fail,omitempty"`
	// LagThreshold (records per partition) above which the Kafka lag check warns. Default 10000.
	LagThreshold int64 `json:"lag_threshold,omitempty"`
	// ConflictThreshold: more events rejected as event_id_conflict than this
	// fail the validation (any warns). Default 100.
	ConflictThreshold int64 `json:"conflict_threshold,omitempty"`
}

// Check is one validation check.
type Check struct {
	Name    string           `json:"name"`
	Status  string           `json:"status"`
	Message string           `json:"message"`
	Figures map[string]int64 `json:"figures,omitempty"`
	Query   string           `json:"query"`
}

// LayerCounts are the row counts of each warehouse layer.
type LayerCounts struct {
	RawEvents     int64 `json:"raw_events"`
	RawRejected   int64 `json:"raw_rejected"`
	ProdOrders    int64 `json:"prod_orders"`
	ProdCustomers int64 `json:"prod_customers"`
	ProdInventory int64 `json:"prod_inventory"`
}

// ValidationReport is the report written under reports/ and stored in OPS.validation_runs.
type ValidationReport struct {
	RunID      string      `json:"run_id"`
	Timestamp  string      `json:"timestamp"`
	Status     string      `json:"status"`
	Summary    Summary     `json:"summary"`
	Counts     LayerCounts `json:"counts"`
	Checks     []Check     `json:"checks"`
	ReportPath string      `json:"report_path"`
}

// Summary counts checks per status.
type Summary struct {
	Total int `json:"total"`
	Pass  int `json:"pass"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
}

// FailingChecks names the checks with status FAIL.
func (r ValidationReport) FailingChecks() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			out = append(out, c.Name)
		}
	}
	return out
}

// PipelineInput is the input of Pipeline; it runs every step once, in order.
type PipelineInput struct {
	Seed      int64   `json:"seed,omitempty"`
	Customers int     `json:"customers,omitempty"`
	Products  int     `json:"products,omitempty"`
	Orders    int     `json:"orders,omitempty"`
	AsOf      string  `json:"as_of,omitempty"`
	Rate      float64 `json:"rate,omitempty"`
	// BatchRecords of the ingest; default as in IngestOrdersInput.
	BatchRecords int `json:"batch_records,omitempty"`
}

// PipelineResult gathers the steps' results.
type PipelineResult struct {
	Schema     DeploySchemaResult  `json:"schema"`
	Seed       SeedDataResult      `json:"seed"`
	Produce    ProduceOrdersResult `json:"produce"`
	Ingest     IngestOrdersResult  `json:"ingest"`
	Merge      MergeOrdersResult   `json:"merge"`
	Validation ValidationReport    `json:"validation"`
}

// PipelineProgress is returned by the Pipeline's progress query.
type PipelineProgress struct {
	Stage string `json:"stage"`
}
