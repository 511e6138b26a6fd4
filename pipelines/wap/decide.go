package wap

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/quality"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// BranchPrefix starts every audit branch a release's verification writes to.
const BranchPrefix = "audit-"

// AuditBranch is the branch a release's verification writes to: named
// after the release id (its commit and image digests), never the clock, so
// a rerun of the same release finds its own branch.
func AuditBranch(rel release.Record) string {
	return BranchPrefix + rel.ID
}

// Expectation is what a publish may expect: exactly the snapshots the gate
// judged, which must be the branch head status reported (the gate read
// that head), and must name every table the branch changed (a table
// nobody judged is never published).
func Expectation(report *quality.Report, status *Document) (Snapshots, error) {
	if status == nil || status.Command != Status || status.Head == nil {
		return nil, fmt.Errorf("no branch head to compare the gate's report with")
	}
	// A report of another branch (or of the published state: an older gate
	// that ignored --branch) judged other rows, whatever its snapshot ids say.
	if report.Branch == nil || *report.Branch != status.Head.Ref {
		return nil, fmt.Errorf("the gate's report judged %s, not the audit branch %s: nothing is published", judgedRef(report.Branch), status.Head.Ref)
	}
	head := status.Head.Snapshots()
	judged := Snapshots{}
	var wrong []string
	for _, t := range report.Tables {
		if t.SnapshotID == nil {
			continue
		}
		id, err := strconv.ParseInt(*t.SnapshotID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("the gate's report: table %s: snapshot_id %q is not an Iceberg snapshot id", t.Name, *t.SnapshotID)
		}
		judged[t.Name] = id
		if h, ok := head[t.Name]; !ok || h != id {
			wrong = append(wrong, fmt.Sprintf("%s judged at %d, branch head %s", t.Name, id, snapshotText(h, ok)))
		}
	}
	if len(wrong) > 0 {
		sort.Strings(wrong)
		return nil, fmt.Errorf("the gate did not judge the audit branch's head (%s): nothing is published", strings.Join(wrong, "; "))
	}
	var unjudged []string
	for _, t := range status.Changed {
		if _, ok := judged[t]; !ok {
			unjudged = append(unjudged, t)
		}
	}
	if len(unjudged) > 0 {
		sort.Strings(unjudged)
		return nil, fmt.Errorf("the audit branch changed %s, which the gate did not judge: nothing is published", strings.Join(unjudged, ", "))
	}
	if len(judged) == 0 {
		return nil, fmt.Errorf("the gate judged no table at a snapshot: nothing to publish")
	}
	return judged, nil
}

func judgedRef(branch *string) string {
	if branch == nil {
		return "the published state"
	}
	return "branch " + *branch
}

func snapshotText(id int64, ok bool) string {
	if !ok {
		return "(none)"
	}
	return strconv.FormatInt(id, 10)
}

// Strings renders snapshot ids as strings (the ledger's and the gate
// report's form: JSON numbers lose 64-bit ids in many readers).
func (s Snapshots) Strings() map[string]string {
	if s == nil {
		return nil
	}
	out := make(map[string]string, len(s))
	for t, id := range s {
		out[t] = strconv.FormatInt(id, 10)
	}
	return out
}

// FromStrings reads snapshot ids recorded as strings.
func FromStrings(m map[string]string) (Snapshots, error) {
	out := make(Snapshots, len(m))
	for t, s := range m {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || t == "" {
			return nil, fmt.Errorf("table %q: snapshot %q is not an Iceberg snapshot id", t, s)
		}
		out[t] = id
	}
	return out, nil
}

// JSON is the --expect / --to argument: {"table": id, …} in name order.
func (s Snapshots) JSON() string {
	names := make([]string, 0, len(s))
	for t := range s {
		names = append(names, t)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, t := range names {
		parts[i] = strconv.Quote(t) + ":" + strconv.FormatInt(s[t], 10)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Text renders snapshot ids for a report: table@id, in name order.
func (s Snapshots) Text() string {
	names := make([]string, 0, len(s))
	for t := range s {
		names = append(names, t)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, t := range names {
		parts[i] = t + "@" + strconv.FormatInt(s[t], 10)
	}
	if len(parts) == 0 {
		return "(no table)"
	}
	return strings.Join(parts, ", ")
}
