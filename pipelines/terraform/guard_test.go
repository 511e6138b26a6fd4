package terraform

import (
	"bytes"
	"errors"
	"sort"
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

	err = fixturePolicy.Check("zzalpha/aws", s, nil)
	var refused *RefusedError
	require.ErrorAs(t, err, &refused)
	// The delete and the replace are refused; the in-place update is not.
	assert.Equal(t, []Refusal{
		{Change: Change{Address: "module.storage.terraform_data.data_bucket[0]", Type: "terraform_data", Name: "data_bucket", Action: Delete}, Reason: "stands in for the data bucket"},
		{Change: Change{Address: "terraform_data.slow", Type: "terraform_data", Name: "slow", Action: Replace}, Reason: "stands in for the data bucket"},
	}, refused.Refused)
	msg := err.Error()
	assert.Contains(t, msg, "plan zzalpha/aws refused")
	assert.Contains(t, msg, "delete module.storage.terraform_data.data_bucket[0]")
	assert.Contains(t, msg, "replace terraform_data.slow")
	assert.Contains(t, msg, "--allow-destroy=module.storage.terraform_data.data_bucket[0] --allow-destroy=terraform_data.slow")

	// Allowing one address leaves the other refused; allowing both passes.
	err = fixturePolicy.Check("zzalpha/aws", s, []string{"terraform_data.slow"})
	require.ErrorAs(t, err, &refused)
	assert.Len(t, refused.Refused, 1)
	assert.NoError(t, fixturePolicy.Check("zzalpha/aws", s, []string{"terraform_data.slow", "module.storage.terraform_data.data_bucket[0]"}))

	// The default policy does not protect terraform_data.
	assert.NoError(t, DefaultPolicy().Check("zzalpha/aws", s, nil))
}

func TestPlanWithOnlyCreatesIsNeverRefused(t *testing.T) {
	s, err := Summarize(readPlan(t, "create.json"))
	require.NoError(t, err)
	assert.NoError(t, fixturePolicy.Check("zzalpha/aws", s, nil))
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
			err = DefaultPolicy().Check("zzomega/aws", s, nil)
			if !tt.refused {
				assert.NoError(t, err)
				return
			}
			var refused *RefusedError
			require.True(t, errors.As(err, &refused), "want refusal, got %v", err)
			assert.Equal(t, tt.change.Address, refused.Refused[0].Address)
			assert.Contains(t, err.Error(), tt.change.Address)
			assert.NoError(t, DefaultPolicy().Check("zzomega/aws", s, []string{tt.change.Address}), "allow list must let it through")
		})
	}
}

func TestAllowListMatchesExactAddressesOnly(t *testing.T) {
	s, err := Summarize(planJSON(t,
		rc(`aws_s3_bucket.data["zzomega"]`, "aws_s3_bucket", tfjson.ActionDelete),
	))
	require.NoError(t, err)
	for _, allow := range [][]string{{"aws_s3_bucket.data"}, {"aws_s3_bucket.*"}, {`aws_s3_bucket.data["zzalpha"]`}} {
		assert.Error(t, DefaultPolicy().Check("zzomega/aws", s, allow), "%v must not allow it", allow)
	}
	assert.NoError(t, DefaultPolicy().Check("zzomega/aws", s, []string{` aws_s3_bucket.data["zzomega"] `}))
}

// refusedAddresses returns the addresses Check refused, nil when it passed.
func refusedAddresses(t *testing.T, p Policy, s Summary) map[string]Refusal {
	t.Helper()
	err := p.Check("zzalpha/aws", s, nil)
	if err == nil {
		return nil
	}
	var refused *RefusedError
	require.ErrorAs(t, err, &refused)
	out := map[string]Refusal{}
	for _, r := range refused.Refused {
		out[r.Address] = r
		assert.Contains(t, err.Error(), r.Reason, "the message must say why %s is refused", r.Address)
	}
	return out
}

func summarize(t *testing.T, planJSON []byte) Summary {
	t.Helper()
	s, err := Summarize(planJSON)
	require.NoError(t, err)
	return s
}

// addresses returns the addresses of s's changes.
func addresses(s Summary) []string {
	var out []string
	for _, c := range s.Changes {
		out = append(out, c.Address)
	}
	return out
}

// aws-delete.json: real plan deleting what keeps the bucket's data safe.
func TestPlanRefusesDeletingWhatKeepsBucketDataSafe(t *testing.T) {
	s := summarize(t, readPlan(t, "aws-delete.json"))
	refused := refusedAddresses(t, DefaultPolicy(), s)
	assert.ElementsMatch(t, []string{
		"aws_s3_bucket_versioning.lakehouse",
		"aws_s3_bucket_policy.lakehouse",
		"aws_s3_bucket_public_access_block.lakehouse",
		"aws_s3_bucket_server_side_encryption_configuration.lakehouse",
		"aws_s3_bucket_object_lock_configuration.lakehouse",
	}, keysOf(refused))
	for _, r := range refused {
		assert.Equal(t, Delete, r.Action)
	}
	assert.Contains(t, refused["aws_s3_bucket_versioning.lakehouse"].Reason, "deleting it suspends versioning")
	assert.NoError(t, DefaultPolicy().Check("zzalpha/aws", s, keysOf(refused)), "allowing every refused address lets the plan through")
}

