// Package quality reads quality-gate reports (the JSON the gate image
// writes) and decides, in one place, whether a report lets a release be
// promoted. It fails closed: anything it cannot prove is a passing report
// for the right environment and release is a refusal, each kind with its
// own message.
package quality

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"
)

// SchemaVersion is the report schema this package reads
// (dagster/lakehouse/quality/gate_report.schema.json).
const SchemaVersion = 2

// Outcomes of a gate, worst last.
const (
	Pass  = "pass"
	Warn  = "warn"
	Fail  = "fail"
	Error = "error"
)

// Check outcomes besides pass, warn and fail.
const NotEvaluated = "not_evaluated"

var exitCodes = map[string]int{Pass: 0, Fail: 1, Warn: 2, Error: 3}

// Report is a gate report of schema version 2.
type Report struct {
	SchemaVersion int               `json:"schema_version"`
	Environment   string            `json:"environment"`
	AccessLevel   string            `json:"access_level"`
	Outcome       string            `json:"outcome"`
	ExitCode      int               `json:"exit_code"`
	StartedAt     string            `json:"started_at"`
	FinishedAt    string            `json:"finished_at"`
	Mode          string            `json:"mode"`
	Release       Release           `json:"release"`
	Branch        *string           `json:"branch"` // nil: the published state (or a report from before gate 3.1.0)
	Catalog       map[string]string `json:"catalog"`
	ToolVersions  map[string]string `json:"tool_versions"`
	Summary       Summary           `json:"summary"`
	Tables        []Table           `json:"tables"`
	Errors        []string          `json:"errors"`
}

// Release is the code the gate judged: the commit and both image digests.
// Fields are nil when the gate ran outside a release (a local run).
type Release struct {
	Commit       *string `json:"commit"`
	RuntimeImage *string `json:"runtime_image"`
	GateImage    *string `json:"gate_image"`
}

// Summary counts tables and checks.
type Summary struct {
	Tables           int `json:"tables"`
	TablesWithErrors int `json:"tables_with_errors"`
	Checks           int `json:"checks"`
	Pass             int `json:"pass"`
	Warn             int `json:"warn"`
	Fail             int `json:"fail"`
	NotEvaluated     int `json:"not_evaluated"`
}

// Table is one scanned Iceberg table.
type Table struct {
	Name           string  `json:"name"`
	ChecksFile     string  `json:"checks_file"`
	Outcome        string  `json:"outcome"`
	Mode           string  `json:"mode"`
	RowCount       *int64  `json:"row_count"`
	SnapshotID     *string `json:"snapshot_id"`
	BaseSnapshotID *string `json:"base_snapshot_id"`
	Error          *string `json:"error"`
	Checks         []Check `json:"checks"`
}

// Check is one Soda check's result.
type Check struct {
	Name          string  `json:"name"`
	Outcome       string  `json:"outcome"`
	MeasuredValue any     `json:"measured_value"`
	Column        *string `json:"column"`
	Definition    *string `json:"definition"`
}

var (
	requiredTop   = []string{"schema_version", "environment", "access_level", "outcome", "exit_code", "started_at", "finished_at", "mode", "release", "catalog", "tool_versions", "summary", "tables", "errors"}
	requiredTable = []string{"name", "checks_file", "outcome", "mode", "row_count", "snapshot_id", "base_snapshot_id", "error", "checks"}
	snapshotID    = regexp.MustCompile(`^-?[0-9]{1,20}$`)
)

