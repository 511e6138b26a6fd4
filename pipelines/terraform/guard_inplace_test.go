package terraform

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The plans here are real `terraform show -json` output of the aws
// provider over a state made by a real apply to moto (the scenarios under
// testdata/guard; each main.tf lists its cases; host_guard_test.go
// regenerates and compares them).

// weakened checks plan with DefaultPolicy and returns, per refused
// address, its weakenings as "attribute: before -> after".
func weakened(t *testing.T, plan string) map[string][]string {
	t.Helper()
	err := DefaultPolicy().Check("zzfixture/aws", summarize(t, readPlan(t, plan)), nil)
	var refused *RefusedError
	if !errors.As(err, &refused) {
		require.NoError(t, err)
		return nil
	}
	out := map[string][]string{}
	for _, r := range refused.Refused {
		out[r.Address] = []string{}
		for _, w := range r.Weakens {
			out[r.Address] = append(out[r.Address], fmt.Sprintf("%s: %s -> %s", w.Attribute, w.Before, w.After))
			assert.Contains(t, err.Error(), w.String(), "the message must name the attribute, both values and why")
		}
	}
	return out
}

// only keeps the findings on attributes named in attrs (one class).
func only(found []string, attrs ...string) []string {
	var out []string
	for _, f := range found {
		if slices.ContainsFunc(attrs, func(a string) bool { return strings.HasPrefix(f, a+": ") }) {
			out = append(out, f)
		}
	}
	return out
}

func TestGuardRefusesSuspendingVersioning(t *testing.T) {
	w := weakened(t, "aws-weaken-storage.json")
	assert.Equal(t, []string{`versioning_configuration[0].status: "Enabled" -> "Suspended"`}, w[`aws_s3_bucket_versioning.this["lakehouse"]`])
	assert.NotContains(t, w, `aws_s3_bucket_versioning.this["scratch"]`, "Suspended -> Enabled strengthens")
}

func TestGuardRefusesLiftingThePublicAccessBlock(t *testing.T) {
	w := weakened(t, "aws-weaken-storage.json")
	assert.Equal(t, []string{"block_public_policy: true -> false"}, w[`aws_s3_bucket_public_access_block.this["lakehouse"]`])
	assert.Equal(t, []string{"ignore_public_acls: true -> false", "restrict_public_buckets: true -> false"}, w[`aws_s3_bucket_public_access_block.this["audit"]`])
	assert.NotContains(t, w, `aws_s3_bucket_public_access_block.this["scratch"]`)
}

func TestGuardRefusesRemovingOrNarrowingBucketPolicyDenies(t *testing.T) {
	w := weakened(t, "aws-weaken-storage.json")
	both := `policy: deny ["DenyInsecureTransport","DenyExplicitNonKmsEncryption"] -> `
	// The TLS-only statement removed.
	assert.Equal(t, []string{both + `deny ["DenyExplicitNonKmsEncryption"], no longer denying all that DenyInsecureTransport denied`},
		w[`aws_s3_bucket_policy.this["lakehouse"]`])
	// The TLS-only statement no longer covers objects; the encryption
	// statement's condition changed.
	assert.Equal(t, []string{both + `deny ["DenyInsecureTransport","DenyExplicitNonKmsEncryption"], no longer denying all that DenyInsecureTransport, DenyExplicitNonKmsEncryption denied`},
		w[`aws_s3_bucket_policy.this["audit"]`])
	// Renamed, reordered, widened and one more: still denies all it did.
	assert.NotContains(t, w, `aws_s3_bucket_policy.this["scratch"]`)
}

func TestGuardRefusesWeakerObjectLock(t *testing.T) {
	w := weakened(t, "aws-weaken-storage.json")
	assert.Equal(t, []string{
		`rule[0].default_retention[0].mode: "COMPLIANCE" -> "GOVERNANCE"`,
		`rule[0].default_retention[0]: {"days":30,"mode":"COMPLIANCE","years":0} -> {"days":7,"mode":"GOVERNANCE","years":0}`,
	}, w["aws_s3_bucket_object_lock_configuration.lakehouse"])
	assert.NotContains(t, w, "aws_s3_bucket_object_lock_configuration.audit", "1 year -> 400 days is longer")
}

