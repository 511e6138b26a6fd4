package infra

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// costTable is the operations guide's "Cost & Resource Comparison" table as
// variables: dev and prod values are fixed; staging must sit between them
// (numbers within [dev, prod], booleans equal to one of the two).
var costTable = []struct {
	setting   string
	key       string
	dev, prod cty.Value
	staging   cty.Value // the staging value this repository chose
}{
	{"Nessie CPU", "catalog_cpu_units", cty.NumberIntVal(256), cty.NumberIntVal(1024), cty.NumberIntVal(512)},
	{"Nessie memory MiB", "catalog_memory_mib", cty.NumberIntVal(512), cty.NumberIntVal(2048), cty.NumberIntVal(1024)},
	{"Nessie min tasks", "catalog_min_instances", cty.NumberIntVal(1), cty.NumberIntVal(2), cty.NumberIntVal(1)},
	{"HTTPS", "enable_https", cty.False, cty.True, cty.True},
	{"CloudTrail / data-access audit", "enable_audit_logging", cty.False, cty.True, cty.False},
	{"Log retention days", "log_retention_days", cty.NumberIntVal(30), cty.NumberIntVal(365), cty.NumberIntVal(90)},
	{"Access logging", "enable_access_logging", cty.False, cty.True, cty.False},
	{"Alerting", "enable_alerting", cty.False, cty.True, cty.True},
	{"Deletion protection (prod's storage protected)", "deletion_protection", cty.False, cty.True, cty.True},
	{"Dagster access level", "dagster_access_level", cty.StringVal("admin"), cty.StringVal("reader"), cty.StringVal("reader")},
	// "Docker resources: Default (2 CPU / 2 GB) | 4 CPU / 4 GB webserver".
	{"Dagster runs", "enable_dagster", cty.True, cty.True, cty.True},
	{"Dagster webserver CPU", "dagster_webserver_cpu_units", cty.NumberIntVal(2048), cty.NumberIntVal(4096), cty.NumberIntVal(2048)},
	{"Dagster webserver memory MiB", "dagster_webserver_memory_mib", cty.NumberIntVal(2048), cty.NumberIntVal(4096), cty.NumberIntVal(2048)},
	{"Dagster daemon CPU", "dagster_daemon_cpu_units", cty.NumberIntVal(2048), cty.NumberIntVal(2048), cty.NumberIntVal(2048)},
	{"Dagster daemon memory MiB", "dagster_daemon_memory_mib", cty.NumberIntVal(2048), cty.NumberIntVal(2048), cty.NumberIntVal(2048)},
	{"Dagster code server CPU", "dagster_code_server_cpu_units", cty.NumberIntVal(2048), cty.NumberIntVal(2048), cty.NumberIntVal(2048)},
	{"Dagster code server memory MiB", "dagster_code_server_memory_mib", cty.NumberIntVal(2048), cty.NumberIntVal(2048), cty.NumberIntVal(2048)},
	{"Dagster run CPU", "dagster_run_cpu_units", cty.NumberIntVal(2048), cty.NumberIntVal(2048), cty.NumberIntVal(2048)},
	{"Dagster run memory MiB", "dagster_run_memory_mib", cty.NumberIntVal(2048), cty.NumberIntVal(2048), cty.NumberIntVal(2048)},
}

func envFiles(t *testing.T) map[string]*tfvarsFile {
	t.Helper()
	files, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	out := map[string]*tfvarsFile{}
	for _, f := range files {
		out[f.Env] = f
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		require.Contains(t, out, env, "environments/%s.tfvars is missing", env)
	}
	return out
}

