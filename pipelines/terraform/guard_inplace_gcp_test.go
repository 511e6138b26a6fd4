package terraform

import (
	"fmt"
	"maps"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The google provider cannot be installed here, so the google_* classes are
// tested on HAND-WRITTEN plan JSON: resource_changes whose before, after and
// after_unknown have the shape `terraform show -json` gives these types
// (blocks as lists of objects, attribute names and types as in the
// provider's schema and gcp/*.tf), reduced to the attributes the guard
// reads plus a neighbour.

type gcpCase struct {
	name          string
	typ           string
	actions       []tfjson.Action
	before, after map[string]any
	afterUnknown  map[string]any
	// want lists the weakenings refused, "attribute: before -> after";
	// nil: the change passes.
	want []string
}

var (
	update  = []tfjson.Action{tfjson.ActionUpdate}
	create  = []tfjson.Action{tfjson.ActionCreate}
	replace = []tfjson.Action{tfjson.ActionDelete, tfjson.ActionCreate}
)

func runGCPCases(t *testing.T, cases []gcpCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.typ + ".zzfixture"
			change := rc(addr, tt.typ, tt.actions...)
			change.Change.Before = jsonValue(t, tt.before)
			change.Change.After = jsonValue(t, tt.after)
			change.Change.AfterUnknown = jsonValue(t, tt.afterUnknown)
			s := summarize(t, planJSON(t, change))
			require.Len(t, s.Changes, 1)
			var got []string
			for _, w := range s.Changes[0].Weakens {
				got = append(got, fmt.Sprintf("%s: %s -> %s", w.Attribute, w.Before, w.After))
			}
			assert.Equal(t, tt.want, got)
			err := DefaultPolicy().Check("zzfixture/gcp", s, nil)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "--allow-destroy="+addr)
			assert.NoError(t, DefaultPolicy().Check("zzfixture/gcp", s, []string{addr}))
		})
	}
}

// with returns a copy of m with the given keys set.
func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func list(m map[string]any) []any { return []any{m} }

// The lakehouse bucket as gcp/storage.tf makes it.
var gcsLakehouse = map[string]any{
	"name": "zzfixture-lakehouse", "labels": map[string]any{}, "force_destroy": false,
	"uniform_bucket_level_access": true, "public_access_prevention": "enforced",
	"versioning":         list(map[string]any{"enabled": true}),
	"retention_policy":   list(map[string]any{"is_locked": false, "retention_period": 86400}),
	"soft_delete_policy": list(map[string]any{"retention_duration_seconds": 604800, "effective_time": "2026-01-01T00:00:00Z"}),
}

func TestGCSBucketProtectionIsKept(t *testing.T) {
	runGCPCases(t, []gcpCase{
		{"versioning off", "google_storage_bucket", update, gcsLakehouse,
			with(gcsLakehouse, "versioning", list(map[string]any{"enabled": false})), nil,
			[]string{"versioning[0].enabled: true -> false"}},
		{"public access prevention inherited", "google_storage_bucket", update, gcsLakehouse,
			with(gcsLakehouse, "public_access_prevention", "inherited"), nil,
			[]string{`public_access_prevention: "enforced" -> "inherited"`}},
		{"uniform access off", "google_storage_bucket", update, gcsLakehouse,
			with(gcsLakehouse, "uniform_bucket_level_access", false), nil,
			[]string{"uniform_bucket_level_access: true -> false"}},
		{"retention policy removed", "google_storage_bucket", update, gcsLakehouse,
			with(gcsLakehouse, "retention_policy", []any{}), nil,
			[]string{"retention_policy[0].retention_period: 86400 -> none"}},
		{"soft delete off", "google_storage_bucket", update, gcsLakehouse,
			with(gcsLakehouse, "soft_delete_policy", list(map[string]any{"retention_duration_seconds": 0, "effective_time": ""})), nil,
			[]string{"soft_delete_policy[0].retention_duration_seconds: 604800 -> 0"}},
		{"versioning known only after apply", "google_storage_bucket", update, gcsLakehouse,
			with(gcsLakehouse, "versioning", nil), map[string]any{"versioning": true},
			[]string{"versioning[0].enabled: true -> (known after apply)"}},
		{"a longer retention and a label", "google_storage_bucket", update, gcsLakehouse,
			with(gcsLakehouse, "labels", map[string]any{"team": "zzfixture"}, "retention_policy", list(map[string]any{"is_locked": false, "retention_period": 172800})), nil,
			nil},
		{"a new bucket without protection", "google_storage_bucket", create, nil,
			with(gcsLakehouse, "versioning", list(map[string]any{"enabled": false}), "public_access_prevention", "inherited"), nil,
			nil},
		{"audit log retention shortened", "google_logging_project_bucket_config", update,
			map[string]any{"bucket_id": "zzfixture-audit", "retention_days": 365, "locked": false},
			map[string]any{"bucket_id": "zzfixture-audit", "retention_days": 30, "locked": false}, nil,
			[]string{"retention_days: 365 -> 30"}},
	})
}

