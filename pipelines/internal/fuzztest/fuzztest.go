// Package fuzztest holds what the fuzz targets of the parsers share: seeds
// read from the repository's own files, and a bound on how long one input
// may take (Go's fuzzer reports panics and failures, but waits for ever on
// an input that never returns).
package fuzztest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Limit is how long one input may take before it counts as a hang: far
// above what any parser needs, so a loaded machine does not fail the run.
const Limit = 10 * time.Second

// Files returns the contents of the files matching each glob pattern
// (relative to the test's package directory), failing f when a pattern
// matches nothing: a fuzz target must start from the committed files.
func Files(f *testing.F, patterns ...string) map[string][]byte {
	f.Helper()
	out := map[string][]byte{}
	for _, pattern := range patterns {
		names, err := filepath.Glob(pattern)
		if err != nil || len(names) == 0 {
			f.Fatalf("no file matches %s to seed the fuzz target from (%v)", pattern, err)
		}
		for _, name := range names {
			raw, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			out[name] = raw
		}
	}
	return out
}

// Returns runs read and fails t when it has not returned within Limit:
// a parser that hangs on an input is as broken as one that panics.
func Returns(t *testing.T, input any, read func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		read()
	}()
	select {
	case <-done:
	case <-time.After(Limit):
		t.Fatalf("no answer after %s for %q", Limit, input)
	}
}
