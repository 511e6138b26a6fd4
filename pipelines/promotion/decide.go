package promotion

import (
	"errors"
	"fmt"
	"time"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/quality"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// Kind names why a release may not be deployed.
type Kind string

// The refusal kinds.
const (
	NoEvidence   Kind = "no-evidence"
	OtherCommit  Kind = "other-commit"
	OtherDigest  Kind = "other-digest"
	OtherEnv     Kind = "other-environment"
	FailedUp     Kind = "failed"
	Revoked      Kind = "revoked"
	GateRefused  Kind = "gate"
	Malformed    Kind = "malformed"
	DirtyRelease Kind = "dirty"
	RolledBack   Kind = "rolled-back"
)

// Refusal is why a release may not be deployed to an environment.
type Refusal struct {
	Kind Kind
	// Gate is the quality refusal kind when Kind is GateRefused.
	Gate    quality.Kind
	Message string
	// AllowedFrom is the next time the deploy is allowed, for a soak or
	// freeze refusal (zero when there is none within SearchSpan).
	AllowedFrom time.Time
}

func (r *Refusal) Error() string { return "promotion refused (" + string(r.Kind) + "): " + r.Message }

// KindOf returns the refusal kind of err ("" if it is not a refusal).
func KindOf(err error) Kind {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Kind
	}
	return ""
}

// Request is a deploy of a release to an environment.
type Request struct {
	Target  environment.Env
	Release release.Record
	// AllowDirty admits a release built from uncommitted changes (never
	// recommended beyond the first environment).
	AllowDirty bool
	Now        time.Time
	// BreakGlass overrides the target's soak and freeze, recorded; nil
	// for an ordinary deploy.
	BreakGlass *BreakGlass
}

// Decision is the evidence a deploy is admitted on (nil Upstream for the
// first environment) and the break-glass override it went through, if any.
type Decision struct {
	Upstream *Recorded
	// SoakFrom is the upstream entry the soak is measured from: the first
	// pass of the release's latest unbroken run of passes there.
	SoakFrom *Recorded
	// BreakGlass is req.BreakGlass with the refusals it overrode.
	BreakGlass *BreakGlass
}