// aws-secrets.json: real plan writing a new catalog database password, so
// the secret version is replaced.
func TestPlanRefusesReplacingTheCatalogPassword(t *testing.T) {
	raw := readPlan(t, "aws-secrets.json")
	refused := refusedAddresses(t, DefaultPolicy(), summarize(t, raw))
	assert.Equal(t, []string{"aws_secretsmanager_secret_version.catalog_db_password"}, keysOf(refused))
	assert.Equal(t, Replace, refused["aws_secretsmanager_secret_version.catalog_db_password"].Action)

	// The gcp root keeps the password in random_password and a Secret
	// Manager version, whose providers cannot be installed here: the same
	// real plan JSON with the replaced resource's TYPE REWRITTEN stands in.
	for _, typ := range []string{"random_password", "google_secret_manager_secret_version"} {
		t.Run(typ, func(t *testing.T) {
			rewritten := bytes.ReplaceAll(raw, []byte(`"aws_secretsmanager_secret_version"`), []byte(`"`+typ+`"`))
			rewritten = bytes.ReplaceAll(rewritten, []byte(`"aws_secretsmanager_secret_version.catalog_db_password"`), []byte(`"`+typ+`.catalog_db_password"`))
			refused := refusedAddresses(t, DefaultPolicy(), summarize(t, rewritten))
			assert.Equal(t, []string{typ + ".catalog_db_password"}, keysOf(refused))
			assert.Contains(t, refused[typ+".catalog_db_password"].Reason, "breaks the running catalog")
		})
	}
	// Same for a delete: aws-delete.json deletes an (unprotected) KMS alias.
	deleted := bytes.ReplaceAll(readPlan(t, "aws-delete.json"), []byte("aws_kms_alias"), []byte("random_password"))
	assert.Contains(t, keysOf(refusedAddresses(t, DefaultPolicy(), summarize(t, deleted))), "random_password.lakehouse")
}

// aws-lifecycle.json: real plan changing lifecycle rules of existing and
// new buckets (cases listed in testdata/guard/lifecycle/main.tf).
func TestPlanRefusesLifecycleRulesThatExpireDataSooner(t *testing.T) {
	s := summarize(t, readPlan(t, "aws-lifecycle.json"))
	refused := refusedAddresses(t, DefaultPolicy(), s)
	assert.ElementsMatch(t, []string{
		"aws_s3_bucket_lifecycle_configuration.lakehouse", // noncurrent versions kept 7 days instead of 30
		"aws_s3_bucket_lifecycle_configuration.staging",   // a new rule expiring tmp/
		"aws_s3_bucket_lifecycle_configuration.scratch",   // first expiring rules on a bucket that has data
	}, keysOf(refused))
	for _, r := range refused {
		assert.True(t, r.ExpiresData)
	}
	assert.Equal(t, Update, refused["aws_s3_bucket_lifecycle_configuration.lakehouse"].Action)
	assert.Equal(t, Create, refused["aws_s3_bucket_lifecycle_configuration.scratch"].Action)

	err := DefaultPolicy().Check("zzalpha/aws", s, nil)
	assert.Contains(t, err.Error(), "refused: 3 change(s) would make lifecycle rules expire data:")
	assert.Contains(t, err.Error(), "  - update aws_s3_bucket_lifecycle_configuration.lakehouse, expiring data (aws_s3_bucket_lifecycle_configuration rules delete objects for good")
	assert.Contains(t, err.Error(), "--allow-destroy=aws_s3_bucket_lifecycle_configuration.lakehouse")
	assert.NoError(t, DefaultPolicy().Check("zzalpha/aws", s, keysOf(refused)))
}

func TestHarmlessChangesToProtectedResourcesPass(t *testing.T) {
	harmless := map[string][]string{
		"aws-delete.json": {
			"aws_s3_bucket.lakehouse", // tag change
			"aws_kms_alias.lakehouse", // the key stays; nothing resolves it by alias
		},
		"aws-secrets.json": {"aws_secretsmanager_secret.catalog_db_password"}, // description
		"aws-lifecycle.json": {
			"aws_s3_bucket.audit",                         // tag change
			"aws_s3_bucket_lifecycle_configuration.audit", // expiration 400 -> 730 days, earlier transition
			"aws_s3_bucket.fresh",                         // new bucket …
			"aws_s3_bucket_lifecycle_configuration.fresh", // … created with its rules: no data to expire
		},
	}
	for plan, addrs := range harmless {
		s := summarize(t, readPlan(t, plan))
		refused := refusedAddresses(t, DefaultPolicy(), s)
		for _, a := range addrs {
			assert.Contains(t, addresses(s), a, "%s must change %s", plan, a)
			assert.NotContains(t, keysOf(refused), a, "%s: %s must pass the guard", plan, a)
		}
	}
}

func keysOf(m map[string]Refusal) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The policy table and the lifecycle readers must agree: a type refused on
// expiry needs a reader, and a reader without a rule protects nothing.
func TestEveryExpiryRuleHasAReaderAndBack(t *testing.T) {
	for typ, p := range DefaultPolicy().Rules {
		_, ok := expiryReaders[typ]
		assert.Equal(t, p.Refuse&RefuseExpiry != 0, ok, typ)
		assert.NotEmpty(t, p.Reason, typ)
	}
	for typ := range expiryReaders {
		p, ok := DefaultPolicy().Protection(typ)
		assert.True(t, ok && p.Refuse&RefuseExpiry != 0, typ)
	}
}
