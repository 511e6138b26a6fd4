package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
)

// TestResolveRefusesARequirementLeftToTheProxy is the fresh-clone failure of
// a real engine: without a requirement for github.com/dagger/otel-go, which
// the generated bindings import, the engine's go mod tidy takes the proxy's
// newest one. The check must name it (it talks to the Go module proxy).
func TestResolveRefusesARequirementLeftToTheProxy(t *testing.T) {
	root := copyRepo(t)
	gomod := filepath.Join(root, ".dagger", "go.mod")
	raw, err := os.ReadFile(gomod)
	require.NoError(t, err)
	mf, err := modfile.Parse(gomod, raw, nil)
	require.NoError(t, err)
	require.NoError(t, mf.DropRequire("github.com/dagger/otel-go"), "the committed module pins otel-go")
	out, err := mf.Format()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(gomod, out, 0o644))

	var log bytes.Buffer
	err = Resolve(Options{Root: root, Stdout: &log, Stderr: &log}, false)
	var drift *ResolveError
	require.True(t, errors.As(err, &drift), "want a ResolveError, got %v\n%s", err, log.String())
	assert.Contains(t, err.Error(), "github.com/dagger/otel-go: not required by go.mod; the engine's go mod tidy takes")
	assert.Contains(t, err.Error(), "Dagger v0.21.9 itself uses")
}

func TestCompareRequirementsNamesAddedAndMovedModulesOnly(t *testing.T) {
	committed := []byte("module m\n\ngo 1.26\n\nrequire (\n\ta.example/one v1.0.0\n\tb.example/two v1.2.0\n\tc.example/gone v0.1.0\n)\n")
	resolved := []byte("module m\n\ngo 1.26\n\nrequire (\n\ta.example/one v1.0.0\n\tb.example/two v1.3.0\n\td.example/new v0.9.0 // indirect\n)\n")
	drifts, err := compareRequirements(committed, resolved)
	require.NoError(t, err)
	assert.Equal(t, []Drift{
		{Path: "b.example/two", Committed: "v1.2.0", Resolved: "v1.3.0"},
		{Path: "d.example/new", Resolved: "v0.9.0"},
	}, drifts, "a requirement tidy drops is not a drift")
}

func TestMergeSDKRequirementsRaisesOnlyLowerOnesAndKeepsTheSDKsReplaces(t *testing.T) {
	module := []byte("module m\n\ngo 1.26\n\nrequire (\n\tlow.example/x v1.0.0\n\thigh.example/y v1.20.0\n\tlog.example/l v1.0.0\n)\n")
	sdk := []byte("module dagger.io/dagger\n\ngo 1.26\n\nrequire (\n\tlow.example/x v1.1.0\n\thigh.example/y v1.9.0\n\tnew.example/z v0.3.0\n)\n\nreplace log.example/l => log.example/l v0.16.0\n\nreplace sdkonly.example/s => sdkonly.example/s v0.1.0\n")
	merged, err := mergeSDKRequirements(module, sdk)
	require.NoError(t, err)
	mf, err := modfile.Parse("go.mod", merged, nil)
	require.NoError(t, err)
	got := map[string]string{}
	for _, r := range mf.Require {
		got[r.Mod.Path] = r.Mod.Version
	}
	assert.Equal(t, map[string]string{"low.example/x": "v1.1.0", "high.example/y": "v1.20.0", "new.example/z": "v0.3.0", "log.example/l": "v1.0.0"}, got)
	var replaced []string
	for _, r := range mf.Replace {
		replaced = append(replaced, r.Old.Path+"=>"+r.New.Version)
	}
	assert.Equal(t, []string{"log.example/l=>v0.16.0"}, replaced, "replaces of modules the module does not require stay out, as in the engine")
}

func TestRecordGeneratedImportsKeepsOnlyThirdPartyPackages(t *testing.T) {
	dir := t.TempDir()
	mod := &Module{Dir: dir, ImportPath: "dagger/zzfixture"}
	_, err := RecordGeneratedImports(mod)
	require.ErrorContains(t, err, "run `dagger develop`", "no bindings yet: say how to get them")

	require.NoError(t, os.MkdirAll(filepath.Join(dir, "internal", "dagger"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dagger.gen.go"), []byte("package main\n\nimport (\n\t\"context\"\n\t\"dagger/zzfixture/internal/dagger\"\n\ttelemetry \"github.com/dagger/otel-go\"\n\t\"go.opentelemetry.io/otel/sdk/resource\"\n)\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "internal", "dagger", "dagger.gen.go"), []byte("package dagger\n\nimport (\n\t\"net/http\"\n\t\"github.com/dagger/otel-go\"\n\t\"github.com/Khan/genqlient/graphql\"\n)\n"), 0o644))
	got, err := RecordGeneratedImports(mod)
	require.NoError(t, err)
	assert.Equal(t, []string{"github.com/Khan/genqlient/graphql", "github.com/dagger/otel-go", "go.opentelemetry.io/otel/sdk/resource"}, got)
}

func TestGeneratedImportsListsTheBindingsTelemetry(t *testing.T) {
	got := GeneratedImports()
	assert.Contains(t, got, "github.com/dagger/otel-go", "the import whose absence broke every dagger call")
	for _, p := range got {
		assert.False(t, strings.HasPrefix(p, "#") || strings.TrimSpace(p) != p || p == "", "%q", p)
	}
	assert.Contains(t, string(importsFile(got)), "\t_ \"github.com/dagger/otel-go\"\n")
}

// TestResolveSeesOnlyWhatTheEngineLoads: the engine loads the repository
// files dagger.json includes, and its go mod tidy also wants the packages
// the module's dependencies import in their tests. A package left out of
// the include (internal/hosttest, imported by pipelines tests) passed
// against the whole checkout and failed every call on an engine.
func TestResolveSeesOnlyWhatTheEngineLoads(t *testing.T) {
	root := copyRepo(t)
	cfg := filepath.Join(root, "dagger.json")
	raw, err := os.ReadFile(cfg)
	require.NoError(t, err)
	trimmed := strings.Replace(string(raw), "\"internal\",", "", 1)
	require.NotEqual(t, string(raw), trimmed, "dagger.json includes internal/")
	require.NoError(t, os.WriteFile(cfg, []byte(trimmed), 0o644))

	var log bytes.Buffer
	err = Resolve(Options{Root: root, Stdout: &log, Stderr: &log}, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "internal/hosttest")
}