func TestGuardRefusesDisablingAKeyOrShorteningItsDeletionWindow(t *testing.T) {
	w := weakened(t, "aws-weaken-keys.json")
	assert.Equal(t, map[string][]string{
		`aws_kms_key.this["lakehouse"]`: {"is_enabled: true -> false"},
		`aws_kms_key.this["logs"]`:      {"deletion_window_in_days: 30 -> 7"},
	}, w, `rotation off and a window left to AWS's default (aws_kms_key.this["audit"]) pass`)
}

func TestGuardRefusesReducingBackupsAndPointInTimeRecovery(t *testing.T) {
	w := weakened(t, "aws-weaken-stores.json")
	assert.Equal(t, []string{"point_in_time_recovery[0].enabled: true -> false"}, only(w[`aws_dynamodb_table.catalog["refs"]`], "point_in_time_recovery[0].enabled"))
	assert.Equal(t, []string{"point_in_time_recovery[0].recovery_period_in_days: 35 -> 7"}, w[`aws_dynamodb_table.catalog["objs"]`])
	assert.Equal(t, []string{
		"backup_retention_period: 7 -> 1",
		"skip_final_snapshot: false -> true",
		"delete_automated_backups: false -> true",
	}, only(w["aws_db_instance.dagster"], "backup_retention_period", "skip_final_snapshot", "delete_automated_backups"))
	assert.Empty(t, only(w["aws_rds_cluster.catalog"], "backup_retention_period"), "7 -> 14 days keeps more")
	assert.NotContains(t, w, `aws_dynamodb_table.catalog["meta"]`, "a tag change")
}

func TestGuardRefusesTurningOffDeletionProtection(t *testing.T) {
	w := weakened(t, "aws-weaken-stores.json")
	assert.Equal(t, []string{"deletion_protection: true -> false"}, only(w["aws_db_instance.dagster"], "deletion_protection"))
	assert.Equal(t, []string{"deletion_protection: true -> false"}, w["aws_rds_cluster.catalog"])
	assert.Equal(t, []string{"deletion_protection_enabled: true -> false"}, only(w[`aws_dynamodb_table.catalog["refs"]`], "deletion_protection_enabled"))
	n := weakened(t, "aws-open-network.json")
	assert.Equal(t, []string{"enable_deletion_protection: true -> false"}, n[`aws_lb.this["dagster"]`])
}

func TestGuardRefusesOpeningTheCatalogNetwork(t *testing.T) {
	w := weakened(t, "aws-open-network.json")
	assert.Equal(t, map[string][]string{
		`aws_vpc_security_group_ingress_rule.catalog_http["0.0.0.0/0"]`: {`cidr_ipv4, cidr_ipv6: none -> ["0.0.0.0/0"]`},
		"aws_vpc_security_group_ingress_rule.catalog_https":             {`cidr_ipv4, cidr_ipv6: ["10.0.0.0/8"] -> ["0.0.0.0/1"]`},
		"aws_security_group_rule.dagster_http":                          {`cidr_blocks, ipv6_cidr_blocks: ["10.0.0.0/8"] -> ["10.0.0.0/8","::/0"]`},
		"aws_security_group.legacy":                                     {`ingress: ["172.16.0.0/12"] -> ["0.0.0.0/0","172.16.0.0/12"]`},
		`aws_lb.this["catalog"]`:                                        {"internal: true -> false"},
		`aws_lb.this["dagster"]`:                                        {"enable_deletion_protection: true -> false"},
	}, w, "a private range, a security group source and an egress rule pass")
}

