package terraform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests read plan JSON that real terraform produced from
// testdata/repo (see TestHostPlanJSONTestdataIsCurrent).

func readPlan(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "plans", name))
	require.NoError(t, err)
	return b
}

func TestSummarizeRealPlans(t *testing.T) {
	tests := []struct {
		plan    string
		changes []Change
		outputs []string
		line    string
	}{
		{
			plan: "create.json",
			changes: []Change{
				{Address: "module.storage.terraform_data.data_bucket[0]", Type: "terraform_data", Name: "data_bucket", Action: Create},
				{Address: "terraform_data.credentials", Type: "terraform_data", Name: "credentials", Action: Create},
				{Address: "terraform_data.slow", Type: "terraform_data", Name: "slow", Action: Create},
			},
			outputs: []string{"api_token", "data_bucket", "environment"},
			line:    "3 to add, 0 to change, 0 to replace, 0 to destroy",
		},
		{
			plan: "no-changes.json",
			line: "0 to add, 0 to change, 0 to replace, 0 to destroy",
		},
		{
			plan: "destroy-protected.json",
			changes: []Change{
				{Address: "module.storage.terraform_data.data_bucket[0]", Type: "terraform_data", Name: "data_bucket", Action: Delete},
				{Address: "terraform_data.credentials", Type: "terraform_data", Name: "credentials", Action: Update},
				{Address: "terraform_data.slow", Type: "terraform_data", Name: "slow", Action: Replace},
			},
			outputs: []string{"api_token", "data_bucket"},
			line:    "0 to add, 1 to change, 1 to replace, 1 to destroy",
		},
	}
	for _, tt := range tests {
		t.Run(tt.plan, func(t *testing.T) {
			s, err := Summarize(readPlan(t, tt.plan))
			require.NoError(t, err)
			assert.Equal(t, tt.changes, s.Changes)
			assert.Equal(t, tt.outputs, s.OutputChanges)
			assert.Equal(t, tt.line, s.Line())
			assert.Equal(t, len(tt.changes) > 0 || len(tt.outputs) > 0, s.HasChanges())
		})
	}
}

func TestMarkdownNeverRendersSensitiveValues(t *testing.T) {
	for _, name := range fixturePlans {
		t.Run(name, func(t *testing.T) {
			raw := readPlan(t, name)
			// The canary is really in the plan (variables, planned values),
			// so this test would catch a renderer that prints values.
			require.Contains(t, string(raw), canary)
			s, err := Summarize(raw)
			require.NoError(t, err)
			md := s.Markdown()
			assert.NotContains(t, md, canary)
			assert.NotContains(t, md, "CANARY")
		})
	}
}

func TestMarkdownListsEveryChangedAddressWithItsAction(t *testing.T) {
	s, err := Summarize(readPlan(t, "destroy-protected.json"))
	require.NoError(t, err)
	md := s.Markdown()
	assert.Contains(t, md, "**Plan:** 0 to add, 1 to change, 1 to replace, 1 to destroy.")
	assert.Contains(t, md, "| - delete | `module.storage.terraform_data.data_bucket[0]` |")
	assert.Contains(t, md, "| ~ update | `terraform_data.credentials` |")
	assert.Contains(t, md, "| -/+ replace | `terraform_data.slow` |")
	assert.Contains(t, md, "Outputs changing: `api_token`, `data_bucket` (values not shown).")

	none, err := Summarize(readPlan(t, "no-changes.json"))
	require.NoError(t, err)
	assert.Equal(t, "**No changes.** Infrastructure matches the configuration.\n", none.Markdown())
}

func TestMarkdownEscapesAddressesThatWouldBreakTheTable(t *testing.T) {
	s := Summary{Changes: []Change{{Address: "aws_s3_bucket.b[\"a|b`c\"]", Type: "aws_s3_bucket", Action: Create}}}
	md := s.Markdown()
	assert.Contains(t, md, "`aws_s3_bucket.b[\"a\\|b'c\"]`")
	for _, line := range strings.Split(strings.TrimSpace(md), "\n") {
		if strings.HasPrefix(line, "| + ") {
			assert.Equal(t, 3, strings.Count(line, "|")-strings.Count(line, `\|`))
		}
	}
}

