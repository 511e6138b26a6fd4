// Package wap reads what `python -m lakehouse.wap` reports (one JSON
// document per command, dagster/lakehouse/wap/wap_cli.schema.json) and
// decides what the pipeline does with it: the audit branch a release
// writes to, the snapshots a publish may expect, and what a rollback moved.
// A document that does not match the schema exactly is refused: the
// pipeline never publishes on a document it cannot read.
package wap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// SchemaVersion is the version of the documents this package reads.
const SchemaVersion = 1

// Command is a lakehouse.wap command.
type Command string

// The commands.
const (
	Begin        Command = "begin"
	Status       Command = "status"
	Publish      Command = "publish"
	Discard      Command = "discard"
	PlanRollback Command = "plan-rollback"
	Rollback     Command = "rollback"
)

// The exit codes (and outcomes) of a command.
const (
	ExitOK      = 0
	ExitRefused = 1
	ExitError   = 3
)

// commonFields are in every document; fields lists each command's own
// (every field is always present, null when the command did not reach it).
var (
	commonFields = []string{"schema_version", "command", "outcome", "exit_code", "reason", "environment", "backend", "namespace", "branch"}
	fields       = map[Command][]string{
		Begin:        {"base"},
		Status:       {"published", "head", "changed"},
		Publish:      {"expected", "method", "resumed", "steps", "mismatches", "published", "branch_removed"},
		Discard:      {"removed", "dropped_tables"},
		PlanRollback: {"target", "changes", "text"},
		Rollback:     {"target", "changes", "text", "method", "resumed", "steps", "moved_from", "published"},
	}
)

// Snapshots maps a table (inside the namespace) to an Iceberg snapshot id.
type Snapshots map[string]int64

// Pinned is every table at one ref: Hash is Nessie's commit ("" for table
// refs); a table without a snapshot maps to nil.
type Pinned struct {
	Ref    string            `json:"ref"`
	Hash   *string           `json:"hash"`
	Tables map[string]*int64 `json:"tables"`
}

// Snapshots are the tables that have a snapshot.
func (p *Pinned) Snapshots() Snapshots {
	if p == nil {
		return nil
	}
	out := Snapshots{}
	for t, s := range p.Tables {
		if s != nil {
			out[t] = *s
		}
	}
	return out
}

// Step is one table of a publish or rollback plan.
type Step struct {
	Table  string `json:"table"`
	Base   *int64 `json:"base"`
	Target int64  `json:"target"`
	Result string `json:"result"`
}

// Mismatch is a table a publish was refused for.
type Mismatch struct {
	Table    string `json:"table"`
	Expected *int64 `json:"expected"`
	Actual   *int64 `json:"actual"`
}

// SchemaDiff is how a table's schema differs between two snapshots.
type SchemaDiff struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// Change is one table of a rollback plan.
type Change struct {
	Table              string      `json:"table"`
	Current            *int64      `json:"current"`
	Target             int64       `json:"target"`
	Action             string      `json:"action"`
	RowsCurrent        *int64      `json:"rows_current"`
	RowsTarget         *int64      `json:"rows_target"`
	Relation           string      `json:"relation"`
	SnapshotsBetween   *int64      `json:"snapshots_between"`
	RowsAddedBetween   *int64      `json:"rows_added_between"`
	RowsDeletedBetween *int64      `json:"rows_deleted_between"`
	SchemaChanged      bool        `json:"schema_changed"`
	SchemaDiff         *SchemaDiff `json:"schema_diff"`
	Reason             *string     `json:"reason"`
}

// Document is one command's report. Fields of other commands are zero.
type Document struct {
	SchemaVersion int     `json:"schema_version"`
	Command       Command `json:"command"`
	Outcome       string  `json:"outcome"`
	ExitCode      int     `json:"exit_code"`
	Reason        *string `json:"reason"`
	Environment   *string `json:"environment"`
	Backend       *string `json:"backend"`
	Namespace     *string `json:"namespace"`
	Branch        *string `json:"branch"`

	Base          *Pinned    `json:"base"`
	Published     *Pinned    `json:"published"`
	Head          *Pinned    `json:"head"`
	Changed       []string   `json:"changed"`
	Expected      Snapshots  `json:"expected"`
	Method        *string    `json:"method"`
	Resumed       bool       `json:"resumed"`
	Steps         []Step     `json:"steps"`
	Mismatches    []Mismatch `json:"mismatches"`
	BranchRemoved bool       `json:"branch_removed"`
	Removed       bool       `json:"removed"`
	DroppedTables []string   `json:"dropped_tables"`
	Target        Snapshots  `json:"target"`
	Changes       []Change   `json:"changes"`
	Text          *string    `json:"text"`
	MovedFrom     Snapshots  `json:"moved_from"`
}

// Error is a command that did not succeed: refused (exit 1: nothing
// changed, or only what its steps say) or an error (exit 3). Its reason is
// the command's own.
type Error struct {
	Command Command
	Outcome string
	Reason  string
	Doc     *Document
}

func (e *Error) Error() string {
	return fmt.Sprintf("lakehouse.wap %s %s: %s", e.Command, e.Outcome, e.Reason)
}

// Refused says whether err is a refusal (exit 1) of a wap command.
func Refused(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Outcome == "refused"
}

// MaxDocument bounds a document read into memory.
const MaxDocument = 8 << 20