func TestGuardLetsAllowedWeakeningsThroughOneAddressAtATime(t *testing.T) {
	s := summarize(t, readPlan(t, "aws-weaken-keys.json"))
	err := DefaultPolicy().Check("zzfixture/aws", s, []string{`aws_kms_key.this["lakehouse"]`})
	var refused *RefusedError
	require.ErrorAs(t, err, &refused)
	assert.Len(t, refused.Refused, 1)
	assert.Equal(t, `aws_kms_key.this["logs"]`, refused.Refused[0].Address)
	assert.NoError(t, DefaultPolicy().Check("zzfixture/aws", s, []string{`aws_kms_key.this["lakehouse"]`, `aws_kms_key.this["logs"]`}))
}

func TestWeakeningRefusalSaysWhatWhyAndHowToAllow(t *testing.T) {
	err := DefaultPolicy().Check("zzfixture/aws", summarize(t, readPlan(t, "aws-weaken-keys.json")), nil)
	require.Error(t, err)
	assert.Equal(t, `plan zzfixture/aws refused: 2 change(s) would remove protection:
  - update aws_kms_key.this["lakehouse"], removing protection:
      is_enabled: true -> false (a disabled key cannot decrypt: everything it encrypts becomes unreadable)
  - update aws_kms_key.this["logs"], removing protection:
      deletion_window_in_days: 30 -> 7 (a scheduled deletion of the key leaves less time to cancel it before the data it encrypts is lost for good)
If this is intended, re-run allowing exactly these addresses for this run, e.g. --allow-destroy=aws_kms_key.this["lakehouse"] --allow-destroy=aws_kms_key.this["logs"] (the same consent covers a destroy, an expiry and removing protection); otherwise change the configuration so the plan keeps them (check lifecycle, renames: use a moved block).`, err.Error())

	// A replace of a type protected against it says both.
	msg := DefaultPolicy().Check("zzfixture/aws", summarize(t, readPlan(t, "aws-open-network.json")), nil).Error()
	assert.Contains(t, msg, "refused: 6 change(s) would remove protection:")
	assert.Contains(t, msg, "\n  - replace aws_lb.this[\"catalog\"], removing protection:\n      internal: true -> false (the load balancer gets public addresses")
}

func TestSummaryMarksChangesThatRemoveProtection(t *testing.T) {
	md := summarize(t, readPlan(t, "aws-weaken-keys.json")).Markdown()
	assert.Contains(t, md, "| ~ update, removes protection | `aws_kms_key.this[\"lakehouse\"]` |")
	assert.Contains(t, md, "| ~ update | `aws_kms_key.this[\"audit\"]` |")
}

// The policy table and the safeguards must agree: a type refused on
// weakening needs safeguards, and safeguards without the rule protect
// nothing.
func TestEveryWeakenRuleHasSafeguardsAndBack(t *testing.T) {
	for typ, p := range DefaultPolicy().Rules {
		assert.Equal(t, p.Refuse&RefuseWeaken != 0, len(safeguards[typ]) > 0, typ)
	}
	for typ, guards := range safeguards {
		for _, g := range guards {
			assert.NotEmpty(t, g.why, typ)
			assert.NotNil(t, g.weaker, typ)
		}
	}
}

// A policy that does not refuse weakening a type neither refuses nor lists
// its weakenings.
func TestWeakeningsOnlyCountWhereThePolicyRefusesThem(t *testing.T) {
	p := Policy{Rules: map[string]Protection{"aws_lb": {Refuse: RefuseReplace, Reason: "stands in for a protected load balancer"}}}
	err := p.Check("zzfixture/aws", summarize(t, readPlan(t, "aws-open-network.json")), nil)
	var refused *RefusedError
	require.ErrorAs(t, err, &refused)
	require.Len(t, refused.Refused, 1, "the in-place update of the other load balancer is not refused")
	assert.Equal(t, `aws_lb.this["catalog"]`, refused.Refused[0].Address)
	assert.Empty(t, refused.Refused[0].Weakens)
	assert.NotContains(t, err.Error(), "internal: true -> false")
}