func TestGCPKeysStayUsable(t *testing.T) {
	key := map[string]any{"name": "zzfixture-lakehouse", "rotation_period": "7776000s", "destroy_scheduled_duration": "2592000s", "purpose": "ENCRYPT_DECRYPT"}
	version := map[string]any{"crypto_key": "projects/zzfixture/locations/global/keyRings/zzfixture/cryptoKeys/zzfixture", "state": "ENABLED", "name": ""}
	runGCPCases(t, []gcpCase{
		{"destroy window shortened", "google_kms_crypto_key", replace, key,
			with(key, "destroy_scheduled_duration", "86400s"), nil,
			[]string{`destroy_scheduled_duration: "2592000s" -> "86400s"`}},
		{"rotation off (old versions still decrypt)", "google_kms_crypto_key", update, key,
			with(key, "rotation_period", nil), nil,
			nil},
		{"a version disabled", "google_kms_crypto_key_version", update, version,
			with(version, "state", "DISABLED"), nil,
			[]string{`state: "ENABLED" -> "DISABLED"`}},
	})
}

// The catalog's Cloud SQL instance as gcp/catalog_store.tf makes it.
func sqlInstance(deletionProtection bool, backup, ip map[string]any) map[string]any {
	b := map[string]any{"enabled": true, "point_in_time_recovery_enabled": true, "transaction_log_retention_days": 7,
		"start_time": "03:00", "location": "", "binary_log_enabled": false,
		"backup_retention_settings": list(map[string]any{"retained_backups": 7, "retention_unit": "COUNT"})}
	maps.Copy(b, backup)
	i := map[string]any{"ipv4_enabled": false, "private_network": "projects/zzfixture/global/networks/zzfixture",
		"ssl_mode": "ENCRYPTED_ONLY", "authorized_networks": []any{}}
	maps.Copy(i, ip)
	return map[string]any{"name": "zzfixture-nessie", "deletion_protection": deletionProtection,
		"settings": list(map[string]any{"tier": "db-f1-micro", "deletion_protection_enabled": false,
			"backup_configuration": list(b), "ip_configuration": list(i)})}
}

func TestCloudSQLBackupsAndRecoveryAreKept(t *testing.T) {
	now := sqlInstance(true, nil, nil)
	runGCPCases(t, []gcpCase{
		{"backups off", "google_sql_database_instance", update, now,
			sqlInstance(true, map[string]any{"enabled": false}, nil), nil,
			[]string{"settings[0].backup_configuration[0].enabled: true -> false"}},
		{"point-in-time recovery off", "google_sql_database_instance", update, now,
			sqlInstance(true, map[string]any{"point_in_time_recovery_enabled": false}, nil), nil,
			[]string{"settings[0].backup_configuration[0].point_in_time_recovery_enabled: true -> false"}},
		{"fewer logs and backups kept", "google_sql_database_instance", update, now,
			sqlInstance(true, map[string]any{"transaction_log_retention_days": 1, "backup_retention_settings": list(map[string]any{"retained_backups": 3, "retention_unit": "COUNT"})}, nil), nil,
			[]string{
				"settings[0].backup_configuration[0].transaction_log_retention_days: 7 -> 1",
				"settings[0].backup_configuration[0].backup_retention_settings[0].retained_backups: 7 -> 3",
			}},
		{"backups known only after apply", "google_sql_database_instance", update, now,
			sqlInstance(true, map[string]any{"enabled": nil}, nil),
			map[string]any{"settings": []any{map[string]any{"backup_configuration": []any{map[string]any{"enabled": true}}}}},
			[]string{"settings[0].backup_configuration[0].enabled: true -> (known after apply)"}},
		{"a larger tier", "google_sql_database_instance", update, now,
			func() map[string]any {
				v := sqlInstance(true, nil, nil)
				v["settings"].([]any)[0].(map[string]any)["tier"] = "db-custom-2-7680"
				return v
			}(), nil, nil},
	})
}

func TestGCPDeletionProtectionIsKept(t *testing.T) {
	secret := map[string]any{"secret_id": "zzfixture-nessie-db-password", "deletion_protection": true}
	run := map[string]any{"name": "zzfixture-nessie", "deletion_protection": true, "ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY", "invoker_iam_disabled": true}
	runGCPCases(t, []gcpCase{
		{"catalog database instance", "google_sql_database_instance", update, sqlInstance(true, nil, nil), sqlInstance(false, nil, nil), nil,
			[]string{"deletion_protection: true -> false"}},
		{"catalog database", "google_sql_database", update,
			map[string]any{"name": "nessie", "deletion_policy": "ABANDON"}, map[string]any{"name": "nessie", "deletion_policy": "DELETE"}, nil,
			[]string{`deletion_policy: "ABANDON" -> "DELETE"`}},
		{"catalog user", "google_sql_user", update,
			map[string]any{"name": "nessie", "deletion_policy": "ABANDON"}, map[string]any{"name": "nessie", "deletion_policy": nil}, nil,
			[]string{`deletion_policy: "ABANDON" -> none`}},
		{"password secret", "google_secret_manager_secret", update, secret, with(secret, "deletion_protection", false), nil,
			[]string{"deletion_protection: true -> false"}},
		{"password version", "google_secret_manager_secret_version", update,
			map[string]any{"deletion_policy": "ABANDON", "enabled": true}, map[string]any{"deletion_policy": "DISABLE", "enabled": true}, nil,
			[]string{`deletion_policy: "ABANDON" -> "DISABLE"`}},
		{"catalog service", "google_cloud_run_v2_service", update, run, with(run, "deletion_protection", false), nil,
			[]string{"deletion_protection: true -> false"}},
		{"protection turned on", "google_sql_database_instance", update, sqlInstance(false, nil, nil), sqlInstance(true, nil, nil), nil, nil},
	})
}

