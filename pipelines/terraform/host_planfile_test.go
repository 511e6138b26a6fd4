package terraform

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/s3test"
)

// planFileFixtures are the saved plan files under testdata/planfiles,
// written by TestHostPlanFileBindingTestdataIsCurrent from real terraform
// runs. (Not *.tfplan: .gitignore keeps those out of the repository.)
const (
	devPlanFile       = "dev-aws.planfile"       // `plan` of dev on aws
	workspacePlanFile = "workspace-aws.planfile" // staging's key, made in workspace "feature"
	localPlanFile     = "local-state.planfile"   // a root without backend block
)

// readFile reads a file of the checkout's workdir.
func (c *checkout) readFile(name string) []byte {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.root, c.target.Workdir(), name))
	require.NoError(c.t, err)
	return b
}

// TestHostPlanFileBindingTestdataIsCurrent makes the saved plan fixtures
// with real terraform and checks that the committed files read the same.
// Set UPDATE_TESTDATA=1 to rewrite them.
func TestHostPlanFileBindingTestdataIsCurrent(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	files := map[string][]byte{}

	dev := newCheckout(t, s3, "dev", nil)
	dev.init()
	require.True(t, dev.planSaved("dev.tfplan"))
	files[devPlanFile] = dev.readFile("dev.tfplan")

	ws := newCheckout(t, s3, "staging", nil)
	ws.init()
	ws.must([]string{"terraform", "workspace", "new", "-no-color", "feature"})
	require.True(t, ws.planSaved("ws.tfplan"))
	files[workspacePlanFile] = ws.readFile("ws.tfplan")

	main, err := os.ReadFile(filepath.Join("testdata", "repo", "aws", "main.tf"))
	require.NoError(t, err)
	withoutBackend := strings.Replace(string(main), `backend "s3" {}`, "", 1)
	require.NotEqual(t, string(main), withoutBackend)
	local := newCheckout(t, nil, "dev", map[string]string{"aws/main.tf": withoutBackend})
	local.must(InitWithoutBackend())
	require.True(t, local.planSaved("local.tfplan"))
	files[localPlanFile] = local.readFile("local.tfplan")

	for name, fresh := range files {
		path := filepath.Join("testdata", "planfiles", name)
		require.NotContains(t, unzipped(t, fresh), "fixture-secret", "%s holds the test's AWS secret key", name)
		if os.Getenv("UPDATE_TESTDATA") != "" {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, fresh, 0o644))
			continue
		}
		committed, err := os.ReadFile(path)
		require.NoError(t, err, "run with UPDATE_TESTDATA=1 to create it")
		want, wantErr := ReadPlanBinding(committed)
		got, gotErr := ReadPlanBinding(fresh)
		assert.Equal(t, want, got, "%s is out of date: run with UPDATE_TESTDATA=1", path)
		assert.Equal(t, fmtErr(wantErr), fmtErr(gotErr), "%s is out of date: run with UPDATE_TESTDATA=1", path)
	}
}

// unzipped returns the uncompressed entries of a plan file, concatenated.
func unzipped(t *testing.T, planFile []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(planFile), int64(len(planFile)))
	require.NoError(t, err)
	var all strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		all.Write(b)
	}
	return all.String()
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// applyPlanFile is what a job that applies a reviewed plan file does: init
// the target's state, check the file against the target, apply.
func applyPlanFile(c *checkout, file string) error {
	c.t.Helper()
	c.init()
	b, err := ReadPlanBinding(c.readFile(file))
	if err != nil {
		return err
	}
	if err := c.target.CheckPlan(b); err != nil {
		return err
	}
	c.must(c.target.Apply(file))
	return nil
}

func TestHostPlanFileOfOneEnvironmentIsRefusedForAnotherAndChangesNoState(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	dev := newCheckout(t, s3, "dev", nil)
	prod := *dev
	prodTarget, err := NewTarget(mustLookup(t, dev.root, "prod"), AWS)
	require.NoError(t, err)
	prod.target = prodTarget.WithLockTimeout(0)
	for _, c := range []*checkout{dev, &prod} {
		c.init()
		require.True(t, c.planSaved(c.target.PlanFile()))
		c.must(c.target.Apply(c.target.PlanFile()))
	}

	// dev's reviewed plan reaches the prod job, renamed to prod's name.
	dev.setVars(`revision = "2"`)
	dev.init()
	require.True(t, dev.planSaved("reviewed.tfplan"))
	renamed := filepath.Join(prod.root, prod.target.Workdir(), prod.target.PlanFile())
	require.NoError(t, os.WriteFile(renamed, dev.readFile("reviewed.tfplan"), 0o644))

	devBefore, _ := dev.state()
	prodBefore, _ := prod.state()
	err = applyPlanFile(&prod, prod.target.PlanFile())
	var mismatch *PlanMismatchError
	require.ErrorAs(t, err, &mismatch)
	assert.Equal(t, "plan file was made for environment dev (state iceberg-lakehouse/dev/terraform.tfstate, s3) "+
		"but this call applies prod/aws (state iceberg-lakehouse/prod/terraform.tfstate): "+
		"plan prod again, or apply the file with --env dev", err.Error())
	devAfter, _ := dev.state()
	prodAfter, _ := prod.state()
	assert.Equal(t, devBefore, devAfter, "a refused plan file changed dev's state")
	assert.Equal(t, prodBefore, prodAfter, "a refused plan file changed prod's state")

	// Why the check is needed: terraform itself applies the file to the
	// state recorded inside it, whatever the directory was initialised
	// with. Unchecked, "prod's" apply changes dev and reports success.
	prod.init()
	prod.must(prod.target.Apply(prod.target.PlanFile()))
	devUnchecked, _ := dev.state()
	prodUnchecked, _ := prod.state()
	assert.NotEqual(t, devBefore, devUnchecked, "terraform applied the dev plan somewhere other than dev's state")
	assert.Equal(t, prodBefore, prodUnchecked)

	// The same file is accepted by the environment it was made for (and
	// Terraform then refuses it as stale, since it was already applied).
	b, err := ReadPlanBinding(dev.readFile("reviewed.tfplan"))
	require.NoError(t, err)
	assert.NoError(t, dev.target.CheckPlan(b))
}

func TestHostPlanFileFromAnotherWorkspaceOrLocalStateIsRefused(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	c := newCheckout(t, s3, "staging", nil)
	c.init()
	c.must([]string{"terraform", "workspace", "new", "-no-color", "feature"})
	require.True(t, c.planSaved("feature.tfplan"))
	err := applyPlanFile(c, "feature.tfplan")
	var mismatch *PlanMismatchError
	require.ErrorAs(t, err, &mismatch)
	assert.Equal(t, "feature", mismatch.Plan.Workspace)
	_, wrote := c.state()
	assert.False(t, wrote, "nothing may be written to staging's state")

	// The plan's JSON passed where the binary file belongs.
	c.must([]string{"terraform", "workspace", "select", "-no-color", "default"})
	require.NoError(t, os.WriteFile(filepath.Join(c.root, c.target.Workdir(), "feature.json"), c.showJSON("feature.tfplan"), 0o644))
	err = applyPlanFile(c, "feature.json")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNotPlanFile), "%v", err)
	_, wrote = c.state()
	assert.False(t, wrote)
}
