package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"
)

// onCloud is a copy of the checkout's first environment file named env,
// deploying to cloud, first in its promotion chain unless upstream is set.
func onCloud(t testing.TB, env, cloud, upstream string) string {
	t.Helper()
	src := copyEnvironment(t, env)
	require.Regexp(t, `(?m)^\s*cloud_provider\s*=`, src, "the tfvars file sets cloud_provider")
	out := regexp.MustCompile(`(?m)^(\s*cloud_provider\s*=\s*)"[a-z]+"`).ReplaceAllString(src, `${1}"`+cloud+`"`)
	return regexp.MustCompile(`(?m)^(\s*promotion_upstream\s*=\s*)"[a-z0-9]*"`).ReplaceAllString(out, `${1}"`+upstream+`"`)
}

// gcpRepo is the checkout with two environments that deploy to gcp (a
// chain of their own) and a gcp lock file.
func gcpRepo(t testing.TB) string {
	t.Helper()
	root := repoWithExtraEnvironments(t, map[string]string{
		"gone.tfvars": onCloud(t, "gone", "gcp", ""),
		"gtwo.tfvars": onCloud(t, "gtwo", "gcp", "gone"),
	})
	require.NoError(t, os.WriteFile(filepath.Join(root, "gcp", ".terraform.lock.hcl"), []byte("# test lock\n"), 0o644))
	return root
}

// Without --cloud-provider a plan uses the root the environment's file
// names; with it, the other root reads the same file (the guide plans one
// environment file in both clouds).
func TestAnEnvironmentIsPlannedWithTheCloudItsFileNames(t *testing.T) {
	m, eng := tfEngineAt(t, gcpRepo(t), repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	m = withAWS(m).WithGcpCredentials(dag.SetSecret("gcp", canaryGCP))

	p, err := m.Plan(t.Context(), "gone", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "iceberg-lakehouse/gone", p.StateKey, "the gcs backend's prefix, not an s3 key")
	assert.Equal(t, "/src/gcp", planned(t, eng).Workdir())

	p, err = m.Plan(t.Context(), firstEnv(t), "", nil)
	require.NoError(t, err)
	assert.Equal(t, "iceberg-lakehouse/"+firstEnv(t)+"/terraform.tfstate", p.StateKey, "the repository's environments deploy to aws")

	p, err = m.Plan(t.Context(), "gone", "aws", nil)
	require.NoError(t, err, "an explicit --cloud-provider plans the same file with the other root")
	assert.Equal(t, "iceberg-lakehouse/gone/terraform.tfstate", p.StateKey)

	_, err = m.Plan(t.Context(), "gone", "azure", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--cloud-provider")
	assert.Contains(t, err.Error(), "allowed values are aws, gcp")
}

// A gcp environment's ledger is in the gcs state bucket of gcp's backend
// file, read with the Google credentials only.
func TestPromotingAGCPEnvironmentReadsTheUpstreamLedgerInTheGCSStateBucket(t *testing.T) {
	m, eng := tfEngineAt(t, gcpRepo(t), repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	ledger := &prefixLedger{logs: map[string][]string{}}
	eng.AnswerFunc("stdout", ledger.answer)
	m = withAWS(m).WithGcpCredentials(dag.SetSecret("gcp", canaryGCP))

	_, err := m.Promote(t.Context(), "gone", "gtwo", "", nil, false)
	require.Error(t, err, "gone has no release yet")
	assert.Contains(t, err.Error(), "deploy a release to gone first")

	c := ran(t, eng, "/tmp/lakehouse-ledger", "read")
	argv := c.LastExec()
	assert.Equal(t, "gcs", argAfter(argv, "--store"))
	assert.Equal(t, "/src/gcp/backend.tfbackend", argAfter(argv, "--backend"))
	assert.Equal(t, "iceberg-lakehouse/gone/releases", argAfter(argv, "--prefix"))
	assert.Contains(t, c.FileMounts(), "/src/gcp/backend.tfbackend")
	assert.Equal(t, gcpCredentialPath, c.Env()["GOOGLE_APPLICATION_CREDENTIALS"])
	assert.Contains(t, c.SecretMounts()[gcpCredentialPath], "setSecret(name:gcp")
	assert.Empty(t, c.SecretEnv(), "no AWS credential reaches a gcp environment's ledger")
	assertNoLeak(t, eng, canaryGCP[30:55])
}

// A gcp environment without Google credentials stops before any container.
func TestAGCPEnvironmentNeedsGoogleCredentials(t *testing.T) {
	m, eng := tfEngineAt(t, gcpRepo(t), repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	_, err := withAWS(m).Plan(t.Context(), "gone", "", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gcp credentials missing")
	assert.Empty(t, execsOf(eng), "nothing runs without the environment's credentials")
}

func execsOf(eng *enginetest.Engine) [][]string {
	var all [][]string
	for _, c := range eng.Containers() {
		all = append(all, c.Execs()...)
	}
	return all
}