func TestGCPCatalogNetworkStaysClosed(t *testing.T) {
	run := map[string]any{"name": "zzfixture-nessie", "deletion_protection": true, "ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY", "invoker_iam_disabled": false}
	firewall := map[string]any{"name": "zzfixture-allow", "direction": "INGRESS", "disabled": false,
		"allow": list(map[string]any{"protocol": "tcp", "ports": []any{"443"}}), "deny": []any{}, "source_ranges": []any{"0.0.0.0/0"}}
	world := map[string]any{"name": "world", "value": "0.0.0.0/0", "expiration_time": ""}
	runGCPCases(t, []gcpCase{
		{"ingress from everywhere", "google_cloud_run_v2_service", update, run, with(run, "ingress", "INGRESS_TRAFFIC_ALL"), nil,
			[]string{`ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY" -> "INGRESS_TRAFFIC_ALL"`}},
		{"ingress through load balancers", "google_cloud_run_v2_service", update, run, with(run, "ingress", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"), nil,
			[]string{`ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY" -> "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"`}},
		{"invoker check off", "google_cloud_run_v2_service", update, run, with(run, "invoker_iam_disabled", true), nil,
			[]string{"invoker_iam_disabled: false -> true"}},
		{"ingress known only after apply", "google_cloud_run_v2_service", update, run, with(run, "ingress", nil), map[string]any{"ingress": true},
			[]string{`ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY" -> (known after apply)`}},
		{"allUsers invoker", "google_cloud_run_v2_service_iam_member", create, nil,
			map[string]any{"name": "zzfixture-webserver", "role": "roles/run.invoker", "member": "allUsers"}, nil,
			[]string{`members: none -> ["allUsers"]`}},
		{"a service account invoker", "google_cloud_run_v2_service_iam_member", create, nil,
			map[string]any{"name": "zzfixture-webserver", "role": "roles/run.invoker", "member": "serviceAccount:zz@zzfixture.iam.gserviceaccount.com"}, nil,
			nil},
		{"allAuthenticatedUsers added to a bucket binding", "google_storage_bucket_iam_binding", update,
			map[string]any{"bucket": "zzfixture-lakehouse", "role": "roles/storage.objectViewer", "members": []any{"group:zz@zzfixture.example"}},
			map[string]any{"bucket": "zzfixture-lakehouse", "role": "roles/storage.objectViewer", "members": []any{"allAuthenticatedUsers", "group:zz@zzfixture.example"}}, nil,
			[]string{`members: ["group:zz@zzfixture.example"] -> ["allAuthenticatedUsers","group:zz@zzfixture.example"]`}},
		{"allUsers in a secret's policy", "google_secret_manager_secret_iam_policy", create, nil,
			map[string]any{"secret_id": "zzfixture", "policy_data": `{"bindings":[{"role":"roles/secretmanager.secretAccessor","members":["allUsers"]}]}`}, nil,
			[]string{`members: none -> ["allUsers"]`}},
		{"a firewall from anywhere", "google_compute_firewall", create, nil, firewall, nil,
			[]string{`source_ranges: none -> ["0.0.0.0/0"]`}},
		{"an egress firewall", "google_compute_firewall", create, nil, with(firewall, "direction", "EGRESS"), nil, nil},
		{"a disabled firewall", "google_compute_firewall", create, nil, with(firewall, "disabled", true), nil, nil},
		{"a firewall from a private range", "google_compute_firewall", create, nil, with(firewall, "source_ranges", []any{"10.8.0.0/16"}), nil, nil},
		{"a public IP on the catalog database", "google_sql_database_instance", update, sqlInstance(true, nil, nil),
			sqlInstance(true, nil, map[string]any{"ipv4_enabled": true, "authorized_networks": []any{world}}), nil,
			[]string{
				"settings[0].ip_configuration[0].ipv4_enabled: false -> true",
				`settings[0].ip_configuration[0].authorized_networks: none -> ["0.0.0.0/0"]`,
			}},
		{"connections without TLS", "google_sql_database_instance", update, sqlInstance(true, nil, nil),
			sqlInstance(true, nil, map[string]any{"ssl_mode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}), nil,
			[]string{`settings[0].ip_configuration[0].ssl_mode: "ENCRYPTED_ONLY" -> "ALLOW_UNENCRYPTED_AND_ENCRYPTED"`}},
	})
}