func TestSummarizeRejectsWhatIsNotAPlan(t *testing.T) {
	for _, in := range []string{"", "not json", `{"format_version":"9.0"}`} {
		_, err := Summarize([]byte(in))
		assert.Error(t, err, in)
	}
}

// planJSON builds a minimal plan in terraform's JSON format for resource
// types the fixture cannot create without a cloud provider.
func planJSON(t *testing.T, changes ...*tfjson.ResourceChange) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"format_version":   "1.2",
		"resource_changes": changes,
	})
	require.NoError(t, err)
	return b
}

func rc(addr, typ string, actions ...tfjson.Action) *tfjson.ResourceChange {
	name := addr[strings.LastIndex(addr, ".")+1:]
	return &tfjson.ResourceChange{Address: addr, Type: typ, Name: name, Mode: tfjson.ManagedResourceMode,
		Change: &tfjson.Change{Actions: tfjson.Actions(actions)}}
}

func TestSummarizeSkipsDataSourcesAndNoOps(t *testing.T) {
	read := rc("data.aws_caller_identity.me", "aws_caller_identity", tfjson.ActionRead)
	read.Mode = tfjson.DataResourceMode
	s, err := Summarize(planJSON(t,
		read,
		rc("aws_iam_role.r", "aws_iam_role", tfjson.ActionNoop),
		rc("aws_s3_bucket.old", "aws_s3_bucket", tfjson.ActionForget),
		rc("aws_s3_bucket.new", "aws_s3_bucket", tfjson.ActionCreate, tfjson.ActionDelete),
	))
	require.NoError(t, err)
	assert.Equal(t, []Change{
		{Address: "aws_s3_bucket.new", Type: "aws_s3_bucket", Name: "new", Action: Replace},
		{Address: "aws_s3_bucket.old", Type: "aws_s3_bucket", Name: "old", Action: Forget},
	}, s.Changes)
	assert.Equal(t, "0 to add, 0 to change, 1 to replace, 0 to destroy, 1 to forget", s.Line())
}

func TestSummaryJSONIsStableForReports(t *testing.T) {
	s := Summary{Changes: []Change{{Address: "aws_s3_bucket.b", Type: "aws_s3_bucket", Name: "b", Action: Delete}}, OutputChanges: []string{"bucket"}}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"changes":[{"address":"aws_s3_bucket.b","type":"aws_s3_bucket","name":"b","action":"delete"}],"output_changes":["bucket"]}`, string(b))
}

func TestMarkdownOfAHugePlanFitsInAPullRequestComment(t *testing.T) {
	var s Summary
	for i := range 5000 {
		s.Changes = append(s.Changes, Change{Address: fmt.Sprintf("module.tables.aws_glue_catalog_table.t[\"table_with_a_long_name_%04d\"]", i), Type: "aws_glue_catalog_table", Action: Create})
	}
	md := s.Markdown()
	assert.Less(t, len(md), 65536)
	assert.Contains(t, md, "**Plan:** 5000 to add")
	assert.Contains(t, md, "4700 more changes not listed")
}

func TestMarkdownFlagsChangesThatExpireDataWithoutShowingValues(t *testing.T) {
	s := summarize(t, readPlan(t, "aws-lifecycle.json"))
	md := s.Markdown()
	assert.Contains(t, md, "| ~ update, expires data | `aws_s3_bucket_lifecycle_configuration.lakehouse` |")
	assert.Contains(t, md, "| + create, expires data | `aws_s3_bucket_lifecycle_configuration.scratch` |")
	assert.Contains(t, md, "| ~ update | `aws_s3_bucket_lifecycle_configuration.audit` |")
	assert.NotContains(t, md, "730", "no lifecycle values in the summary")
}

// The flag is computed from before/after values; none of them may reach
// anything rendered from the Summary, its JSON or the guard's message.
func TestSummaryOfASecretChangeRendersNoValue(t *testing.T) {
	raw := readPlan(t, "aws-secrets.json")
	require.Contains(t, string(raw), canary, "the real plan carries the password, so this test can catch a leak")
	s := summarize(t, raw)
	js, err := json.Marshal(s)
	require.NoError(t, err)
	err = DefaultPolicy().Check("dev/aws", s, nil)
	require.Error(t, err)
	for _, rendered := range []string{s.Markdown(), string(js), err.Error()} {
		assert.NotContains(t, rendered, "CANARY")
	}
}