func TestEnvironmentsFollowTheCostAndResourceTable(t *testing.T) {
	files := envFiles(t)
	for _, row := range costTable {
		t.Run(row.setting, func(t *testing.T) {
			get := func(env string) cty.Value {
				v, ok := files[env].value(row.key)
				require.True(t, ok, "environments/%s.tfvars must set %s", env, row.key)
				return v
			}
			dev, staging, prod := get("dev"), get("staging"), get("prod")
			assert.True(t, dev.RawEquals(row.dev), "dev %s = %#v, table says %#v", row.key, dev, row.dev)
			assert.True(t, prod.RawEquals(row.prod), "prod %s = %#v, table says %#v", row.key, prod, row.prod)
			assert.True(t, staging.RawEquals(row.staging), "staging %s = %#v, want %#v", row.key, staging, row.staging)
			switch dev.Type() {
			case cty.Number:
				lo, hi := dev.AsBigFloat(), prod.AsBigFloat()
				s := staging.AsBigFloat()
				assert.True(t, s.Cmp(lo) >= 0 && s.Cmp(hi) <= 0, "staging %s must be between dev and prod", row.key)
			case cty.Bool:
				assert.True(t, staging.RawEquals(dev) || staging.RawEquals(prod), "staging %s must equal dev or prod", row.key)
			}
		})
	}
	// Every file names the project.
	for env, f := range files {
		_, ok := f.value("project_name")
		assert.True(t, ok, "environments/%s.tfvars must set project_name", env)
	}
}

func TestTfvarsHoldNoSecrets(t *testing.T) {
	secretish := regexp.MustCompile(`(?i)(password|secret|token|private_key|access_key)`)
	for env, f := range envFiles(t) {
		for key := range f.Attrs {
			assert.False(t, secretish.MatchString(key), "environments/%s.tfvars:%d sets %q: secrets are named in code, never stored in tfvars", env, f.line(key), key)
		}
	}
}

func readBackend(t *testing.T, root string) map[string]cty.Value {
	t.Helper()
	body, err := parseHCLFile(filepath.Join(repoRoot(t), root, "backend.tfbackend"))
	require.NoError(t, err)
	out := map[string]cty.Value{}
	for k, a := range body.Attributes {
		v, d := a.Expr.Value(nil)
		require.False(t, d.HasErrors(), "%s/backend.tfbackend: %s", root, k)
		out[k] = v
	}
	return out
}

func TestBackendsArePartialAndLockingLivesInTfbackend(t *testing.T) {
	awsCfg := readBackend(t, "aws")
	assert.ElementsMatch(t, []string{"bucket", "region", "use_lockfile", "encrypt"}, sortedKeys(awsCfg), "aws/backend.tfbackend keys")
	assert.True(t, awsCfg["use_lockfile"].RawEquals(cty.True), "S3 native locking")
	assert.True(t, awsCfg["encrypt"].RawEquals(cty.True))
	gcpCfg := readBackend(t, "gcp")
	assert.Equal(t, []string{"bucket"}, sortedKeys(gcpCfg), "gcp/backend.tfbackend holds the bucket only (prefix comes from the pipeline)")

	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	for root, kind := range map[string]string{"aws": "s3", "gcp": "gcs"} {
		var found *hclsyntax.Block
		for _, tb := range mods[root].Terraform {
			for _, b := range tb.Blocks {
				if b.Type == "backend" {
					found = b
				}
			}
		}
		require.NotNil(t, found, "%s has no backend block", root)
		assert.Equal(t, []string{kind}, found.Labels, "%s backend type", root)
		assert.Empty(t, found.Body.Attributes, "%s backend must be partial: bucket/key/prefix come from backend.tfbackend and the pipeline", root)
	}
}

func TestProvidersAndTerraformVersionArePinned(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	for _, root := range cloudRoots {
		var requiredVersion string
		providers := 0
		for _, tb := range mods[root].Terraform {
			if a, ok := tb.Attributes["required_version"]; ok {
				v, _ := a.Expr.Value(nil)
				requiredVersion = v.AsString()
			}
			for _, b := range tb.Blocks {
				if b.Type != "required_providers" {
					continue
				}
				for name, a := range b.Body.Attributes {
					providers++
					v, d := a.Expr.Value(nil)
					require.False(t, d.HasErrors())
					ver := v.GetAttr("version")
					assert.True(t, ver.IsKnown() && !ver.IsNull() && ver.AsString() != "", "%s: provider %s has no version constraint", root, name)
					assert.True(t, v.GetAttr("source").AsString() != "", "%s: provider %s has no source", root, name)
				}
			}
		}
		assert.Equal(t, ">= 1.10", requiredVersion, "%s: S3 native locking needs Terraform >= 1.10", root)
		assert.Positive(t, providers, "%s declares no required_providers", root)
	}
}

