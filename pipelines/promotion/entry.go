// Package promotion decides whether a release may be deployed to an
// environment: the evidence (the upstream environment's ledger entries for
// the release, or a file given by hand) must show that exactly this
// release — commit and image digests — passed the quality gate there,
// recently enough, under the target environment's policy — and that the
// target's calendar allows it now: the release has soaked upstream long
// enough and no freeze window holds (an explicit, recorded break-glass
// overrides those two, never the evidence). It fails closed, each refusal
// with its own message and the command that would fix it or the next
// allowed time.
package promotion

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// EntrySchemaVersion is the version of the ledger entries this package
// writes. Version 2 added the entry kind (deploy or rollback) and the
// break-glass record; version 1 entries (deploys) still read.
const EntrySchemaVersion = 2

// EntryKind is what an entry records.
type EntryKind string

// The entry kinds. A version 1 entry has none and is a deploy.
const (
	// DeployEntry is a deploy or re-verification of a release: the only
	// kind promotion admits a release on.
	DeployEntry EntryKind = "deploy"
	// RollbackEntry is a rollback of the environment to an earlier release;
	// it revokes the release it replaced and is never evidence.
	RollbackEntry EntryKind = "rollback"
)

// Verdict is what a deploy concluded about a release in an environment.
type Verdict string

// The verdicts. A failed verification after a pass revokes the pass.
const (
	Passed Verdict = "passed"
	Failed Verdict = "failed"
)

// Entry is one record of an environment's release ledger: a deploy (or a
// re-verification) of a release and its outcome.
type Entry struct {
	SchemaVersion int `json:"schema_version"`
	// Kind is DeployEntry or RollbackEntry ("" in version 1: a deploy).
	Kind        EntryKind `json:"kind,omitempty"`
	Environment string    `json:"environment"`
	// Release is the release deployed, or for a rollback the release the
	// environment was rolled back to.
	Release release.Record `json:"release"`
	// Verdict is the outcome: of the deploy, or of the rollback itself.
	Verdict Verdict `json:"verdict"`
	// Reason says why a release failed ("" when it passed).
	Reason string `json:"reason"`
	// Gate is the quality gate's evidence (nil when the deploy failed
	// before the gate ran).
	Gate *GateEvidence `json:"gate"`
	// Upstream is the evidence this deploy was admitted on (nil for the
	// first environment).
	Upstream *UpstreamRef `json:"upstream"`
	// BreakGlass is the override the deploy went through, if any.
	BreakGlass *BreakGlass `json:"break_glass,omitempty"`
	// Rollback says what a rollback entry moved back (nil otherwise).
	Rollback *Rollback `json:"rollback,omitempty"`
	// RecordedAt is when the entry was written.
	RecordedAt string `json:"recorded_at"`
	// Run is the deploy's run report (JSON).
	Run json.RawMessage `json:"run,omitempty"`
}

// GateEvidence is the gate report a verdict rests on.
type GateEvidence struct {
	Outcome    string          `json:"outcome"`
	FinishedAt string          `json:"finished_at"`
	Report     json.RawMessage `json:"report"`
}

// UpstreamRef names the upstream entry a deploy was admitted on.
type UpstreamRef struct {
	Environment string `json:"environment"`
	Seq         int    `json:"seq"`
	ReleaseID   string `json:"release_id"`
}

// Recorded is an entry with its place in the ledger.
type Recorded struct {
	Seq   int
	Key   string
	Entry Entry
}

// ParseEntry reads and checks one ledger entry: its schema, its release
// record (which verifies itself) and its verdict.
func ParseEntry(raw []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("not a ledger entry of schema %d: %w", EntrySchemaVersion, err)
	}
	switch e.SchemaVersion {
	case 1:
		if e.Kind != "" || e.BreakGlass != nil || e.Rollback != nil {
			return Entry{}, fmt.Errorf("ledger entry of schema 1 has kind, break_glass or rollback, which came with schema 2")
		}
		e.Kind = DeployEntry
	case EntrySchemaVersion:
	default:
		return Entry{}, fmt.Errorf("ledger entry schema_version %d is not supported (expected 1 or %d)", e.SchemaVersion, EntrySchemaVersion)
	}
	if e.Environment == "" {
		return Entry{}, fmt.Errorf("ledger entry names no environment")
	}
	if err := verifyRecord(e.Release); err != nil {
		return Entry{}, fmt.Errorf("ledger entry: %w", err)
	}
	if e.Verdict != Passed && e.Verdict != Failed {
		return Entry{}, fmt.Errorf("ledger entry: verdict %q is not passed or failed", e.Verdict)
	}
	if e.Verdict == Failed && e.Reason == "" {
		return Entry{}, fmt.Errorf("ledger entry: verdict failed without a reason")
	}
	if e.BreakGlass != nil {
		if err := e.BreakGlass.check(); err != nil {
			return Entry{}, fmt.Errorf("ledger entry: break_glass: %w", err)
		}
	}
	switch e.Kind {
	case DeployEntry:
		if e.Rollback != nil {
			return Entry{}, fmt.Errorf("ledger entry: a deploy entry with a rollback record")
		}
		if e.Verdict == Passed && e.Gate == nil {
			return Entry{}, fmt.Errorf("ledger entry: verdict passed without gate evidence")
		}
	case RollbackEntry:
		if err := e.checkRollback(); err != nil {
			return Entry{}, fmt.Errorf("ledger entry: %w", err)
		}
	default:
		return Entry{}, fmt.Errorf("ledger entry: kind %q is not %s or %s", e.Kind, DeployEntry, RollbackEntry)
	}
	if _, err := time.Parse(time.RFC3339, e.RecordedAt); err != nil {
		return Entry{}, fmt.Errorf("ledger entry: recorded_at %q is not RFC 3339", e.RecordedAt)
	}
	return e, nil
}

// verifyRecord checks a release record the way publish wrote it.
func verifyRecord(r release.Record) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = release.ParseRecord(raw)
	return err
}

// JSON renders the entry, refusing one that would not read back: the
// ledger is append-only and one unreadable entry refuses all the evidence
// of its environment, so a malformed entry must never be written.
func (e Entry) JSON() ([]byte, error) {
	out, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, err := ParseEntry(out); err != nil {
		return nil, fmt.Errorf("refusing to record a ledger entry that would not read back: %w", err)
	}
	return append(out, '\n'), nil
}

// LedgerPrefix is where an environment's ledger lives in its state bucket,
// beside its Terraform state.
func LedgerPrefix(stateProject, env string) string {
	return stateProject + "/" + env + "/releases"
}
