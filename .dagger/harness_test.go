package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dagger/lakehouse/internal/enginetest"

	"github.com/stretchr/testify/require"
)

// pinned matches references fixed to a version tag or a digest.
var pinned = regexp.MustCompile(`(:v?\d+(\.\d+)+[\w.-]*)?(@sha256:[0-9a-f]{64})?$`)

// newModule points dag at a fresh fake engine and builds the module as the
// CLI would with no arguments but a source directory.
func newModule(t testing.TB, topLevel ...string) (*Lakehouse, *enginetest.Engine) {
	t.Helper()
	eng, client := enginetest.New(t)
	dag = client
	entries := make([]any, 0, len(topLevel))
	for _, e := range topLevel {
		entries = append(entries, e)
	}
	eng.Answer("entries", entries)
	m, err := New(dag.Directory(), "", "", "", "", "", "")
	require.NoError(t, err)
	return m, eng
}

func requirePinned(t testing.TB, ref string) {
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

// serveRepo answers directory listings and file reads on the module's source
// from the real checkout at root, so tests run against the repository's own
// files (environments, tfvars) rather than copies of them.
func serveRepo(t testing.TB, eng *enginetest.Engine, root string) {
	t.Helper()
	// sourcePath is the repository-relative path a chain reads, or false
	// when the chain is not rooted at a directory (e.g. a container's file).
	sourcePath := func(c enginetest.Chain) (string, bool) {
		if c.Len() == 0 || c.Path[0].Field != "directory" {
			return "", false
		}
		var parts []string
		for _, s := range c.Path[1:] {
			if s.Field == "directory" || s.Field == "file" {
				p, _ := s.Args["path"].(string)
				parts = append(parts, p)
			}
		}
		return filepath.Join(append([]string{root}, parts...)...), true
	}
	eng.AnswerFunc("entries", func(c enginetest.Chain) (any, bool) {
		dir, ok := sourcePath(c)
		if !ok {
			return nil, false
		}
		list, err := os.ReadDir(dir)
		if err != nil {
			return nil, false
		}
		var names []any
		for _, e := range list {
			name := e.Name()
			if e.IsDir() {
				name += "/"
			}
			names = append(names, name)
		}
		return names, true
	})
	eng.AnswerFunc("contents", func(c enginetest.Chain) (any, bool) {
		file, ok := sourcePath(c)
		if !ok {
			return nil, false
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, false
		}
		return string(raw), true
	})
}

// repoRoot is the checkout the harness runs for.
func repoRoot(t testing.TB) string {
	t.Helper()
	root := os.Getenv("LAKEHOUSE_REPO_ROOT")
	if root == "" {
		t.Fatal("LAKEHOUSE_REPO_ROOT is not set; run module tests with go run ./tools/modharness test")
	}
	return root
}

// repoEnvironments lists the environments the checkout defines.
func repoEnvironments(t testing.TB, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "environments", "*.tfvars"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no environments/*.tfvars under %s", root)
	}
	var envs []string
	for _, f := range files {
		envs = append(envs, strings.TrimSuffix(filepath.Base(f), ".tfvars"))
	}
	return envs
}
