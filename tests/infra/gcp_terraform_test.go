package infra

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
)

// gcpFixtureProject replaces the committed placeholder project, which
// gcp/checks.tf deliberately flags.
const gcpFixtureProject = "gcp_project_id=zzfixture-project"

// needGoogleProviders skips (never fails: the google provider cannot be
// downloaded everywhere, and CI does not build it) when the provider mirror
// lacks the providers of gcp/, saying so in the test log and in `make
// test`'s report.
func needGoogleProviders(t *testing.T) {
	t.Helper()
	var missing []string
	for _, p := range []string{hosttest.GoogleProvider, hosttest.RandomProvider} {
		if !mirror.Has(p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		msg := "gcp/ root: terraform validate and terraform test SKIPPED: the provider mirror (" + mirror.String() + ") lacks " +
			strings.Join(missing, " and ") + "; put the official releases in a mirror (`terraform providers mirror` on a machine with registry access) and set " + hosttest.MirrorEnv + " (docs/verification.md: A provider mirror for the GCP tests)"
		report(t, "%s", msg)
		t.Skip(msg)
	}
}

// TestGcpRootValidatesAndTestsEveryEnvironmentAgainstItsProviders runs
// terraform validate of gcp/ and gcp/tests/environment.tftest.hcl (mocked
// google and random providers, plan and apply mode) once per
// environments/*.tfvars, an added one included, with the real providers'
// schemas from the mirror. The apply run's teardown destroys what it
// created, which prevent_destroy refuses: the test lifts it in its copy
// of the root.
func TestGcpRootValidatesAndTestsEveryEnvironmentAgainstItsProviders(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		requireOrSkip(t, "terraform binary not on PATH: install Terraform >= 1.10 to test the gcp root")
	}
	needGoogleProviders(t)
	tree := tempTree(t, func(tree string) { addEnvironmentFromDev(t, tree, "zzgcp") })
	liftPreventDestroy(t, tree, "gcp")
	dir := filepath.Join(tree, "gcp")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"init", "-backend=false", "-input=false", "-no-color"}, {"validate", "-no-color"}} {
		var out bytes.Buffer
		cmd := terraformCmd(ctx, bin, dir, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Run(), "terraform %s of gcp/:\n%s", args[0], out.String())
	}
	committed, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	files, err := loadTfvars(tree)
	require.NoError(t, err)
	require.Len(t, files, len(committed)+1, "the repository's environments and zzgcp")
	body, err := parseHCLFile(filepath.Join(dir, "tests", "environment.tftest.hcl"))
	require.NoError(t, err)
	runs := 0
	for _, b := range body.Blocks {
		if b.Type == "run" {
			runs++
		}
	}
	require.Greater(t, runs, 1)
	for _, f := range files {
		t.Run(f.Env, func(t *testing.T) {
			var out bytes.Buffer
			cmd := terraformCmd(ctx, bin, dir, "test", "-no-color", "-var-file=../"+f.Path, "-var="+gcpFixtureProject)
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			assert.NoError(t, err, "terraform test of gcp/ with %s:\n%s", f.Path, out.String())
			assert.Contains(t, out.String(), fmt.Sprintf("Success! %d passed, 0 failed.", runs), "every run block must run and pass:\n%s", out.String())
		})
	}
	report(t, "gcp/ root: terraform validate and terraform test (plan and apply, mocked providers) passed for %d environments with %s", len(files), mirror.String())
}
