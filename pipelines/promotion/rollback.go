package promotion

import (
	"fmt"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// Rollback is what a rollback entry moved back: the environment ran
// Replaced and now runs the entry's Release, each table moved from the
// snapshot it had to an earlier one. The rollback itself is recorded
// elsewhere; this package only reads such entries, and never admits a
// release on one.
type Rollback struct {
	// Replaced is the release the environment ran before the rollback.
	Replaced release.Record `json:"replaced"`
	// Tables are the tables moved, each from its snapshot to an earlier one.
	Tables []TableRollback `json:"tables"`
	// By is who rolled back, when known.
	By string `json:"by,omitempty"`
	// Reason says why.
	Reason string `json:"reason"`
}

// TableRollback is one table's move: its current snapshot before the
// rollback and after it (Iceberg snapshot ids, as strings like the gate
// report's).
type TableRollback struct {
	Table        string `json:"table"`
	FromSnapshot string `json:"from_snapshot"`
	ToSnapshot   string `json:"to_snapshot"`
}

// checkRollback checks a rollback entry: it names what it replaced and
// why, moves each table at most once, between two snapshots, and carries
// none of a deploy's evidence.
func (e Entry) checkRollback() error {
	rb := e.Rollback
	switch {
	case rb == nil:
		return fmt.Errorf("a rollback entry without its rollback record")
	case e.Upstream != nil:
		return fmt.Errorf("a rollback entry names upstream evidence: a rollback is admitted on none")
	case rb.Reason == "":
		return fmt.Errorf("a rollback entry without a reason")
	}
	if err := verifyRecord(rb.Replaced); err != nil {
		return fmt.Errorf("rollback.replaced: %w", err)
	}
	if sameRelease(rb.Replaced, e.Release) {
		return fmt.Errorf("a rollback from release %s to itself", e.Release.ID)
	}
	seen := map[string]bool{}
	for i, t := range rb.Tables {
		switch {
		case t.Table == "" || t.FromSnapshot == "" || t.ToSnapshot == "":
			return fmt.Errorf("rollback.tables[%d] needs table, from_snapshot and to_snapshot", i)
		case t.FromSnapshot == t.ToSnapshot:
			return fmt.Errorf("rollback.tables[%d] (%s) moves from snapshot %s to itself", i, t.Table, t.FromSnapshot)
		case seen[t.Table]:
			return fmt.Errorf("rollback.tables names %s twice", t.Table)
		}
		seen[t.Table] = true
	}
	return nil
}

// check checks a recorded break-glass override.
func (g *BreakGlass) check() error {
	if err := checkReason(g.Reason, g.By); err != nil {
		return err
	}
	for i, o := range g.Overrode {
		if (o.Rule != Soaking && o.Rule != Frozen) || o.Refusal == "" {
			return fmt.Errorf("overrode[%d]: a break-glass overrides only %s and %s refusals, each with its message", i, Soaking, Frozen)
		}
	}
	return nil
}
