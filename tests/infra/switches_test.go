package infra

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// instances evaluates how many instances count/for_each create (1 without).
func instances(t *testing.T, m *module, r *resource, vars map[string]cty.Value) int {
	t.Helper()
	ctx := evalContext(m, vars)
	if a, ok := r.Body.Attributes["count"]; ok {
		v, d := a.Expr.Value(ctx)
		require.False(t, d.HasErrors(), "%s count: %s", r.addr(), d.Error())
		n, _ := v.AsBigFloat().Int64()
		return int(n)
	}
	if a, ok := r.Body.Attributes["for_each"]; ok {
		v, d := a.Expr.Value(ctx)
		require.False(t, d.HasErrors(), "%s for_each: %s", r.addr(), d.Error())
		return v.LengthInt()
	}
	return 1
}

// Each cloud-neutral switch creates its resources in both clouds only when on.
func TestFeatureSwitchesCreateResourcesOnlyWhenEnabled(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	files, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	cases := []struct {
		root, switchVar, typ, name string
		extra                      map[string]cty.Value
	}{
		{"aws", "enable_https", "aws_lb_listener", "catalog_https", nil},
		{"aws", "enable_https", "aws_vpc_security_group_ingress_rule", "catalog_alb_https", nil},
		{"aws", "enable_audit_logging", "aws_cloudtrail", "data_events", nil},
		{"aws", "enable_audit_logging", "aws_s3_bucket", "audit", nil},
		{"aws", "enable_access_logging", "aws_s3_bucket", "access_logs", nil},
		{"aws", "enable_access_logging", "aws_s3_bucket_logging", "lakehouse", nil},
		{"aws", "enable_alerting", "aws_sns_topic", "alerts", map[string]cty.Value{"aws_alarm_topic_arn": cty.StringVal("")}},
		{"aws", "enable_alerting", "aws_sns_topic_subscription", "alerts_email", map[string]cty.Value{"alert_email": cty.StringVal("ops@example.com")}},
		{"gcp", "enable_audit_logging", "google_project_iam_audit_config", "storage", nil},
		{"gcp", "enable_audit_logging", "google_logging_project_sink", "audit", nil},
		{"gcp", "enable_access_logging", "google_storage_bucket", "access_logs", nil},
		{"gcp", "enable_alerting", "google_monitoring_notification_channel", "email", map[string]cty.Value{"alert_email": cty.StringVal("ops@example.com")}},
		{"gcp", "gcp_enable_cmek", "google_kms_crypto_key", "lakehouse", nil},
		{"aws", "enable_dagster", "aws_ecs_service", "dagster", nil},
		{"aws", "enable_dagster", "aws_ecs_task_definition", "dagster_run", nil},
		{"aws", "enable_dagster", "aws_db_instance", "dagster", nil},
		{"aws", "enable_dagster", "aws_lb", "dagster", nil},
		{"aws", "enable_dagster", "aws_service_discovery_service", "dagster_code", nil},
		{"aws", "enable_dagster", "aws_iam_role_policy", "dagster_runtime", nil},
		{"gcp", "enable_dagster", "google_cloud_run_v2_service", "dagster_code", nil},
		{"gcp", "enable_dagster", "google_cloud_run_v2_service", "dagster_daemon", nil},
		{"gcp", "enable_dagster", "google_cloud_run_v2_service", "dagster_webserver", nil},
		{"gcp", "enable_dagster", "google_sql_database", "dagster", nil},
		{"gcp", "enable_dagster", "google_secret_manager_secret", "dagster_db_password", nil},
		{"gcp", "enable_dagster", "google_compute_router_nat", "main", nil},
	}
	for _, tc := range cases {
		t.Run(tc.root+"/"+tc.switchVar+"/"+tc.typ+"."+tc.name, func(t *testing.T) {
			m := mods[tc.root]
			r := findResource(t, m, tc.typ, tc.name)
			counts := map[bool]int{}
			for _, on := range []bool{false, true} {
				over := map[string]cty.Value{tc.switchVar: cty.BoolVal(on)}
				for k, v := range tc.extra {
					over[k] = v
				}
				counts[on] = instances(t, m, r, varValues(m, files[0], over))
			}
			assert.Zero(t, counts[false], "%s must not exist with %s = false", r.addr(), tc.switchVar)
			assert.Positive(t, counts[true], "%s must exist with %s = true", r.addr(), tc.switchVar)
		})
	}
}

// The gate task exists exactly when the release brings a gate image, with
// or without Dagster.
func TestGateTaskExistsOnlyWithAGateImage(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	files, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	for _, c := range []struct{ root, typ, name string }{
		{"aws", "aws_ecs_task_definition", "gate"},
		{"aws", "aws_iam_role", "gate"},
		{"aws", "aws_security_group", "gate"},
		{"gcp", "google_cloud_run_v2_job", "gate"},
		{"gcp", "google_service_account", "gate"},
	} {
		m := mods[c.root]
		r := findResource(t, m, c.typ, c.name)
		for _, dagster := range []bool{false, true} {
			none := varValues(m, files[0], map[string]cty.Value{"gate_image": cty.NullVal(cty.String), "enable_dagster": cty.BoolVal(dagster)})
			some := varValues(m, files[0], map[string]cty.Value{"gate_image": releaseInputs["gate_image"], "enable_dagster": cty.BoolVal(dagster)})
			assert.Zero(t, instances(t, m, r, none), "%s must not exist without gate_image", r.addr())
			assert.Equal(t, 1, instances(t, m, r, some), "%s must exist with gate_image (enable_dagster = %v)", r.addr(), dagster)
		}
	}
}
