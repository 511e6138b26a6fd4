package terraform

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The roots tie their deletion protection, final snapshots and backups to
// var.deletion_protection: an environment file flipping it to false must
// meet the guard. Every attribute of the roots that reads the variable is
// a safeguard of its type.
func TestGuardKeepsEverySettingTheRootsTieToDeletionProtection(t *testing.T) {
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
				typ := res.Labels[0]
				attrs, _ := res.Body.JustAttributes()
				for name, a := range attrs {
					if !readsVar(a.Expr, "deletion_protection") {
						continue
					}
					found++
					p, _ := policy.Protection(typ)
					guarded := slices.ContainsFunc(safeguards[typ], func(g safeguard) bool { return g.attr == name })
					assert.True(t, guarded && p.Refuse&RefuseWeaken != 0,
						"%s:%d: %s.%s sets %s from var.deletion_protection, but the guard does not refuse weakening %s.%s (pipelines/terraform safeguards)",
						f, a.Range.Start.Line, typ, res.Labels[1], name, typ, name)
				}
			}
		}
	}
	t.Logf("%d settings tied to var.deletion_protection checked", found)
	if found == 0 {
		t.Skip("no Terraform roots using var.deletion_protection in this checkout yet")
	}
}

func readsVar(expr hcl.Expression, name string) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() != "var" || len(tr) < 2 {
			continue
		}
		if at, ok := tr[1].(hcl.TraverseAttr); ok && at.Name == name {
			return true
		}
	}
	return false
}
