// Package runreport records the steps of a pipeline run (deploy, ci) as
// they happen, concurrently or not, and renders the run report: JSON for
// the ledger and machines, markdown for a terminal or a GitHub job summary.
// A failed step says why and how to rerun just that step.
package runreport

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Status of a step or a run.
type Status string

// The statuses.
const (
	OK      Status = "ok"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Step is one step of a run.
type Step struct {
	Name       string        `json:"name"`
	Status     Status        `json:"status"`
	StartedAt  time.Time     `json:"started_at"`
	FinishedAt time.Time     `json:"finished_at"`
	Duration   time.Duration `json:"duration_ns"`
	// Detail is a short, value-free result (e.g. "plan: 3 to add").
	Detail string `json:"detail,omitempty"`
	// Error is the failure's message (already redacted by the caller).
	Error string `json:"error,omitempty"`
	// Rerun is the command that runs only this step again.
	Rerun string `json:"rerun,omitempty"`
}

// Report is a run's report.
type Report struct {
	Kind        string            `json:"kind"`
	Environment string            `json:"environment"`
	Facts       map[string]string `json:"facts"`
	Steps       []Step            `json:"steps"`
	Verdict     Status            `json:"verdict"`
	StartedAt   time.Time         `json:"started_at"`
	FinishedAt  time.Time         `json:"finished_at"`
}

// Recorder collects steps; it is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	r     Report
	clock func() time.Time
}

// New starts a run report of kind (e.g. "deploy") for an environment.
func New(kind, env string, clock func() time.Time) *Recorder {
	if clock == nil {
		clock = time.Now
	}
	return &Recorder{r: Report{Kind: kind, Environment: env, Facts: map[string]string{}, StartedAt: clock().UTC()}, clock: clock}
}

// Fact records a named fact of the run (release, evidence, plan file …).
func (rec *Recorder) Fact(name, value string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.r.Facts[name] = value
}

// Run runs fn as the step name and records it; its error is returned
// unchanged. rerun is the command that reruns only this step.
func (rec *Recorder) Run(ctx context.Context, name, rerun string, fn func(context.Context) (string, error)) error {
	start := rec.clock().UTC()
	detail, err := fn(ctx)
	end := rec.clock().UTC()
	s := Step{Name: name, Status: OK, StartedAt: start, FinishedAt: end, Duration: end.Sub(start), Detail: detail, Rerun: rerun}
	if err != nil {
		s.Status, s.Error = Failed, err.Error()
	}
	rec.mu.Lock()
	rec.r.Steps = append(rec.r.Steps, s)
	rec.mu.Unlock()
	return err
}

// Skip records a step that did not run and why.
func (rec *Recorder) Skip(name, why string) {
	now := rec.clock().UTC()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.r.Steps = append(rec.r.Steps, Step{Name: name, Status: Skipped, StartedAt: now, FinishedAt: now, Detail: why})
}

// Finish closes the run: the verdict is ok only if no step failed.
func (rec *Recorder) Finish() Report {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.r.FinishedAt = rec.clock().UTC()
	rec.r.Verdict = OK
	for _, s := range rec.r.Steps {
		if s.Status == Failed {
			rec.r.Verdict = Failed
		}
	}
	sort.SliceStable(rec.r.Steps, func(i, j int) bool { return rec.r.Steps[i].StartedAt.Before(rec.r.Steps[j].StartedAt) })
	out := rec.r
	out.Steps = append([]Step(nil), rec.r.Steps...)
	return out
}

// JSON renders the report.
func (r Report) JSON() ([]byte, error) {
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// FirstFailure is the first failed step, or nil.
func (r Report) FirstFailure() *Step {
	for i := range r.Steps {
		if r.Steps[i].Status == Failed {
			return &r.Steps[i]
		}
	}
	return nil
}

// Markdown renders the report for a terminal or a GitHub job summary.
func (r Report) Markdown() string {
	var b strings.Builder
	verdict := "PASSED"
	if r.Verdict != OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "## %s %s: **%s** (%s)\n\n", r.Kind, r.Environment, verdict, r.FinishedAt.Sub(r.StartedAt).Round(time.Second))
	if len(r.Facts) > 0 {
		keys := make([]string, 0, len(r.Facts))
		for k := range r.Facts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "- %s: `%s`\n", k, r.Facts[k])
		}
		b.WriteString("\n")
	}
	b.WriteString("| step | status | duration | result |\n|---|---|---:|---|\n")
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.Name, s.Status, s.Duration.Round(100*time.Millisecond), cell(s.Detail))
	}
	for _, s := range r.Steps {
		if s.Status != Failed {
			continue
		}
		fmt.Fprintf(&b, "\n### %s failed\n\n```\n%s\n```\n", s.Name, s.Error)
		if s.Rerun != "" {
			fmt.Fprintf(&b, "\nRerun only this step: `%s`\n", s.Rerun)
		}
	}
	return b.String()
}

func cell(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "…"
	}
	return s
}
