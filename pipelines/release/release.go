// Package release describes a release of the Dagster images: what it was
// built from (the repository's commit, never the clock), how its images are
// labelled, where they may be published, and the record that promotes it
// from environment to environment without a rebuild.
package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// RecordSchemaVersion is the version of the JSON release record.
const RecordSchemaVersion = 1

var commitPattern = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// Identity is what a release is built from.
type Identity struct {
	// Commit is the full commit hash of the repository.
	Commit string
	// Dirty is true when the build inputs differ from Commit.
	Dirty bool
	// CommitTime is the commit's committer time: the image creation time,
	// so a rebuild of the same commit is byte-for-byte the same image.
	CommitTime time.Time
	// Source is the repository URL (credentials removed), or "" if unknown.
	Source string
}

// NewIdentity validates a commit hash and the rest of an identity.
func NewIdentity(commit string, dirty bool, commitTime time.Time, source string) (Identity, error) {
	commit = strings.ToLower(strings.TrimSpace(commit))
	if !commitPattern.MatchString(commit) {
		return Identity{}, fmt.Errorf("revision %q is not a full commit hash (40 hex characters, e.g. the output of `git rev-parse HEAD`)", commit)
	}
	if commitTime.IsZero() {
		return Identity{}, errors.New("the commit time is unknown: pass the commit's time (git log -1 --format=%cI) along with --revision")
	}
	return Identity{Commit: commit, Dirty: dirty, CommitTime: commitTime.UTC(), Source: cleanSource(source)}, nil
}

// Version is the image version label: the short commit, "-dirty" when the
// inputs were not committed.
func (i Identity) Version() string {
	v := i.Commit[:12]
	if i.Dirty {
		v += "-dirty"
	}
	return v
}

// Label is one OCI image label.
type Label struct{ Name, Value string }

// Labels are the OCI annotations every image of the release carries, sorted
// by name. None depends on the clock, so building the same commit twice
// gives the same image config and the layers stay cached.
func (i Identity) Labels() []Label {
	labels := []Label{
		{"org.opencontainers.image.created", i.CommitTime.Format(time.RFC3339)},
		{"org.opencontainers.image.revision", i.Commit},
		{"org.opencontainers.image.version", i.Version()},
	}
	if i.Source != "" {
		labels = append(labels, Label{"org.opencontainers.image.source", i.Source})
	}
	sort.Slice(labels, func(a, b int) bool { return labels[a].Name < labels[b].Name })
	return labels
}

// cleanSource drops credentials from a repository URL and normalises the
// forms git prints for GitHub-style remotes.
func cleanSource(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if rest, ok := strings.CutPrefix(s, "git@"); ok { // git@host:owner/repo.git
		if host, path, ok := strings.Cut(rest, ":"); ok {
			s = "https://" + host + "/" + path
		}
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 && at < strings.IndexAny(rest+"/", "/") {
			rest = rest[at+1:]
		}
		s = scheme + "://" + rest
	}
	return strings.TrimSuffix(s, ".git")
}

// LockDigest is the sha256 of one dependency lock file.
type LockDigest struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// DigestLock computes the LockDigest of a lock file's contents.
func DigestLock(file string, contents []byte) LockDigest {
	sum := sha256.Sum256(contents)
	return LockDigest{File: file, SHA256: hex.EncodeToString(sum[:])}
}

// Record is the release record publish returns: the commit and the image
// digests that promotion carries from environment to environment.
type Record struct {
	SchemaVersion int          `json:"schema_version"`
	ID            string       `json:"id"`
	Commit        string       `json:"commit"`
	Dirty         bool         `json:"dirty"`
	CommitTime    string       `json:"commit_time"`
	Source        string       `json:"source,omitempty"`
	RuntimeImage  string       `json:"runtime_image"`
	GateImage     string       `json:"gate_image"`
	Locks         []LockDigest `json:"locks"`
	// PublishedAt is when publish ran; informational, never part of the ID.
	PublishedAt string `json:"published_at"`
}

// NewRecord assembles a release record from published digest references.
func NewRecord(id Identity, runtime, gate string, locks []LockDigest, publishedAt time.Time) (Record, error) {
	for name, ref := range map[string]string{"runtime image": runtime, "gate image": gate} {
		if _, err := ParseDigestRef(ref); err != nil {
			return Record{}, fmt.Errorf("release record: %s: %w", name, err)
		}
	}
	locks = append([]LockDigest(nil), locks...)
	sort.Slice(locks, func(a, b int) bool { return locks[a].File < locks[b].File })
	r := Record{
		SchemaVersion: RecordSchemaVersion,
		Commit:        id.Commit,
		Dirty:         id.Dirty,
		CommitTime:    id.CommitTime.Format(time.RFC3339),
		Source:        id.Source,
		RuntimeImage:  runtime,
		GateImage:     gate,
		Locks:         locks,
		PublishedAt:   publishedAt.UTC().Format(time.RFC3339),
	}
	r.ID = r.computeID()
	return r, nil
}

// computeID names a release by what it is: the commit and both image
// digests (like a Kargo freight name), never by when it was made.
func (r Record) computeID() string {
	h := sha256.New()
	for _, part := range []string{r.Commit, digestOf(r.RuntimeImage), digestOf(r.GateImage)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// JSON renders the record.
func (r Record) JSON() ([]byte, error) {
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// ParseRecord reads and verifies a release record: schema version, commit,
// digest references, and an ID that matches its contents (a hand-edited
// digest is refused).

func ParseRecord(raw []byte) (Record, error) {
	return parseRecord("release record", raw)
}

// ParseRecordFile is ParseRecord of a file the user named: errors say the
// file (and, for malformed JSON, the line).
func ParseRecordFile(name string, raw []byte) (Record, error) {
	if name == "" {
		name = "(unnamed file)"
	}
	return parseRecord("release record "+name, raw)
}

func parseRecord(what string, raw []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("%s%s: not valid JSON of schema %d: %w", what, jsonLine(raw, err), RecordSchemaVersion, err)
	}
	if r.SchemaVersion != RecordSchemaVersion {
		return Record{}, fmt.Errorf("%s: schema_version %d is not supported (expected %d)", what, r.SchemaVersion, RecordSchemaVersion)
	}
	if !commitPattern.MatchString(r.Commit) {
		return Record{}, fmt.Errorf("%s: commit %q is not a full commit hash", what, r.Commit)
	}
	for name, ref := range map[string]string{"runtime_image": r.RuntimeImage, "gate_image": r.GateImage} {
		if _, err := ParseDigestRef(ref); err != nil {
			return Record{}, fmt.Errorf("%s: %s: %w", what, name, err)
		}
	}
	if want := r.computeID(); r.ID != want {
		return Record{}, fmt.Errorf("%s: id %q does not match its commit and image digests (expected %q): the record was edited", what, r.ID, want)
	}
	return r, nil
}

// jsonLine is ":<line>" of the position a JSON error reports ("" if none).
func jsonLine(raw []byte, err error) string {
	var offset int64
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	default:
		return ""
	}
	if offset > int64(len(raw)) {
		offset = int64(len(raw))
	}
	return fmt.Sprintf(":%d", 1+bytes.Count(raw[:offset], []byte("\n")))
}

func digestOf(ref string) string {
	_, d, _ := strings.Cut(ref, "@")
	return d
}
