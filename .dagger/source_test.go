package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sourceIgnore reads the constructor's +ignore pragma from main.go: the
// patterns the engine applies to the default source.
func sourceIgnore(t testing.TB) *patternmatcher.PatternMatcher {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), ".dagger", "main.go"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*// \+ignore=(\[.*\])\s*$`).FindSubmatch(raw)
	require.NotNil(t, m, "main.go has no +ignore pragma")
	var patterns []string
	require.NoError(t, json.Unmarshal(m[1], &patterns), "the +ignore value is JSON")
	for i, p := range patterns {
		// Patterns are relative to the source root; a leading / anchors there.
		patterns[i] = strings.TrimPrefix(p, "/")
	}
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	return pm
}

// What `dagger develop`, Terraform, Python tools, editors and the gate write
// into a checkout must not reach the checks: it would make every check miss
// its cache (and could leak state or secrets into the engine).
func TestDefaultSourceLeavesOutGeneratedAndLocalFiles(t *testing.T) {
	pm := sourceIgnore(t)
	for _, p := range []string{
		".dagger/dagger.gen.go",
		".dagger/internal/dagger/dagger.gen.go",
		".dagger/internal/querybuilder/querybuilder.go",
		".dagger/internal/telemetry/init.go",
		"aws/.terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws",
		"aws/terraform.tfstate", "aws/dev.tfplan", "gcp/.terraform.tfstate.lock.info",
		"dagster/.venv/bin/python", "dagster/.venv-soda/bin/python",
		"dagster/lakehouse/__pycache__/config.cpython-311.pyc",
		"dagster/.soda/dev/lakehouse.duckdb", "dagster/gate.json", "dagster/gate.md",
		"dagster/.dagster_home/storage/x", "dagster/.env",
		// The REST catalog server's jars (150 MB) that scripts/iceberg-rest.sh resolves.
		"tests/iceberg-rest/lib/iceberg-core-1.10.0.jar",
		".git/HEAD", ".idea/workspace.xml", "dagster/.DS_Store",
		// google-github-actions/auth writes it into the workspace root.
		"gha-creds-5d1c2e3f4a5b6c7d.json",
	} {
		ok, err := pm.MatchesOrParentMatches(p)
		require.NoError(t, err)
		assert.True(t, ok, "%s reaches the module's source", p)
	}
	for _, p := range []string{
		"aws/.terraform.lock.hcl", "aws/main.tf", "environments/dev.tfvars",
		"dagster/.env.dev", "dagster/.env.example", "dagster/lakehouse/quality/gate_report.schema.json",
		"dagster/lakehouse/quality/gate.py", ".dagger/main.go", ".dagger/internal/enginetest/engine.go",
		"go.mod", ".github/workflows/ci.yml", "tests/iceberg-rest/pom.xml",
	} {
		ok, err := pm.MatchesOrParentMatches(p)
		require.NoError(t, err)
		assert.False(t, ok, "%s is left out of the module's source but the pipeline needs it", p)
	}
}
