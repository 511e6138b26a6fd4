package terraform

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// These tests read the repository's own environments and Terraform roots,
// so a change there that breaks the pipeline's assumptions fails here.

const repoRoot = "../.."

func TestRepositoryEnvironmentsAreValidTargetsOnEveryCloud(t *testing.T) {
	if _, err := os.Stat(filepath.Join(repoRoot, environment.Dir)); err != nil {
		t.Skip("no environments/ in this checkout yet")
	}
	cat, err := environment.Discover(os.DirFS(repoRoot))
	require.NoError(t, err)
	require.NotEmpty(t, cat.Names())
	for _, env := range cat.Envs() {
		for _, cloud := range Clouds() {
			tg, err := NewTarget(env, cloud)
			require.NoError(t, err)
			_, err = os.Stat(filepath.Join(repoRoot, tg.Workdir(), tg.Backend().File))
			assert.NoError(t, err, "%s: the partial backend file must be committed", tg)
			_, err = os.Stat(filepath.Join(repoRoot, tg.Workdir(), tg.VarFile()))
			assert.NoError(t, err, "%s: -var-file must resolve from the workdir", tg)
		}
	}
}

// Every resource the Terraform roots mark lifecycle.prevent_destroy is one
// the authors consider irreplaceable; the guard must protect its type too
// (prevent_destroy does not stop a replace caused by a renamed resource
// once the block is removed, and the guard is the second key).
func TestDefaultPolicyProtectsEveryPreventDestroyResourceOfTheRepository(t *testing.T) {
	policy := DefaultPolicy()
	found := 0
	for _, cloud := range Clouds() {
		files, _ := filepath.Glob(filepath.Join(repoRoot, string(cloud), "*.tf"))
		for _, f := range files {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			file, diags := hclparse.NewParser().ParseHCL(src, f)
			require.False(t, diags.HasErrors(), diags.Error())
			content, _, _ := file.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "resource", LabelNames: []string{"type", "name"}}}})
			for _, res := range content.Blocks {
				if !preventDestroy(res.Body) {
					continue
				}
				found++
				typ := res.Labels[0]
				p, ok := policy.Protection(typ)
				assert.True(t, ok && p.Refuse&RefuseDelete != 0, "%s:%d: %s.%s has prevent_destroy but DefaultPolicy does not refuse deleting %s", f, res.DefRange.Start.Line, typ, res.Labels[1], typ)
			}
		}
	}
	t.Logf("%d prevent_destroy resources checked", found)
	if found == 0 {
		t.Skip("no Terraform roots with prevent_destroy resources in this checkout yet")
	}
}

func preventDestroy(body hcl.Body) bool {
	content, _, _ := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "lifecycle"}}})
	for _, lc := range content.Blocks {
		attrs, _ := lc.Body.JustAttributes()
		if a, ok := attrs["prevent_destroy"]; ok {
			v, diags := a.Expr.Value(nil)
			if !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.Bool && v.True() {
				return true
			}
		}
	}
	return false
}
