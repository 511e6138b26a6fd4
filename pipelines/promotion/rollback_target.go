package promotion

import (
	"maps"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// RollbackTarget is what a rollback of an environment moves between: the
// release it runs now and the release (and data) it goes back to.
type RollbackTarget struct {
	// Current is the release the environment runs (its ledger's last entry).
	Current release.Record
	// CurrentSeq is that entry.
	CurrentSeq int
	// Target is the entry whose release and data the rollback restores.
	Target Recorded
	// Snapshots is every table's published snapshot to restore (ids as
	// strings): the target's recorded publish, or for a release a rollback
	// moved away from, the snapshots that rollback moved from.
	Snapshots map[string]string
	// Forward says the target is a release an earlier rollback replaced:
	// this rollback moves forward again.
	Forward bool
}

// ChooseRollback picks what `rollback --env env [--to to]` restores from
// env's ledger. The default is the newest release other than the current
// one that passed in env and was not revoked since (by a failed
// verification or a rollback away from it), with its published snapshots.
// --to names a release explicitly: one that passed in env, or one an
// earlier rollback moved away from (moving forward again). It refuses,
// naming the entry, when the target recorded no published data.
func ChooseRollback(env string, entries []Recorded, to string) (RollbackTarget, error) {
	if len(entries) == 0 {
		return RollbackTarget{}, refuse(NoEvidence, "%s has no release on record: nothing to roll back", env)
	}
	last := entries[len(entries)-1]
	rt := RollbackTarget{Current: last.Entry.Release, CurrentSeq: last.Seq}
	if to == rt.Current.ID {
		return RollbackTarget{}, refuse(NoEvidence, "%s already runs release %s (entry %d): nothing to roll back to", env, to, last.Seq)
	}
	// The latest word on each release: its own deploy entries, and
	// rollbacks that went to it or replaced it.
	latest := map[string]*Recorded{}
	var order []string
	see := func(id string, r *Recorded) {
		if _, ok := latest[id]; !ok {
			order = append(order, id)
		}
		latest[id] = r
	}
	for i := range entries {
		e := entries[i].Entry
		see(e.Release.ID, &entries[i])
		if e.Kind == RollbackEntry {
			see(e.Rollback.Replaced.ID, &entries[i])
		}
	}
	if to == "" {
		var best *Recorded
		for _, id := range order {
			r := latest[id]
			// Passed and not revoked: its last word is a passing deploy, or
			// a rollback that went to it (which restored a passed release).
			ok := (r.Entry.Kind == DeployEntry && r.Entry.Verdict == Passed) ||
				(r.Entry.Kind == RollbackEntry && r.Entry.Release.ID == id)
			if id == rt.Current.ID || !ok {
				continue
			}
			if best == nil || r.Seq > best.Seq {
				best = r
			}
		}
		if best == nil {
			return RollbackTarget{}, refuse(NoEvidence, "%s has no earlier release that passed there and was not revoked since: name one with --to", env)
		}
		to = best.Entry.Release.ID
	}
	r, ok := latest[to]
	if !ok {
		return RollbackTarget{}, refuse(NoEvidence, "release %s was never deployed to %s: roll back to a release its ledger records", to, env)
	}
	e := r.Entry
	switch {
	case e.Kind == RollbackEntry && e.Rollback.Replaced.ID == to:
		// Forward again: the data the rollback moved away from.
		if len(e.Rollback.MovedFrom) == 0 {
			return RollbackTarget{}, refuse(Malformed, "the rollback away from release %s in %s (entry %d) recorded no moved_from snapshots: its data cannot be restored", to, env, r.Seq)
		}
		rt.Target, rt.Snapshots, rt.Forward = *r, maps.Clone(e.Rollback.MovedFrom), true
		rt.Target.Entry.Release = e.Rollback.Replaced
		return rt, nil
	case e.Kind == RollbackEntry:
		// The environment ran it after a rollback (then moved on): restore
		// what that rollback restored.
		snaps := map[string]string{}
		for _, t := range e.Rollback.Tables {
			snaps[t.Table] = t.ToSnapshot
		}
		prior, err := lastPublished(entries, to, env)
		if err != nil {
			return RollbackTarget{}, err
		}
		merged := maps.Clone(prior.Entry.Audit.Published)
		maps.Copy(merged, snaps)
		rt.Target, rt.Snapshots = *r, merged
		return rt, nil
	case e.Verdict != Passed:
		return RollbackTarget{}, refuse(FailedUp, "release %s failed in %s (entry %d: %s): a rollback goes only to a release that passed there", to, env, r.Seq, e.Reason)
	case e.Audit == nil || len(e.Audit.Published) == 0:
		return RollbackTarget{}, refuse(NoEvidence, "release %s passed in %s (entry %d) but recorded no published snapshots (deployed before write-audit-publish): a rollback cannot restore its data; roll back to a later release with --to", to, env, r.Seq)
	}
	rt.Target, rt.Snapshots = *r, maps.Clone(e.Audit.Published)
	return rt, nil
}

// lastPublished is the newest passed deploy entry of release id with its
// published snapshots.
func lastPublished(entries []Recorded, id, env string) (*Recorded, error) {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i].Entry
		if e.Kind == DeployEntry && e.Release.ID == id && e.Verdict == Passed && e.Audit != nil && len(e.Audit.Published) > 0 {
			return &entries[i], nil
		}
	}
	return nil, refuse(NoEvidence, "release %s has no passed deploy in %s that recorded its published snapshots", id, env)
}

// Unconfirmed refuses a rollback the environment's file asks approval for.
const Unconfirmed Kind = "unconfirmed"

// NeedsConfirmation refuses a rollback that the environment's file asks
// approval for (promotion_requires_approval) and that was not confirmed.
func NeedsConfirmation(requiresApproval, confirmed bool) error {
	if requiresApproval && !confirmed {
		return refuse(Unconfirmed, "this environment's file asks for approval (promotion_requires_approval): read the plan above, then run the rollback again with --confirm")
	}
	return nil
}
