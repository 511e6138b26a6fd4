package terraform

import (
	"encoding/json"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The aws cases of expiresData run on real plans (guard_test.go). The
// google provider cannot be installed here, so google_storage_bucket is
// tested on HAND-WRITTEN plan JSON in the shape `terraform show -json`
// gives that resource (lifecycle_rule blocks of action and condition, as in
// the provider's schema and gcp/storage.tf).

func gcsRule(action string, condition map[string]any) map[string]any {
	cond := map[string]any{
		"age": nil, "created_before": "", "custom_time_before": "", "days_since_custom_time": 0,
		"days_since_noncurrent_time": 0, "matches_prefix": []any{}, "matches_storage_class": []any{},
		"matches_suffix": []any{}, "noncurrent_time_before": "", "num_newer_versions": 0,
		"send_age_if_zero": true, "send_days_since_custom_time_if_zero": false,
		"send_days_since_noncurrent_time_if_zero": false, "send_num_newer_versions_if_zero": false,
		"with_state": "ANY",
	}
	for k, v := range condition {
		cond[k] = v
	}
	return map[string]any{
		"action":    []any{map[string]any{"type": action, "storage_class": ""}},
		"condition": []any{cond},
	}
}

func gcsBucket(rules ...map[string]any) map[string]any {
	list := make([]any, len(rules))
	for i, r := range rules {
		list[i] = r
	}
	return map[string]any{"name": "lakehouse-dev-lakehouse", "labels": map[string]any{}, "lifecycle_rule": list}
}

// jsonValue round-trips v through JSON so numbers are float64, as in a plan.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func TestGCSLifecycleRulesThatDeleteSoonerAreRefused(t *testing.T) {
	abort := gcsRule("AbortIncompleteMultipartUpload", map[string]any{"age": 7})
	noncurrent30 := gcsRule("Delete", map[string]any{"days_since_noncurrent_time": 30, "with_state": "ARCHIVED"})
	age := func(days int) map[string]any { return gcsRule("Delete", map[string]any{"age": days}) }
	tests := []struct {
		name          string
		actions       []tfjson.Action
		before, after map[string]any
		afterUnknown  map[string]any
		expires       bool
	}{
		{"a new Delete rule", []tfjson.Action{tfjson.ActionUpdate}, gcsBucket(abort), gcsBucket(abort, age(30)), nil, true},
		{"a shorter age", []tfjson.Action{tfjson.ActionUpdate}, gcsBucket(age(30)), gcsBucket(age(7)), nil, true},
		{"a longer age", []tfjson.Action{tfjson.ActionUpdate}, gcsBucket(age(30)), gcsBucket(age(90)), nil, false},
		{"fewer newer versions kept", []tfjson.Action{tfjson.ActionUpdate},
			gcsBucket(gcsRule("Delete", map[string]any{"num_newer_versions": 3})), gcsBucket(gcsRule("Delete", map[string]any{"num_newer_versions": 1})), nil, true},
		{"a wider scope", []tfjson.Action{tfjson.ActionUpdate},
			gcsBucket(gcsRule("Delete", map[string]any{"age": 7, "matches_prefix": []any{"tmp/"}})), gcsBucket(age(7)), nil, true},
		{"a later created_before", []tfjson.Action{tfjson.ActionUpdate},
			gcsBucket(gcsRule("Delete", map[string]any{"created_before": "2024-01-01"})), gcsBucket(gcsRule("Delete", map[string]any{"created_before": "2025-01-01"})), nil, true},
		{"an earlier created_before", []tfjson.Action{tfjson.ActionUpdate},
			gcsBucket(gcsRule("Delete", map[string]any{"created_before": "2025-01-01"})), gcsBucket(gcsRule("Delete", map[string]any{"created_before": "2024-01-01"})), nil, false},
		{"a storage class transition", []tfjson.Action{tfjson.ActionUpdate},
			gcsBucket(noncurrent30), gcsBucket(noncurrent30, gcsRule("SetStorageClass", map[string]any{"age": 30})), nil, false},
		{"a label change", []tfjson.Action{tfjson.ActionUpdate},
			gcsBucket(abort, noncurrent30), func() map[string]any {
				b := gcsBucket(abort, noncurrent30)
				b["labels"] = map[string]any{"team": "data"}
				return b
			}(), nil, false},
		{"rules known only after apply", []tfjson.Action{tfjson.ActionUpdate},
			gcsBucket(noncurrent30), map[string]any{"name": "lakehouse-dev-lakehouse"}, map[string]any{"lifecycle_rule": true}, true},
		{"a new bucket with Delete rules", []tfjson.Action{tfjson.ActionCreate}, nil, gcsBucket(abort, noncurrent30), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			change := rc("google_storage_bucket.lakehouse", "google_storage_bucket", tt.actions...)
			change.Change.Before = jsonValue(t, tt.before)
			change.Change.After = jsonValue(t, tt.after)
			change.Change.AfterUnknown = jsonValue(t, tt.afterUnknown)
			s := summarize(t, planJSON(t, change))
			require.Len(t, s.Changes, 1)
			assert.Equal(t, tt.expires, s.Changes[0].ExpiresData)
			err := DefaultPolicy().Check("prod/gcp", s, nil)
			if !tt.expires {
				assert.NoError(t, err)
				return
			}
			var refused *RefusedError
			require.ErrorAs(t, err, &refused)
			assert.Contains(t, err.Error(), "google_storage_bucket.lakehouse, expiring data (google_storage_bucket holds lakehouse data or audit logs; its lifecycle rules delete objects for good")
			assert.NoError(t, DefaultPolicy().Check("prod/gcp", s, []string{"google_storage_bucket.lakehouse"}))
		})
	}
}

// Cases the real aws plans do not cover, on the same value shape.
func TestAWSLifecycleRulesEnabledLaterOrUnknownAreRefused(t *testing.T) {
	rule := func(status string) map[string]any {
		return map[string]any{"id": "expire", "status": status, "prefix": "",
			"filter":                        []any{map[string]any{"prefix": "", "and": []any{}, "tag": []any{}}},
			"expiration":                    []any{map[string]any{"date": nil, "days": 30, "expired_object_delete_marker": false}},
			"noncurrent_version_expiration": []any{}}
	}
	config := func(rules ...any) map[string]any {
		return map[string]any{"bucket": "lakehouse-dev-lakehouse", "rule": rules}
	}
	tests := []struct {
		name          string
		before, after map[string]any
		afterUnknown  map[string]any
		expires       bool
	}{
		{"a disabled rule enabled", config(rule("Disabled")), config(rule("Enabled")), nil, true},
		{"an enabled rule disabled", config(rule("Enabled")), config(rule("Disabled")), nil, false},
		{"days known only after apply", config(rule("Enabled")), config(rule("Enabled")),
			map[string]any{"rule": []any{map[string]any{"expiration": []any{map[string]any{"days": true}}}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			change := rc("aws_s3_bucket_lifecycle_configuration.lakehouse", "aws_s3_bucket_lifecycle_configuration", tfjson.ActionUpdate)
			change.Change.Before = jsonValue(t, tt.before)
			change.Change.After = jsonValue(t, tt.after)
			change.Change.AfterUnknown = jsonValue(t, tt.afterUnknown)
			s := summarize(t, planJSON(t, change))
			assert.Equal(t, tt.expires, s.Changes[0].ExpiresData)
		})
	}
}
