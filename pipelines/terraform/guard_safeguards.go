package terraform

import "strings"

// safeguards are the protection settings the guard keeps, by resource type:
// those the aws and gcp roots set, and their obvious equivalents (the
// inline forms of aws_s3_bucket, aws_alb, aws_rds_cluster, the older
// security group forms, Cloud SQL's API-side deletion protection).
// DefaultPolicy refuses weakening any of them (RefuseWeaken).
//
// Deliberately not safeguards: key rotation (aws_kms_key
// enable_key_rotation, google_kms_crypto_key rotation_period): rotation
// adds key material and keeps the old one, so turning it off leaves every
// object readable; it is a compliance setting, not data protection. Nor is
// the default encryption algorithm (SSE-KMS to SSE-S3 keeps data readable
// and private), nor logging and alerting settings.
var safeguards = func() map[string][]safeguard {
	const (
		versions = "overwritten and deleted objects stop being kept as recoverable versions"
		lockMode = "COMPLIANCE retention binds everyone; GOVERNANCE can be bypassed with s3:BypassGovernanceRetention; none retains nothing"
		lockDays = "new objects are retained against deletion for less time"
		denies   = "its deny statements (e.g. TLS only) stop refusing some requests they refuse today"
		keyOff   = "a disabled key cannot decrypt: everything it encrypts becomes unreadable"
		keyWait  = "a scheduled deletion of the key leaves less time to cancel it before the data it encrypts is lost for good"
		noDelete = "the database can then be deleted by one call or plan"
		backups  = "fewer or no backups are kept to restore it from"
		pitr     = "can no longer be restored to a point in time"
		final    = "deleting it would keep no final snapshot"
		autoBack = "deleting it would also delete its automated backups"
		internet = "admits the internet: the catalog and the Dagster webserver have no authentication of their own"
		public   = "grants everyone access"
		abandon  = "removing it from the configuration would delete it instead of leaving it in place"
	)
	lockRetention := []safeguard{
		{attr: "object_lock_enabled", weaker: levels(nil, map[string]float64{"Enabled": 1}), why: "objects can no longer be retained against deletion"},
		{attr: "rule.0.default_retention.0.mode", weaker: levels(nil, map[string]float64{"COMPLIANCE": 2, "GOVERNANCE": 1}), why: lockMode},
		{attr: "rule.0.default_retention.0", weaker: ranked(retentionDays), why: lockDays},
	}
	lb := []safeguard{
		{attr: "internal", weaker: on(true), why: "the load balancer gets public addresses: the catalog and the Dagster webserver have no authentication of their own"},
		{attr: "enable_deletion_protection", weaker: on(true), why: "the load balancer can then be deleted by one call"},
	}
	rds := []safeguard{
		{attr: "deletion_protection", weaker: on(true), why: noDelete},
		{attr: "backup_retention_period", weaker: period(nil), why: backups},
		{attr: "skip_final_snapshot", weaker: on(false), why: final},
		{attr: "delete_automated_backups", weaker: on(false), why: autoBack},
	}
	sql := "settings.0."
	backup := sql + "backup_configuration.0."
	ip := sql + "ip_configuration.0."
	g := map[string][]safeguard{
		// Bucket versioning, privacy, policy and retention.
		"aws_s3_bucket_versioning": {{attr: "versioning_configuration.0.status", weaker: levels(nil, map[string]float64{"Enabled": 1}), why: versions}},
		"aws_s3_bucket_public_access_block": {
			{attr: "block_public_acls", weaker: on(true), why: "new public ACLs are accepted"},
			{attr: "ignore_public_acls", weaker: on(true), why: "existing public ACLs take effect"},
			{attr: "block_public_policy", weaker: on(true), why: "a bucket policy granting public access is accepted"},
			{attr: "restrict_public_buckets", weaker: on(true), why: "a public bucket policy lets anyone in"},
		},
		"aws_s3_bucket_policy":                    {{attr: "policy", weaker: keepsDenies, why: denies}},
		"aws_s3_bucket_object_lock_configuration": lockRetention,
		"aws_s3_bucket": append([]safeguard{
			{attr: "versioning.0.enabled", weaker: on(true), why: versions},
			{attr: "object_lock_enabled", weaker: on(true), why: "objects can no longer be retained against deletion"},
			{attr: "policy", weaker: keepsDenies, why: denies},
		}, prefixed("object_lock_configuration.0.", lockRetention)...),
		"google_storage_bucket": {
			{attr: "versioning.0.enabled", weaker: on(true), why: "overwritten and deleted objects stop being kept as noncurrent versions"},
			{attr: "public_access_prevention", weaker: levels(nil, map[string]float64{"enforced": 1}), why: "objects can be made public"},
			{attr: "uniform_bucket_level_access", weaker: on(true), why: "per-object ACLs can grant access again, past the bucket's IAM"},
			{attr: "retention_policy.0.retention_period", weaker: period(nil), why: "objects can be deleted or overwritten sooner"},
			{attr: "soft_delete_policy.0.retention_duration_seconds", weaker: period(604800.0), why: "deleted objects stay recoverable for less time"},
		},
		"google_logging_project_bucket_config": {{attr: "retention_days", weaker: period(30.0), why: "audit logs are deleted sooner"}},

		// Encryption keys.
		"aws_kms_key": {
			{attr: "is_enabled", weaker: onUnlessNull(), why: keyOff},
			{attr: "deletion_window_in_days", weaker: period(30.0), why: keyWait},
		},
		"google_kms_crypto_key":         {{attr: "destroy_scheduled_duration", weaker: period("2592000s"), why: "a destroyed key version leaves less time to restore it before the data it encrypts is lost for good"}},
		"google_kms_crypto_key_version": {{attr: "state", weaker: levels("ENABLED", map[string]float64{"ENABLED": 1}), why: "a disabled or destroyed key version cannot decrypt what it encrypted"}},

		// Catalog stores, Dagster's storage and their backups.
		"aws_dynamodb_table": {
			{attr: "point_in_time_recovery.0.enabled", weaker: on(true), why: "the table " + pitr},
			{attr: "point_in_time_recovery.0.recovery_period_in_days", weaker: period(35.0), why: "the table can be restored less far back"},
			{attr: "deletion_protection_enabled", weaker: on(true), why: "the table can then be deleted by one call or plan"},
		},
		"aws_db_instance": append(rds[:len(rds):len(rds)],
			safeguard{attr: "publicly_accessible", weaker: levels(false, map[string]float64{"false": 1}), why: "the database gets a public address"}),
		"aws_rds_cluster": rds,
		"google_sql_database_instance": {
			{attr: "deletion_protection", weaker: on(true), why: noDelete + " (Terraform's check)"},
			{attr: sql + "deletion_protection_enabled", weaker: on(true), why: noDelete + " (Cloud SQL's own check)"},
			{attr: backup + "enabled", weaker: on(true), why: backups},
			{attr: backup + "point_in_time_recovery_enabled", weaker: on(true), why: "the database " + pitr},
			{attr: backup + "transaction_log_retention_days", weaker: period(nil), why: "the database can be restored less far back"},
			{attr: backup + "backup_retention_settings.0.retained_backups", weaker: period(nil), why: backups},
			{attr: ip + "ipv4_enabled", weaker: levels(true, map[string]float64{"false": 1}), why: "the database gets a public IP address"},
			{attr: ip + "ssl_mode", weaker: levels(nil, map[string]float64{"TRUSTED_CLIENT_CERTIFICATE_REQUIRED": 2, "ENCRYPTED_ONLY": 1}), why: "the database accepts connections without TLS"},
			{attr: ip + "authorized_networks", weaker: opens(eachFieldsOf("value"), openCIDR), why: internet},
		},
		"google_sql_database":                  {{attr: "deletion_policy", weaker: levels(nil, map[string]float64{"ABANDON": 1}), why: abandon}},
		"google_sql_user":                      {{attr: "deletion_policy", weaker: levels(nil, map[string]float64{"ABANDON": 1}), why: abandon}},
		"google_secret_manager_secret":         {{attr: "deletion_protection", weaker: on(true), why: "the secret, and every version of the password in it, can then be deleted"}},
		"google_secret_manager_secret_version": {{attr: "deletion_policy", weaker: levels(nil, map[string]float64{"ABANDON": 2, "DISABLE": 1}), why: abandon}},

		// The network in front of the catalog and Dagster.
		"aws_lb":                              lb,
		"aws_alb":                             lb,
		"aws_vpc_security_group_ingress_rule": {{show: "cidr_ipv4, cidr_ipv6", weaker: opens(fieldsOfAny("cidr_ipv4", "cidr_ipv6"), openCIDR), onCreate: true, why: internet}},
		"aws_security_group_rule":             {{show: "cidr_blocks, ipv6_cidr_blocks", weaker: opens(ingressSources, openCIDR), onCreate: true, why: internet}},
		"aws_security_group":                  {{attr: "ingress", weaker: opens(eachFieldsOf("cidr_blocks", "ipv6_cidr_blocks"), openCIDR), onCreate: true, why: internet}},
		"google_compute_firewall":             {{show: "source_ranges", weaker: opens(firewallSources, openCIDR), onCreate: true, why: internet}},
		"google_cloud_run_v2_service": {
			{attr: "ingress", weaker: levels(nil, map[string]float64{"INGRESS_TRAFFIC_INTERNAL_ONLY": 2, "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER": 1}), why: "the service takes traffic from outside the VPC; the catalog and the Dagster webserver have no authentication of their own"},
			{attr: "invoker_iam_disabled", weaker: levels(false, map[string]float64{"false": 1}), why: "anyone who reaches the service can call it, without roles/run.invoker"},
			{attr: "deletion_protection", weaker: onUnlessNull(), why: "the service can then be deleted by one plan"},
		},
		"google_cloud_run_v2_job": {{attr: "deletion_protection", weaker: onUnlessNull(), why: "the job can then be deleted by one plan"}},
	}
	// Public IAM members on what holds data, secrets or the services.
	for _, res := range []string{"cloud_run_v2_service", "cloud_run_service", "cloud_run_v2_job", "storage_bucket", "secret_manager_secret", "kms_crypto_key"} {
		for _, kind := range []string{"member", "binding", "policy"} {
			g["google_"+res+"_iam_"+kind] = []safeguard{{show: "members", weaker: opens(iamMembers, publicMember), onCreate: true, why: public}}
		}
	}
	return g
}()

// fieldsOfAny collects fields of the whole resource.
func fieldsOfAny(fields ...string) func(v any) ([]string, bool) {
	return func(v any) ([]string, bool) { return fieldsOf(v, fields...) }
}

// prefixed moves safeguards under a block (the inline form of a resource).
func prefixed(prefix string, l []safeguard) []safeguard {
	out := make([]safeguard, len(l))
	for i, s := range l {
		s.attr = strings.TrimSuffix(prefix+s.attr, ".")
		out[i] = s
	}
	return out
}

// retentionDays ranks an object lock default retention by its length in
// days (days, or years of 365 days).
func retentionDays(v any) (float64, bool) {
	m, _ := v.(map[string]any)
	days, ok1 := number(m["days"])
	years, ok2 := number(m["years"])
	return days + 365*years, ok1 && ok2
}
