// Package promotion decides whether a release may be deployed to an
// environment: the evidence (the upstream environment's ledger entries for
// the release, or a file given by hand) must show that exactly this
// release — commit and image digests — passed the quality gate there,
// recently enough, under the target environment's policy. It fails closed,
// each refusal with its own message and the command that would fix it.
package promotion

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// EntrySchemaVersion is the version of a ledger entry.
const EntrySchemaVersion = 1

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
	SchemaVersion int            `json:"schema_version"`
	Environment   string         `json:"environment"`
	Release       release.Record `json:"release"`
	Verdict       Verdict        `json:"verdict"`
	// Reason says why a release failed ("" when it passed).
	Reason string `json:"reason"`
	// Gate is the quality gate's evidence (nil when the deploy failed
	// before the gate ran).
	Gate *GateEvidence `json:"gate"`
	// Upstream is the evidence this deploy was admitted on (nil for the
	// first environment).
	Upstream *UpstreamRef `json:"upstream"`
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
	if e.SchemaVersion != EntrySchemaVersion {
		return Entry{}, fmt.Errorf("ledger entry schema_version %d is not supported (expected %d)", e.SchemaVersion, EntrySchemaVersion)
	}
	if e.Environment == "" {
		return Entry{}, fmt.Errorf("ledger entry names no environment")
	}
	rec, err := json.Marshal(e.Release)
	if err != nil {
		return Entry{}, err
	}
	if _, err := release.ParseRecord(rec); err != nil {
		return Entry{}, fmt.Errorf("ledger entry: %w", err)
	}
	switch e.Verdict {
	case Passed:
		if e.Gate == nil {
			return Entry{}, fmt.Errorf("ledger entry: verdict passed without gate evidence")
		}
	case Failed:
		if e.Reason == "" {
			return Entry{}, fmt.Errorf("ledger entry: verdict failed without a reason")
		}
	default:
		return Entry{}, fmt.Errorf("ledger entry: verdict %q is not passed or failed", e.Verdict)
	}
	if _, err := time.Parse(time.RFC3339, e.RecordedAt); err != nil {
		return Entry{}, fmt.Errorf("ledger entry: recorded_at %q is not RFC 3339", e.RecordedAt)
	}
	return e, nil
}

// JSON renders the entry.
func (e Entry) JSON() ([]byte, error) {
	out, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// LedgerPrefix is where an environment's ledger lives in its state bucket,
// beside its Terraform state.
func LedgerPrefix(stateProject, env string) string {
	return stateProject + "/" + env + "/releases"
}