func TestBothRootsShareTheVariableContractAndOutputNames(t *testing.T) {
	root := repoRoot(t)
	mods, err := loadModules(root)
	require.NoError(t, err)
	assert.Equal(t, sortedKeys(mods["aws"].Variables), sortedKeys(mods["gcp"].Variables))
	assert.Equal(t, sortedKeys(mods["aws"].Outputs), sortedKeys(mods["gcp"].Outputs), "outputs must have the same shape in both roots")
	for _, name := range []string{"bucket_name", "catalog_uri", "region", "writer_identity", "reader_identity", "admin_identity", "warehouse_uri", "environment"} {
		assert.Contains(t, mods["aws"].Outputs, name)
	}
	// The shared variables.tf must not drift between the roots.
	a, errA := filepath.Abs(filepath.Join(root, "aws", "variables.tf"))
	g, errG := filepath.Abs(filepath.Join(root, "gcp", "variables.tf"))
	require.NoError(t, errA)
	require.NoError(t, errG)
	assert.Equal(t, readFile(t, a), readFile(t, g), "aws/variables.tf and gcp/variables.tf must be identical (shared contract)")
}

// followLocal returns the expression of local.NAME when expr is exactly a
// reference to it, else expr.
func followLocal(m *module, expr hcl.Expression) hcl.Expression {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || st.Traversal.RootName() != "local" || len(st.Traversal) != 2 {
		return expr
	}
	at, ok := st.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		return expr
	}
	if a, ok := m.Locals[at.Name]; ok {
		return a.Expr
	}
	return expr
}

// The catalog URI output is what pyiceberg (ICEBERG_CATALOG_URI) takes as it
// is: Nessie's Iceberg REST path on its default branch, .../iceberg/main.
// The deployed Dagster and the gate use the same value.
func TestCatalogURIEndsWithIcebergPathOnTheDefaultBranch(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	for _, root := range cloudRoots {
		m := mods[root]
		out, ok := m.Outputs["catalog_uri"]
		require.True(t, ok, "%s has no catalog_uri output", root)
		tmpl, ok := followLocal(m, out.Attributes["value"].Expr).(*hclsyntax.TemplateExpr)
		require.True(t, ok, "%s catalog_uri must be a string template (or a local holding one)", root)
		last := tmpl.Parts[len(tmpl.Parts)-1]
		lit, ok := last.(*hclsyntax.LiteralValueExpr)
		require.True(t, ok, "%s catalog_uri must end with a literal path", root)
		assert.Equal(t, "/iceberg/main", lit.Val.AsString(), "%s catalog_uri must end with the Iceberg REST path on Nessie's default branch (/iceberg/main), not /iceberg or /api/v2", root)
		assert.Equal(t, "main", catalogProperties(t, m)["nessie.server.default-branch"], "%s: the branch catalog_uri names must be Nessie's default branch", root)

		env, ok := m.Locals["dagster_env"].Expr.(*hclsyntax.ObjectConsExpr)
		require.True(t, ok, "%s: local.dagster_env must be a literal map", root)
		found := false
		for _, item := range env.Items {
			k, _ := item.KeyExpr.Value(nil)
			if k.AsString() == "ICEBERG_CATALOG_URI" {
				found = true
				assert.Equal(t, "local.catalog_uri", exprSource(t, item.ValueExpr), "%s: Dagster must use the catalog_uri output's value", root)
			}
		}
		assert.True(t, found, "%s: dagster_env must set ICEBERG_CATALOG_URI", root)
	}
}

// documentedCatalogProperties are the Nessie/Quarkus property names the
// pinned Nessie release documents (projectnessie.org configuration pages and
// generated smallrye-* docs; DYNAMODB2/JDBC2 from the version-store pages).
var documentedCatalogProperties = map[string]bool{
	"nessie.version.store.type":                             true,
	"nessie.version.store.persist.dynamodb.table-prefix":    true,
	"nessie.version.store.persist.jdbc.datasource":          true,
	"quarkus.datasource.postgresql.jdbc.url":                true,
	"quarkus.datasource.postgresql.username":                true,
	"quarkus.dynamodb.aws.region":                           true,
	"quarkus.dynamodb.aws.credentials.type":                 true,
	"nessie.catalog.default-warehouse":                      true,
	"nessie.catalog.warehouses.warehouse.location":          true,
	"nessie.catalog.service.s3.default-options.region":      true,
	"nessie.catalog.service.s3.default-options.auth-type":   true,
	"nessie.catalog.service.gcs.default-options.auth-type":  true,
	"nessie.catalog.service.gcs.default-options.project-id": true,
	"nessie.server.default-branch":                          true,
	"quarkus.management.enabled":                            true,
}

