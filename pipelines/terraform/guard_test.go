package terraform

import (
	"errors"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixturePolicy treats the fixture's terraform_data resources as protected
// stand-ins for a data bucket, so the rule runs on real terraform output.
var fixturePolicy = Policy{Protected: map[string]string{"terraform_data": "stands in for the data bucket"}}

func TestPlanRefusesDestroyOfProtectedResourceInRealPlan(t *testing.T) {
	s, err := Summarize(readPlan(t, "destroy-protected.json"))
	require.NoError(t, err)

	err = fixturePolicy.Check("dev/aws", s, nil)
	var refused *RefusedError
	require.ErrorAs(t, err, &refused)
	// The delete and the replace are refused; the in-place update is not.
	assert.Equal(t, []Refusal{
		{Change: Change{Address: "module.storage.terraform_data.data_bucket[0]", Type: "terraform_data", Name: "data_bucket", Action: Delete}, Reason: "stands in for the data bucket"},
		{Change: Change{Address: "terraform_data.slow", Type: "terraform_data", Name: "slow", Action: Replace}, Reason: "stands in for the data bucket"},
	}, refused.Refused)
	msg := err.Error()
	assert.Contains(t, msg, "plan dev/aws refused")
	assert.Contains(t, msg, "delete module.storage.terraform_data.data_bucket[0]")
	assert.Contains(t, msg, "replace terraform_data.slow")
	assert.Contains(t, msg, "--allow-destroy=module.storage.terraform_data.data_bucket[0] --allow-destroy=terraform_data.slow")

	// Allowing one address leaves the other refused; allowing both passes.
	err = fixturePolicy.Check("dev/aws", s, []string{"terraform_data.slow"})
	require.ErrorAs(t, err, &refused)
	assert.Len(t, refused.Refused, 1)
	assert.NoError(t, fixturePolicy.Check("dev/aws", s, []string{"terraform_data.slow", "module.storage.terraform_data.data_bucket[0]"}))

	// The default policy does not protect terraform_data.
	assert.NoError(t, DefaultPolicy().Check("dev/aws", s, nil))
}

func TestPlanWithOnlyCreatesIsNeverRefused(t *testing.T) {
	s, err := Summarize(readPlan(t, "create.json"))
	require.NoError(t, err)
	assert.NoError(t, fixturePolicy.Check("dev/aws", s, nil))
}

func TestDefaultPolicyProtectsDataKeysAndCatalog(t *testing.T) {
	tests := []struct {
		name    string
		change  *tfjson.ResourceChange
		refused bool
	}{
		{"destroy of the data bucket", rc("module.storage.aws_s3_bucket.lakehouse", "aws_s3_bucket", tfjson.ActionDelete), true},
		{"replace of the data bucket", rc("module.storage.aws_s3_bucket.lakehouse", "aws_s3_bucket", tfjson.ActionDelete, tfjson.ActionCreate), true},
		{"create-before-destroy of a gcs bucket", rc("google_storage_bucket.lakehouse", "google_storage_bucket", tfjson.ActionCreate, tfjson.ActionDelete), true},
		{"destroy of a kms key", rc("aws_kms_key.data", "aws_kms_key", tfjson.ActionDelete), true},
		{"destroy of a gcp crypto key", rc("google_kms_crypto_key.data", "google_kms_crypto_key", tfjson.ActionDelete), true},
		{"destroy of the glue catalog database", rc("aws_glue_catalog_database.lakehouse", "aws_glue_catalog_database", tfjson.ActionDelete), true},
		{"destroy of the nessie version store", rc("aws_dynamodb_table.nessie", "aws_dynamodb_table", tfjson.ActionDelete), true},
		{"destroy of a catalog database instance", rc("google_sql_database_instance.catalog", "google_sql_database_instance", tfjson.ActionDelete), true},
		{"update of the data bucket", rc("aws_s3_bucket.lakehouse", "aws_s3_bucket", tfjson.ActionUpdate), false},
		{"forget of the data bucket", rc("aws_s3_bucket.lakehouse", "aws_s3_bucket", tfjson.ActionForget), false},
		{"destroy of an iam role", rc("aws_iam_role.nessie", "aws_iam_role", tfjson.ActionDelete), false},
		{"replace of an ecs service", rc("aws_ecs_service.nessie", "aws_ecs_service", tfjson.ActionDelete, tfjson.ActionCreate), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Summarize(planJSON(t, tt.change))
			require.NoError(t, err)
			err = DefaultPolicy().Check("prod/aws", s, nil)
			if !tt.refused {
				assert.NoError(t, err)
				return
			}
			var refused *RefusedError
			require.True(t, errors.As(err, &refused), "want refusal, got %v", err)
			assert.Equal(t, tt.change.Address, refused.Refused[0].Address)
			assert.Contains(t, err.Error(), tt.change.Address)
			assert.NoError(t, DefaultPolicy().Check("prod/aws", s, []string{tt.change.Address}), "allow list must let it through")
		})
	}
}

func TestAllowListMatchesExactAddressesOnly(t *testing.T) {
	s, err := Summarize(planJSON(t,
		rc(`aws_s3_bucket.data["prod"]`, "aws_s3_bucket", tfjson.ActionDelete),
	))
	require.NoError(t, err)
	for _, allow := range [][]string{{"aws_s3_bucket.data"}, {"aws_s3_bucket.*"}, {`aws_s3_bucket.data["dev"]`}} {
		assert.Error(t, DefaultPolicy().Check("prod/aws", s, allow), "%v must not allow it", allow)
	}
	assert.NoError(t, DefaultPolicy().Check("prod/aws", s, []string{` aws_s3_bucket.data["prod"] `}))
}
