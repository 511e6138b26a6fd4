package infra

import (
	"fmt"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Resources that turn on log delivery into one of the root's buckets, and
// the attribute naming the bucket. AWS checks, when delivery is turned on,
// that the log service may write there, which the bucket's policy grants:
// each must depend on that policy, or Terraform may turn delivery on before
// the policy exists (the emulator apply of aws/ failed on exactly that for
// the S3 server access logs).
var logDeliveries = map[string]string{
	"aws_s3_bucket_logging": "target_bucket",
	"aws_lb":                "bucket", // in access_logs
	"aws_cloudtrail":        "s3_bucket_name",
}

// checkLogDeliveryWaitsForBucketPolicy reports every log delivery into
// aws_s3_bucket.X that does not depend on aws_s3_bucket_policy.X.
func checkLogDeliveryWaitsForBucketPolicy(tree string) ([]problem, int, error) {
	mods, err := loadModules(tree)
	if err != nil {
		return nil, 0, err
	}
	var ps []problem
	checked := 0
	for _, r := range mods["aws"].Resources {
		attr, ok := logDeliveries[r.Type]
		if r.Kind != "resource" || !ok {
			continue
		}
		deps := map[string]bool{}
		if d, ok := r.Body.Attributes["depends_on"]; ok {
			for _, tr := range d.Expr.Variables() {
				deps[traversalAddr(tr)] = true
			}
		}
		for _, bucket := range bucketsNamedIn(r.Body, attr) {
			checked++
			policy := "aws_s3_bucket_policy." + bucket
			if !deps[policy] {
				ps = append(ps, problem{rel(tree, r.Range.Filename), r.Range.Start.Line,
					fmt.Sprintf("%s delivers logs to aws_s3_bucket.%s but does not depend on %s, which lets the log service write there: add depends_on = [%s]", r.addr(), bucket, policy, policy)})
			}
		}
	}
	return ps, checked, nil
}

// bucketsNamedIn lists the X of every aws_s3_bucket.X that attributes
// called attr refer to, in body and its nested (and dynamic) blocks.
func bucketsNamedIn(body *hclsyntax.Body, attr string) []string {
	var out []string
	if a, ok := body.Attributes[attr]; ok {
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() == "aws_s3_bucket" && len(tr) > 1 {
				if step, ok := tr[1].(hcl.TraverseAttr); ok {
					out = append(out, step.Name)
				}
			}
		}
	}
	for _, b := range body.Blocks {
		out = append(out, bucketsNamedIn(b.Body, attr)...)
	}
	return out
}

func traversalAddr(tr hcl.Traversal) string {
	if len(tr) < 2 {
		return tr.RootName()
	}
	if step, ok := tr[1].(hcl.TraverseAttr); ok {
		return tr.RootName() + "." + step.Name
	}
	return tr.RootName()
}

func TestLogDeliveryWaitsForTheTargetBucketsPolicy(t *testing.T) {
	ps, checked, err := checkLogDeliveryWaitsForBucketPolicy(repoRoot(t))
	require.NoError(t, err)
	assert.Empty(t, ps, problemsText(ps))
	assert.GreaterOrEqual(t, checked, 4, "S3 access logs, both load balancers' access logs and the trail")

	// Without the dependency the checker names the file and line.
	tree := tempTree(t, func(tree string) {
		edit(t, tree, "aws/storage.tf", "depends_on = [aws_s3_bucket_policy.access_logs]", "")
	})
	ps, _, err = checkLogDeliveryWaitsForBucketPolicy(tree)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, "aws/storage.tf", ps[0].File)
	assert.Contains(t, ps[0].Msg, "aws_s3_bucket_logging.lakehouse delivers logs to aws_s3_bucket.access_logs")
}
