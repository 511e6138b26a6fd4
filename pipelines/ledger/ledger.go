// Package ledger is the release ledger's storage: an append-only log of
// opaque JSON entries per environment, kept in an object store beside the
// environment's Terraform state.
//
// An environment's log is the objects <prefix>/<seq>.json, where seq is a
// zero-padded decimal starting at 000001, so lexical order is numeric order
// (e.g. iceberg-lakehouse/prod/releases/000003.json). The store is the
// cloud's state bucket: S3 for AWS environments, Google Cloud Storage for
// GCP ones. Entries are created with a create-only write (S3 If-None-Match: *,
// GCS ifGenerationMatch=0), never overwritten: when two writers race for the
// same seq exactly one creates it and the other gets a *ConflictError. What
// an entry says (release, gate outcome, verdict) is the caller's business;
// the ledger only requires valid JSON.
package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// ErrExists is returned (wrapped) by Store.Put when the key already exists.
var ErrExists = errors.New("object already exists")

// ErrNotFound is returned (wrapped) by Store.Get when the key does not exist.
var ErrNotFound = errors.New("object not found")

// Store is an object store with create-only writes.
type Store interface {
	// Put creates key with body. It never overwrites: when key exists it
	// returns an error wrapping ErrExists and leaves the object unchanged.
	Put(ctx context.Context, key string, body []byte) error
	// Get returns the content of key, an error wrapping ErrNotFound when it
	// does not exist.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns every key that starts with prefix, in any order.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Entry is one record of a log.
type Entry struct {
	// Seq is the entry's position, 1 for the first.
	Seq int
	// Key is the object holding it, e.g. iceberg-lakehouse/prod/releases/000001.json.
	Key string
	// Body is the entry as written: a JSON document.
	Body []byte
}

// seqWidth is the number of digits of a seq in a key. Larger seqs still
// parse (Read sorts numerically), but keys stop sorting lexically beyond
// 999999 entries.
const seqWidth = 6

// MaxEntrySize is the largest entry Append writes and a Store reads back.
const MaxEntrySize = 8 << 20

// readConcurrency bounds the parallel Gets of Read.
const readConcurrency = 8

// Prefix is where env's ledger lives in the state bucket, beside its state:
// iceberg-lakehouse/<env>/releases.
func Prefix(env environment.Env) (string, error) {
	if env.IsZero() {
		return "", errors.New("ledger prefix: no environment given")
	}
	return path.Join(terraform.StateProject, env.Name(), "releases"), nil
}

// Key returns the object key of entry seq in the log at prefix.
func Key(prefix string, seq int) string {
	return fmt.Sprintf("%s/%0*d.json", strings.TrimSuffix(prefix, "/"), seqWidth, seq)
}

// ConflictError is Append's answer when another writer created the entry it
// was about to create: another deploy of the environment recorded meanwhile.
// Nothing was written. It unwraps to ErrExists.
type ConflictError struct {
	Prefix string
	Seq    int
	Key    string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("release ledger %s: entry %0*d (%s) was recorded by another writer while this one was appending: another deploy of this environment recorded meanwhile, so this result was NOT recorded; read the ledger to see what was recorded, then run again if this deploy is still wanted",
		e.Prefix, seqWidth, e.Seq, e.Key)
}

func (e *ConflictError) Unwrap() error { return ErrExists }

// Append records body as the next entry of the log at prefix: it lists the
// log, takes the seq after the last one and creates it with a create-only
// write. When another writer created that seq first it returns a
// *ConflictError and does not retry: two concurrent deploys of one
// environment must not both record. body must be a JSON document.
func Append(ctx context.Context, s Store, prefix string, body []byte) (Entry, error) {
	prefix, err := CleanPrefix(prefix)
	if err != nil {
		return Entry{}, err
	}
	if len(body) > MaxEntrySize {
		return Entry{}, fmt.Errorf("release ledger %s: entry is %d bytes, more than the %d allowed", prefix, len(body), MaxEntrySize)
	}
	if !json.Valid(body) {
		return Entry{}, fmt.Errorf("release ledger %s: entry is not a JSON document", prefix)
	}
	seqs, err := list(ctx, s, prefix)
	if err != nil {
		return Entry{}, err
	}
	seq := len(seqs) + 1
	e := Entry{Seq: seq, Key: Key(prefix, seq), Body: slices.Clone(body)}
	if err := s.Put(ctx, e.Key, e.Body); err != nil {
		if errors.Is(err, ErrExists) {
			return Entry{}, &ConflictError{Prefix: prefix, Seq: seq, Key: e.Key}
		}
		return Entry{}, fmt.Errorf("release ledger %s: record entry %d: %w", prefix, seq, err)
	}
	return e, nil
}

// Read returns every entry of the log at prefix in seq order (none for a
// log never written). A key under prefix that is not <seq>.json, a missing
// seq (an entry deleted from the middle) and an entry that is not JSON are
// errors naming the key: a ledger that was tampered with is never read as
// if it were whole.
func Read(ctx context.Context, s Store, prefix string) ([]Entry, error) {
	prefix, err := CleanPrefix(prefix)
	if err != nil {
		return nil, err
	}
	keys, err := list(ctx, s, prefix)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for i, key := range keys {
		g.Go(func() error {
			body, err := s.Get(gctx, key)
			if err != nil {
				return fmt.Errorf("release ledger %s: read entry %d: %w", prefix, i+1, err)
			}
			if !json.Valid(body) {
				return fmt.Errorf("release ledger %s: %s is not a JSON document: the entry was not written by this ledger; restore it from the bucket's object versions", prefix, key)
			}
			entries[i] = Entry{Seq: i + 1, Key: key, Body: body}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return entries, nil
}

// list returns the keys of the log at prefix, index i holding seq i+1, after
// checking that every key is a canonical <seq>.json and no seq is missing.
func list(ctx context.Context, s Store, prefix string) ([]string, error) {
	keys, err := s.List(ctx, prefix+"/")
	if err != nil {
		return nil, fmt.Errorf("release ledger %s: list entries: %w", prefix, err)
	}
	bySeq := map[int]string{}
	for _, key := range keys {
		seq, err := parseKey(prefix, key)
		if err != nil {
			return nil, err
		}
		bySeq[seq] = key
	}
	ordered := make([]string, 0, len(bySeq))
	for seq := 1; seq <= len(bySeq); seq++ {
		key, ok := bySeq[seq]
		if !ok {
			return nil, fmt.Errorf("release ledger %s: entry %s is missing but later entries exist: an entry was deleted; restore it from the bucket's object versions", prefix, Key(prefix, seq))
		}
		ordered = append(ordered, key)
	}
	return ordered, nil
}

// parseKey returns the seq of a key under prefix+"/", an error naming the key
// unless it is exactly Key(prefix, seq) for some seq >= 1.
func parseKey(prefix, key string) (int, error) {
	name, ok := strings.CutPrefix(key, prefix+"/")
	digits, isJSON := strings.CutSuffix(name, ".json")
	bad := func(why string) error {
		return fmt.Errorf("release ledger %s: unexpected object %s: %s; only <seq>.json entries written by the ledger belong under the prefix (move the object elsewhere)", prefix, key, why)
	}
	if !ok || !isJSON || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, bad("entries are named <seq>.json, e.g. 000001.json")
	}
	seq, err := strconv.Atoi(digits)
	if err != nil || seq < 1 {
		return 0, bad("the seq must be a number from 1")
	}
	if Key(prefix, seq) != key {
		return 0, bad(fmt.Sprintf("seq %d is written %s", seq, Key(prefix, seq)))
	}
	return seq, nil
}

// CleanPrefix validates a log prefix given by a user and drops a trailing
// slash: Append and Read refuse an empty prefix (the whole bucket, state
// files included), a leading slash and empty segments.
func CleanPrefix(prefix string) (string, error) {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		return "", fmt.Errorf("ledger prefix %q: use a path without leading slash or empty segments, e.g. iceberg-lakehouse/<env>/releases", prefix)
	}
	return p, nil
}