// Parse reads the document of command want that a process printed on
// stdout and exited with exitCode. It returns the document and, when the
// command did not succeed, an *Error carrying its reason. A document that
// is not exactly the schema's, of another command, or whose exit code is
// not the process's, is refused with what is wrong.
func Parse(want Command, stdout []byte, exitCode int) (*Document, error) {
	if _, ok := fields[want]; !ok {
		return nil, fmt.Errorf("lakehouse.wap: unknown command %q", want)
	}
	d, err := parse(want, stdout)
	if err != nil {
		return nil, fmt.Errorf("lakehouse.wap %s (exit %d) printed no valid document: %w; its output began: %q", want, exitCode, err, head(stdout, 300))
	}
	if d.ExitCode != exitCode {
		return nil, fmt.Errorf("lakehouse.wap %s: the document says exit code %d but the process exited with %d", want, d.ExitCode, exitCode)
	}
	if d.Outcome != "ok" {
		return d, &Error{Command: want, Outcome: d.Outcome, Reason: *d.Reason, Doc: d}
	}
	return d, nil
}

func head(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func parse(want Command, stdout []byte) (*Document, error) {
	if len(stdout) > MaxDocument {
		return nil, fmt.Errorf("larger than %d bytes", MaxDocument)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(stdout, &keys); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if raw, ok := keys["schema_version"]; !ok || string(raw) != "1" {
		return nil, fmt.Errorf("schema_version %s is not supported (expected %d)", orMissing(raw, ok), SchemaVersion)
	}
	var cmd *Command
	if err := json.Unmarshal(keys["command"], &cmd); err != nil {
		return nil, fmt.Errorf("command: %w", err)
	}
	if cmd == nil {
		return nil, errors.New(`command is null (the command line named no known command)` + reasonOf(keys))
	}
	if *cmd != want {
		return nil, fmt.Errorf("the document is of command %q, not %q", *cmd, want)
	}
	wantKeys := append(slices.Clone(commonFields), fields[want]...)
	var missing, extra []string
	for _, k := range wantKeys {
		if _, ok := keys[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range keys {
		if !slices.Contains(wantKeys, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		return nil, fmt.Errorf("the %s document's fields differ from schema %d: missing %v, unknown %v", want, SchemaVersion, missing, extra)
	}
	var d Document
	dec := json.NewDecoder(bytes.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON document")
	}
	return &d, d.check(keys)
}

func orMissing(raw json.RawMessage, ok bool) string {
	if !ok {
		return "(missing)"
	}
	return string(raw)
}

func reasonOf(keys map[string]json.RawMessage) string {
	var r string
	if json.Unmarshal(keys["reason"], &r) == nil && r != "" {
		return ": " + r
	}
	return ""
}

// check holds the document to the schema's rules beyond its field types.
func (d *Document) check(keys map[string]json.RawMessage) error {
	switch {
	case d.Outcome == "ok" && (d.ExitCode != ExitOK || d.Reason != nil):
		return fmt.Errorf("outcome ok with exit code %d and reason %v (expected 0 and null)", d.ExitCode, d.Reason)
	case d.Outcome == "refused" && d.ExitCode != ExitRefused, d.Outcome == "error" && d.ExitCode != ExitError:
		return fmt.Errorf("outcome %s with exit code %d", d.Outcome, d.ExitCode)
	case d.Outcome != "ok" && d.Outcome != "refused" && d.Outcome != "error":
		return fmt.Errorf("outcome %q is not ok, refused or error", d.Outcome)
	case d.Outcome != "ok" && (d.Reason == nil || strings.TrimSpace(*d.Reason) == ""):
		return fmt.Errorf("outcome %s without a reason", d.Outcome)
	case d.Backend != nil && *d.Backend != "nessie" && *d.Backend != "table-refs":
		return fmt.Errorf("backend %q is not nessie or table-refs", *d.Backend)
	case d.Method != nil && !slices.Contains([]string{"nessie-merge", "nessie-commit", "multi-table-commit", "per-table"}, *d.Method):
		return fmt.Errorf("method %q is not one of nessie-merge, nessie-commit, multi-table-commit, per-table", *d.Method)
	}
	// Fields that are never null.
	for _, k := range []string{"outcome", "exit_code", "resumed", "branch_removed", "removed", "dropped_tables"} {
		if raw, ok := keys[k]; ok && string(raw) == "null" {
			return fmt.Errorf("%s is null", k)
		}
	}
	for _, p := range []struct {
		name string
		p    *Pinned
	}{{"base", d.Base}, {"published", d.Published}, {"head", d.Head}} {
		if p.p != nil && (p.p.Ref == "" || p.p.Tables == nil) {
			return fmt.Errorf("%s: a pinned state needs ref and tables", p.name)
		}
	}
	for i, s := range d.Steps {
		if s.Table == "" || !slices.Contains([]string{"applied", "already-applied", "pending", "conflict"}, s.Result) {
			return fmt.Errorf("steps[%d]: table %q with result %q (expected applied, already-applied, pending or conflict)", i, s.Table, s.Result)
		}
	}
	for i, c := range d.Changes {
		switch {
		case c.Table == "":
			return fmt.Errorf("changes[%d]: no table", i)
		case !slices.Contains([]string{"rollback", "unchanged", "refused"}, c.Action):
			return fmt.Errorf("changes[%d] (%s): action %q is not rollback, unchanged or refused", i, c.Table, c.Action)
		case !slices.Contains([]string{"same", "target-is-ancestor", "target-is-descendant", "unrelated", "unknown"}, c.Relation):
			return fmt.Errorf("changes[%d] (%s): relation %q is not known", i, c.Table, c.Relation)
		}
	}
	for name, m := range map[string]Snapshots{"expected": d.Expected, "target": d.Target, "moved_from": d.MovedFrom} {
		for t := range m {
			if t == "" {
				return fmt.Errorf("%s names an empty table", name)
			}
		}
	}
	return nil
}
