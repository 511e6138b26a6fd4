package cloudrun

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	logging "google.golang.org/api/logging/v2"
	run "google.golang.org/api/run/v2"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
)

// outcome reads a completed execution: success from its counts, otherwise
// the exit code of its task's last attempt, or why it never ran (image
// pull, secret access, capacity …) from the Completed condition and the
// attempt's status.
func (r *Runner) outcome(ctx context.Context, e *run.GoogleCloudRunV2Execution) envrun.Result {
	res := envrun.Result{TaskARN: e.Name}
	var reasons []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !mentioned(reasons, s) {
			reasons = append(reasons, s)
		}
	}
	if e.CancelledCount > 0 {
		add("the execution was cancelled")
	}
	if c := completed(e); c != nil {
		add(c.Message)
	}
	if e.FailedCount == 0 && e.CancelledCount == 0 && e.SucceededCount > 0 {
		zero := int32(0)
		res.ExitCode = &zero
		return res
	}
	task, err := r.lastTask(ctx, e.Name)
	switch {
	case err != nil:
		add(fmt.Sprintf("(exit code not read: %s)", apiMessage(err)))
	case task != nil && task.LastAttemptResult != nil:
		a := task.LastAttemptResult
		// Proto3 JSON omits a zero exit code: 0 on a failed task means the
		// container never exited by itself (it never ran, or was killed).
		if a.ExitCode != 0 {
			code := int32(a.ExitCode)
			res.ExitCode = &code
		}
		if a.TermSignal != 0 {
			add(fmt.Sprintf("terminated by signal %d", a.TermSignal))
		}
		if a.Status != nil {
			add(a.Status.Message)
		}
	}
	res.Reason = strings.Join(reasons, ": ")
	return res
}

func mentioned(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(strings.ToLower(x), strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// completed is the execution's Completed condition, if any.
func completed(e *run.GoogleCloudRunV2Execution) *run.GoogleCloudRunV2Condition {
	for _, c := range e.Conditions {
		if c.Type == "Completed" {
			return c
		}
	}
	return nil
}

// lastTask is the execution's first task (the jobs here run one).
func (r *Runner) lastTask(ctx context.Context, execution string) (*run.GoogleCloudRunV2Task, error) {
	out, err := r.Run.Projects.Locations.Jobs.Executions.Tasks.List(execution).Context(ctx).Do()
	if err != nil {
		return nil, err
	}
	var first *run.GoogleCloudRunV2Task
	for _, t := range out.Tasks {
		if first == nil || t.Index < first.Index {
			first = t
		}
	}
	return first, nil
}

// logTail reads the last lines the execution logged, from Cloud Logging,
// oldest first. Best effort: a failure to read says so in the tail instead
// of hiding the job's own failure.
func (r *Runner) logTail(ctx context.Context, project, execution string, n int64) []string {
	if r.Logging == nil {
		return nil
	}
	req := &logging.ListLogEntriesRequest{
		ResourceNames: []string{"projects/" + project},
		Filter:        LogFilter(execution),
		OrderBy:       "timestamp desc",
		PageSize:      n,
	}
	out, err := r.Logging.Entries.List(req).Context(ctx).Do()
	if err != nil {
		return []string{fmt.Sprintf("(no log: read Cloud Logging: %s)", apiMessage(err))}
	}
	lines := make([]string, 0, len(out.Entries))
	for i := len(out.Entries) - 1; i >= 0; i-- {
		lines = append(lines, entryText(out.Entries[i]))
	}
	if len(lines) == 0 {
		return []string{"(no log: Cloud Logging has no entries for execution " + envrun.ShortName(execution) + " yet)"}
	}
	return lines
}

// LogFilter selects the log entries of one job execution.
func LogFilter(execution string) string {
	return fmt.Sprintf(`resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"=%q`, envrun.ShortName(execution))
}

// entryText is a log entry's line: its text, or the message of a
// structured (JSON) entry, or the entry's JSON.
func entryText(e *logging.LogEntry) string {
	if e.TextPayload != "" {
		return strings.TrimRight(e.TextPayload, "\n")
	}
	if len(e.JsonPayload) > 0 {
		var m map[string]any
		if json.Unmarshal(e.JsonPayload, &m) == nil {
			if msg, ok := m["message"].(string); ok {
				return strings.TrimRight(msg, "\n")
			}
		}
		return string(e.JsonPayload)
	}
	return ""
}