func catalogProperties(t *testing.T, m *module) map[string]string {
	t.Helper()
	a, ok := m.Locals["catalog_properties"]
	require.True(t, ok, "%s: local.catalog_properties not found", m.Dir)
	obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
	require.True(t, ok, "%s: catalog_properties must be a literal map", m.Dir)
	out := map[string]string{}
	for _, item := range obj.Items {
		k, d := item.KeyExpr.Value(nil)
		require.False(t, d.HasErrors(), "%s: catalog_properties keys must be literal", m.Dir)
		v, d := item.ValueExpr.Value(nil)
		if !d.HasErrors() && v.Type() == cty.String {
			out[k.AsString()] = v.AsString()
		} else {
			out[k.AsString()] = "<computed>"
		}
	}
	return out
}

func TestNessieVersionStoreUsesDocumentedPropertyNames(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	cases := []struct {
		root      string
		storeType string
		needs     []string
	}{
		{"aws", "DYNAMODB2", []string{"nessie.version.store.persist.dynamodb.table-prefix", "quarkus.dynamodb.aws.region"}},
		{"gcp", "JDBC2", []string{"nessie.version.store.persist.jdbc.datasource", "quarkus.datasource.postgresql.jdbc.url", "quarkus.datasource.postgresql.username"}},
	}
	for _, tc := range cases {
		props := catalogProperties(t, mods[tc.root])
		for k := range props {
			assert.True(t, documentedCatalogProperties[k], "%s: %q is not a documented Nessie/Quarkus property", tc.root, k)
		}
		assert.Equal(t, tc.storeType, props["nessie.version.store.type"], "%s version store type", tc.root)
		for _, k := range tc.needs {
			assert.Contains(t, props, k, "%s: %s store needs %s", tc.root, tc.storeType, k)
		}
		assert.NotEqual(t, "IN_MEMORY", props["nessie.version.store.type"])
	}
	// DYNAMODB2 reads "<prefix>_refs" and "<prefix>_objs" keyed by "k".
	var tables []string
	for _, r := range mods["aws"].Resources {
		if r.Type != "aws_dynamodb_table" {
			continue
		}
		tables = append(tables, r.Name)
		hk, _ := r.Body.Attributes["hash_key"].Expr.Value(nil)
		assert.Equal(t, "k", hk.AsString(), "%s hash key", r.addr())
		assert.NotContains(t, r.Body.Attributes, "range_key", "%s must have a hash key only", r.addr())
		src := exprSource(t, r.Body.Attributes["name"].Expr)
		assert.Regexp(t, `^"\$\{local\.catalog_table_prefix\}_(refs|objs)"$`, src, "%s name", r.addr())
	}
	assert.ElementsMatch(t, []string{"catalog_refs", "catalog_objs"}, tables)
}

func TestCatalogHealthCheckUsesManagementEndpoint(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	m := mods["aws"]
	ctx := evalContext(m, varValues(m, nil, map[string]cty.Value{"project_name": cty.StringVal("lh"), "environment": cty.StringVal("dev")}))
	tg := findResource(t, m, "aws_lb_target_group", "catalog")
	var hc *hclsyntax.Body
	for _, b := range tg.Body.Blocks {
		if b.Type == "health_check" {
			hc = b.Body
		}
	}
	require.NotNil(t, hc, "target group needs a health_check")
	port, d := hc.Attributes["port"].Expr.Value(ctx)
	require.False(t, d.HasErrors(), d.Error())
	path, d := hc.Attributes["path"].Expr.Value(ctx)
	require.False(t, d.HasErrors(), d.Error())
	assert.Equal(t, "9000", port.AsString(), "ALB health check must hit Nessie's management port")
	assert.True(t, strings.HasPrefix(path.AsString(), "/q/health"), "health path %q", path.AsString())
	apiPort, d := tg.Body.Attributes["port"].Expr.Value(ctx)
	require.False(t, d.HasErrors())
	assert.True(t, apiPort.RawEquals(cty.NumberIntVal(19120)), "traffic goes to the API port 19120")
}