// Parse reads a report and checks that it is a well-formed, internally
// consistent report of SchemaVersion: one JSON object, no key twice or
// twice up to case, valid for the gate's JSON Schema, finished after it
// started. It does not judge the outcome.
func Parse(raw []byte) (*Report, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, refuse(Missing, "the gate report is empty")
	}
	if err := checkShape(raw); err != nil {
		return nil, err
	}
	var probe struct {
		SchemaVersion json.RawMessage `json:"schema_version"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, refuse(Unparsable, "the gate report is not JSON: %v", err)
	}
	var version int
	if err := json.Unmarshal(probe.SchemaVersion, &version); err != nil || version != SchemaVersion {
		return nil, refuse(UnknownSchema, "the gate report has schema_version %s; this pipeline reads version %d: run the gate image of this release", orMissing(probe.SchemaVersion), SchemaVersion)
	}
	if err := requireKeys(raw, requiredTop, "report"); err != nil {
		return nil, err
	}
	var r Report
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, refuse(Malformed, "the gate report does not match schema %d: %v", SchemaVersion, err)
	}
	if dec.More() {
		return nil, refuse(Malformed, "the gate report has data after its JSON object")
	}
	var tables struct {
		Tables []json.RawMessage `json:"tables"`
	}
	_ = json.Unmarshal(raw, &tables)
	for i, t := range tables.Tables {
		if err := requireKeys(t, requiredTable, fmt.Sprintf("table %d", i)); err != nil {
			return nil, err
		}
	}
	// The consistency checks first: where both refuse, theirs says more.
	if err := r.consistent(); err != nil {
		return nil, err
	}
	if err := validateSchema(raw); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Report) consistent() error {
	bad := func(format string, a ...any) error {
		return refuse(Malformed, "the gate report is inconsistent: "+format, a...)
	}
	if r.Environment == "" {
		return bad("no environment")
	}
	code, ok := exitCodes[r.Outcome]
	if !ok {
		return bad("outcome %q is not one of pass, warn, fail, error", r.Outcome)
	}
	if r.ExitCode != code {
		return bad("outcome %s with exit_code %d", r.Outcome, r.ExitCode)
	}
	if r.Mode != "full" && r.Mode != "incremental" {
		return bad("mode %q is not full or incremental", r.Mode)
	}
	if r.Branch != nil && *r.Branch == "main" {
		return bad("branch main: a report of the published state names no branch (null)")
	}
	var times [2]time.Time
	for i, ts := range []string{r.StartedAt, r.FinishedAt} {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return bad("time %q is not RFC 3339", ts)
		}
		times[i] = t
	}
	if times[1].Before(times[0]) {
		return bad("finished_at %s is before started_at %s: the clock of the machine that ran the gate jumped back, or the report was edited", r.FinishedAt, r.StartedAt)
	}
	var sum Summary
	sum.Tables = len(r.Tables)
	worst := Pass
	if len(r.Errors) > 0 || len(r.Tables) == 0 {
		worst = Error
	}
	names := map[string]bool{}
	for _, t := range r.Tables {
		if t.Name == "" || names[t.Name] {
			return bad("table name %q is empty or repeated", t.Name)
		}
		names[t.Name] = true
		if t.Mode != "full" && t.Mode != "incremental" {
			return bad("table %s: mode %q", t.Name, t.Mode)
		}
		if (t.Mode == "full") != (t.BaseSnapshotID == nil) {
			return bad("table %s: mode %s with base_snapshot_id %v (incremental scans name their base, full scans none)", t.Name, t.Mode, t.BaseSnapshotID)
		}
		if t.Mode == "incremental" && r.Mode != "incremental" {
			return bad("table %s was read incrementally but the report's mode is %s", t.Name, r.Mode)
		}
		if t.SnapshotID != nil && !snapshotID.MatchString(*t.SnapshotID) {
			return bad("table %s: snapshot_id %q is not an Iceberg snapshot id", t.Name, *t.SnapshotID)
		}
		want := t.derivedOutcome()
		if t.Outcome != want {
			return bad("table %s says %s but its checks make it %s", t.Name, t.Outcome, want)
		}
		if want == Error {
			sum.TablesWithErrors++
		}
		worst = worse(worst, want)
		for _, c := range t.Checks {
			sum.Checks++
			switch c.Outcome {
			case Pass:
				sum.Pass++
			case Warn:
				sum.Warn++
			case Fail:
				sum.Fail++
			case NotEvaluated:
				sum.NotEvaluated++
			default:
				return bad("table %s: check %q has outcome %q", t.Name, c.Name, c.Outcome)
			}
		}
	}
	if r.Outcome != worst {
		return bad("outcome %s but its tables and errors make it %s", r.Outcome, worst)
	}
	if r.Summary != sum {
		return bad("summary %+v does not count its tables (%+v)", r.Summary, sum)
	}
	return nil
}

// derivedOutcome is the table's outcome from its error and checks: an
// error, a check not evaluated or no check at all is an error.
func (t Table) derivedOutcome() string {
	if t.Error != nil || len(t.Checks) == 0 {
		return Error
	}
	out := Pass
	for _, c := range t.Checks {
		switch c.Outcome {
		case NotEvaluated:
			return Error
		case Fail, Warn:
			out = worse(out, c.Outcome)
		}
	}
	return out
}

func worse(a, b string) string {
	if exitRank(b) > exitRank(a) {
		return b
	}
	return a
}

func exitRank(o string) int {
	return map[string]int{Pass: 0, Warn: 1, Fail: 2, Error: 3}[o]
}

func requireKeys(raw []byte, keys []string, what string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return refuse(Malformed, "the gate report's %s is not an object: %v", what, err)
	}
	var missing []string
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return refuse(Malformed, "the gate report's %s lacks %v (schema %d)", what, missing, SchemaVersion)
	}
	return nil
}

func orMissing(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(missing)"
	}
	return string(raw)
}