// Decide admits req on the upstream environment's ledger entries (or
// entries given by hand) and the target's calendar, or refuses with the
// missing or mismatching fact and the command that would produce it, or
// with the soak or freeze rule and the next allowed time. A break-glass
// request goes through the soak and freeze, never the evidence.
func Decide(req Request, upstream []Recorded) (Decision, error) {
	d, err := Evidence(req, upstream)
	if err != nil {
		return Decision{}, err
	}
	d.BreakGlass = cloneGlass(req.BreakGlass)
	if err := schedule(req, d.SoakFrom, &d); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// Evidence is Decide without the target's soak and freeze: what a
// rehearsal that changes nothing in the environment (ci's local deploy)
// is held to.
func Evidence(req Request, upstream []Recorded) (Decision, error) {
	target, rel := req.Target, req.Release
	if rel.Dirty && !req.AllowDirty {
		return Decision{}, refuse(DirtyRelease, "release %s was built from uncommitted changes: publish it from a commit", rel.ID)
	}
	up := target.Promotion().Upstream
	if up == "" {
		return Decision{}, nil
	}
	var sameCommit []Recorded
	var latest, rolledBackTo *Recorded
	var soak soakStart
	passedBefore := false
	for i := range upstream {
		r := upstream[i]
		e := r.Entry
		if e.Environment != up {
			return Decision{}, refuse(OtherEnv, "evidence entry %d is from environment %s, but %s promotes from %s", r.Seq, e.Environment, target, up)
		}
		if e.Kind == RollbackEntry {
			// Never evidence; a rollback away from this release revokes it.
			if sameRelease(e.Rollback.Replaced, rel) {
				latest = &upstream[i]
				soak.see(latest, false)
			}
			if sameRelease(e.Release, rel) {
				rolledBackTo = &upstream[i]
			}
			continue
		}
		switch {
		case e.Release.Commit != rel.Commit:
			continue
		case !sameRelease(e.Release, rel):
			sameCommit = append(sameCommit, r)
			continue
		}
		if latest != nil && latest.Entry.Verdict == Passed && latest.Entry.Kind != RollbackEntry {
			passedBefore = true
		}
		latest = &upstream[i]
		soak.see(latest, e.Verdict == Passed)
	}
	if latest == nil {
		if rolledBackTo != nil {
			return Decision{}, refuse(NoEvidence, "%s runs release %s again since a rollback (entry %d), which is no evidence of a pass: verify it there first (`deploy --env %s`)", up, rel.ID, rolledBackTo.Seq, up)
		}
		if len(sameCommit) > 0 {
			e := sameCommit[len(sameCommit)-1].Entry
			return Decision{}, refuse(OtherDigest, "%s deployed commit %s with other images (runtime %s, gate %s), not this release's (runtime %s, gate %s): promotion never rebuilds; promote the release %s holds (`promote --from %s --to %s`)",
				up, rel.Commit, e.Release.RuntimeImage, e.Release.GateImage, rel.RuntimeImage, rel.GateImage, up, up, target)
		}
		if len(upstream) > 0 {
			last := upstream[len(upstream)-1].Entry.Release
			return Decision{}, refuse(OtherCommit, "%s has no record of commit %s (its last release is commit %s): deploy this release to %s first (`deploy --env %s`), or promote what %s holds (`promote --from %s --to %s`)",
				up, rel.Commit, last.Commit, up, up, up, up, target)
		}
		return Decision{}, refuse(NoEvidence, "%s has no release on record: deploy release %s to %s first (`deploy --env %s`)", up, rel.ID, up, up)
	}
	e := latest.Entry
	if e.Kind == RollbackEntry {
		rb := e.Rollback
		return Decision{}, refuse(RolledBack, "release %s was rolled back in %s (entry %d%s: %s): it does not promote; publish a fix and deploy it to %s first",
			rel.ID, up, latest.Seq, by(rb.By), rb.Reason, up)
	}
	if e.Verdict == Failed {
		if passedBefore {
			return Decision{}, refuse(Revoked, "release %s passed in %s but a later verification failed (entry %d: %s): the pass is revoked; fix and publish a new release", rel.ID, up, latest.Seq, e.Reason)
		}
		return Decision{}, refuse(FailedUp, "release %s failed in %s (entry %d: %s): it does not promote", rel.ID, up, latest.Seq, e.Reason)
	}
	_, err := quality.Decide(e.Gate.Report, quality.Expectation{
		Environment:   up,
		Commit:        rel.Commit,
		RuntimeImage:  rel.RuntimeImage,
		GateImage:     rel.GateImage,
		WarningsBlock: target.Promotion().WarningsBlock,
		MaxAge:        target.Promotion().MaxEvidenceAge,
		Now:           req.Now,
	})
	if err != nil {
		var q *quality.Refusal
		if errors.As(err, &q) {
			return Decision{}, &Refusal{Kind: GateRefused, Gate: q.Kind, Message: fmt.Sprintf("the gate evidence of release %s in %s (entry %d) does not admit it to %s: %s; re-verify with `deploy --env %s`", rel.ID, up, latest.Seq, target, q.Message, up)}
		}
		return Decision{}, refuse(Malformed, "the gate evidence of entry %d in %s: %v", latest.Seq, up, err)
	}
	return Decision{Upstream: latest, SoakFrom: soak.first}, nil
}

// sameRelease: the same commit and image digests (a rebuild is another release).
func sameRelease(a, b release.Record) bool {
	return a.Commit == b.Commit && a.RuntimeImage == b.RuntimeImage && a.GateImage == b.GateImage
}

func by(who string) string {
	if who == "" {
		return ""
	}
	return ", by " + who
}

func refuse(kind Kind, format string, a ...any) error {
	return &Refusal{Kind: kind, Message: fmt.Sprintf(format, a...)}
}

// ParseEntries reads raw ledger entries, refusing the whole set when one
// is malformed: evidence is trusted only when every record of it reads.
func ParseEntries(raw []RawEntry) ([]Recorded, error) {
	out := make([]Recorded, 0, len(raw))
	for _, r := range raw {
		e, err := ParseEntry(r.Body)
		if err != nil {
			return nil, refuse(Malformed, "ledger entry %s: %v", r.Key, err)
		}
		out = append(out, Recorded{Seq: r.Seq, Key: r.Key, Entry: e})
	}
	return out, nil
}

// RawEntry is a ledger entry as stored.
type RawEntry struct {
	Seq  int
	Key  string
	Body []byte
}

// Latest returns the newest release that passed in an environment and has
// not been revoked (by a failed verification or a rollback away from it)
// since: what `promote --from` takes. A rollback entry is never that pass.
func Latest(entries []Recorded) (*Recorded, error) {
	status := map[string]*Recorded{}
	var order []string
	for i := range entries {
		e := entries[i].Entry
		id := e.Release.ID
		if e.Kind == RollbackEntry {
			// What it rolled back to keeps its own record; what it
			// replaced is revoked.
			id = e.Rollback.Replaced.ID
		}
		if _, seen := status[id]; !seen {
			order = append(order, id)
		}
		status[id] = &entries[i]
	}
	var best *Recorded
	for _, id := range order {
		r := status[id]
		if r.Entry.Kind != RollbackEntry && r.Entry.Verdict == Passed && (best == nil || r.Seq > best.Seq) {
			best = r
		}
	}
	if best == nil {
		return nil, refuse(NoEvidence, "no release has passed (and stayed passed) in this environment")
	}
	return best, nil
}
