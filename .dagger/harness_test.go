package main

import (
	"regexp"
	"slices"
	"testing"

	"dagger/lakehouse/internal/enginetest"

	"github.com/stretchr/testify/require"
)

// pinned matches references fixed to a version tag or a digest.
var pinned = regexp.MustCompile(`(:v?\d+(\.\d+)+[\w.-]*)?(@sha256:[0-9a-f]{64})?$`)

// newModule points dag at a fresh fake engine and builds the module as the
// CLI would with no arguments but a source directory.
func newModule(t *testing.T, topLevel ...string) (*Lakehouse, *enginetest.Engine) {
	t.Helper()
	eng, client := enginetest.New(t)
	dag = client
	entries := make([]any, 0, len(topLevel))
	for _, e := range topLevel {
		entries = append(entries, e)
	}
	eng.Answer("entries", entries)
	m, err := New(dag.Directory(), "", "", "", "", "")
	require.NoError(t, err)
	return m, eng
}

func requirePinned(t *testing.T, ref string) {
	t.Helper()
	m := pinned.FindStringSubmatch(ref)
	require.True(t, m != nil && (m[1] != "" || m[3] != ""), "image %q is not pinned to a version tag or digest", ref)
}

// stepIndex is the position of the first step named field whose argument
// key equals value, or -1.
func stepIndex(c enginetest.Chain, field, key, value string) int {
	return slices.IndexFunc(c.Path, func(s enginetest.Step) bool {
		if s.Field != field {
			return false
		}
		switch v := s.Args[key].(type) {
		case string:
			return v == value
		case []any:
			return len(v) > 0 && v[0] == value
		}
		return false
	})
}