func TestHTTPSListenerAndRedirectFollowEnableHTTPS(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	m := mods["aws"]
	https := findResource(t, m, "aws_lb_listener", "catalog_https")
	http := findResource(t, m, "aws_lb_listener", "catalog_http")
	for _, on := range []bool{false, true} {
		vars := varValues(m, nil, map[string]cty.Value{"enable_https": cty.BoolVal(on), "project_name": cty.StringVal("lh"), "environment": cty.StringVal("dev")})
		ctx := evalContext(m, vars)
		count, d := https.Body.Attributes["count"].Expr.Value(ctx)
		require.False(t, d.HasErrors(), d.Error())
		want := int64(0)
		if on {
			want = 1
		}
		assert.True(t, count.RawEquals(cty.NumberIntVal(want)), "enable_https=%v: HTTPS listener count", on)
		var action *hclsyntax.Body
		for _, b := range http.Body.Blocks {
			if b.Type == "default_action" {
				action = b.Body
			}
		}
		require.NotNil(t, action)
		typ, d := action.Attributes["type"].Expr.Value(ctx)
		require.False(t, d.HasErrors(), d.Error())
		wantType := "forward"
		if on {
			wantType = "redirect"
		}
		assert.Equal(t, wantType, typ.AsString(), "enable_https=%v: port 80 action", on)
	}
}

func TestEcsDesiredCountIsLeftToTheAutoscaler(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	svc := findResource(t, mods["aws"], "aws_ecs_service", "catalog")
	ignored := false
	for _, b := range svc.Body.Blocks {
		if b.Type != "lifecycle" {
			continue
		}
		if a, ok := b.Body.Attributes["ignore_changes"]; ok {
			ignored = strings.Contains(exprSource(t, a.Expr), "desired_count")
		}
	}
	assert.True(t, ignored, "aws_ecs_service.catalog must ignore_changes = [desired_count] so applies do not fight autoscaling")
	findResource(t, mods["aws"], "aws_appautoscaling_target", "catalog")
}

// The seed's bucket policy denied PutObject whenever the SSE header was
// absent, which rejects SDK writers relying on default encryption.
func TestBucketPolicyDoesNotRejectDefaultEncryptionWriters(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	doc := findResource(t, mods["aws"], "aws_iam_policy_document", "lakehouse_bucket")
	tlsOnly := false
	for _, st := range doc.Body.Blocks {
		if st.Type != "statement" {
			continue
		}
		for _, c := range st.Body.Blocks {
			if c.Type != "condition" {
				continue
			}
			test, _ := c.Body.Attributes["test"].Expr.Value(nil)
			variable, _ := c.Body.Attributes["variable"].Expr.Value(nil)
			if variable.AsString() == "s3:x-amz-server-side-encryption" {
				assert.True(t, strings.HasSuffix(test.AsString(), "IfExists"),
					"%s: condition %s on the SSE header rejects writers that rely on default encryption; use the IfExists form", rel(repoRoot(t), c.DefRange().Filename), test.AsString())
			}
			if variable.AsString() == "aws:SecureTransport" {
				tlsOnly = true
			}
		}
	}
	assert.True(t, tlsOnly, "bucket policy must deny non-TLS access")
	// Default encryption must be SSE-KMS so header-less writes are encrypted.
	sse := findResource(t, mods["aws"], "aws_s3_bucket_server_side_encryption_configuration", "lakehouse")
	assert.Contains(t, exprSourceBody(t, sse.Body), `"aws:kms"`)
}

func findResource(t *testing.T, m *module, typ, name string) *resource {
	t.Helper()
	for _, r := range m.Resources {
		if r.Type == typ && r.Name == name {
			return r
		}
	}
	require.Failf(t, "missing", "%s: %s.%s not found", m.Dir, typ, name)
	return nil
}

func exprSource(t *testing.T, expr hcl.Expression) string {
	t.Helper()
	rng := expr.Range()
	return string(rng.SliceBytes(readFileBytes(t, rng.Filename)))
}

func exprSourceBody(t *testing.T, b *hclsyntax.Body) string {
	t.Helper()
	rng := b.Range()
	return string(rng.SliceBytes(readFileBytes(t, rng.Filename)))
}

func readFile(t *testing.T, path string) string { return string(readFileBytes(t, path)) }

func readFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
