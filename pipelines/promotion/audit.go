package promotion

import (
	"fmt"
	"regexp"
	"sort"
)

// Audit is what a verification did with the data (write-audit-publish):
// the smoke run wrote to Branch, made from Base (every table's published
// snapshot then: the release's rollback point); the gate judged Judged;
// a pass published, and Published is every table's published snapshot
// afterwards: what readers see, and what a rollback to this release
// restores. Snapshot ids are strings, like the gate report's.
type Audit struct {
	Branch  string `json:"branch"`
	Backend string `json:"backend"`
	// Base is every table's published snapshot when the branch was made.
	Base map[string]string `json:"base"`
	// Judged is the branch head the gate judged (nil: it was not reached).
	Judged map[string]string `json:"judged,omitempty"`
	// Published is every table's published snapshot after the publish
	// (nil: nothing was published).
	Published map[string]string `json:"published,omitempty"`
	// Applied is what an interrupted publish moved before it stopped
	// (tables to their audited snapshots; BranchFate left): readers see
	// these tables new and the others old until the publish is resumed.
	Applied map[string]string `json:"applied,omitempty"`
	// Method is how the publish was committed (lakehouse.wap's method).
	Method string `json:"method,omitempty"`
	// BranchFate is what became of the branch: published, discarded, kept
	// (--keep-audit), or left (its discard failed: remove it by hand).
	BranchFate string `json:"branch_fate"`
}

// The fates of an audit branch.
const (
	BranchPublished = "published"
	BranchDiscarded = "discarded"
	BranchKept      = "kept"
	BranchLeft      = "left"
)

var snapshotIDRule = regexp.MustCompile(`^-?[0-9]{1,20}$`)

// check: a deploy publishes only on a pass, and a pass is published; a
// rollback's verification never publishes (the rollback put the data back).
func (a *Audit) check(k EntryKind, v Verdict) error {
	switch {
	case a.Branch == "":
		return fmt.Errorf("no branch")
	case a.BranchFate != BranchPublished && a.BranchFate != BranchDiscarded && a.BranchFate != BranchKept && a.BranchFate != BranchLeft:
		return fmt.Errorf("branch_fate %q is not %s, %s, %s or %s", a.BranchFate, BranchPublished, BranchDiscarded, BranchKept, BranchLeft)
	case k == RollbackEntry && (a.BranchFate == BranchPublished || a.Published != nil):
		return fmt.Errorf("a rollback's verification published data: it only audits")
	case k != RollbackEntry && v == Passed && (a.BranchFate != BranchPublished || len(a.Published) == 0):
		return fmt.Errorf("a pass whose data was not published (branch %s %s)", a.Branch, a.BranchFate)
	case a.Applied != nil && (v != Failed || a.BranchFate != BranchLeft):
		return fmt.Errorf("tables applied by an interrupted publish, but the verification %s and its branch was %s", v, a.BranchFate)
	case v == Failed && (a.BranchFate == BranchPublished || a.Published != nil):
		return fmt.Errorf("a failed verification that published data: nothing is published before a pass")
	}
	for name, m := range map[string]map[string]string{"base": a.Base, "judged": a.Judged, "published": a.Published, "applied": a.Applied} {
		if err := checkSnapshots(m); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func checkSnapshots(m map[string]string) error {
	names := make([]string, 0, len(m))
	for t := range m {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		if t == "" || !snapshotIDRule.MatchString(m[t]) {
			return fmt.Errorf("table %q: %q is not an Iceberg snapshot id", t, m[t])
		}
	}
	return nil
}
