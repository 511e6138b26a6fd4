package infra

// The Dagster runtime of both roots (issue 12): the shared contract, the
// image validations, sizes and protection per environment, the guard table,
// and the compose file's health checks.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/compose"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

var (
	dagsterVariables = []string{
		"enable_dagster", "dagster_image", "gate_image", "dagster_access_level",
		"dagster_webserver_cpu_units", "dagster_webserver_memory_mib",
		"dagster_daemon_cpu_units", "dagster_daemon_memory_mib",
		"dagster_code_server_cpu_units", "dagster_code_server_memory_mib",
		"dagster_run_cpu_units", "dagster_run_memory_mib",
		"aws_dagster_allowed_cidrs", "aws_dagster_db_instance_class", "aws_dagster_db_multi_az",
	}
	dagsterOutputs = []string{"dagster_image", "gate_image", "dagster_webserver_url", "dagster_storage_secret", "dagster_env", "quality_gate", "dagster_services", "smoke_run"}
)

func TestDagsterRuntimeIsInTheSharedContract(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	for _, root := range cloudRoots {
		for _, v := range dagsterVariables {
			assert.Contains(t, mods[root].Variables, v, "%s must declare %s (shared variables.tf)", root, v)
		}
		for _, o := range dagsterOutputs {
			assert.Contains(t, mods[root].Outputs, o, "%s must output %s", root, o)
		}
	}
	// The images are inputs of a release: no default that deploys anything.
	for _, v := range []string{"dagster_image", "gate_image"} {
		d := mods["aws"].Variables[v].Default
		assert.True(t, d != cty.NilVal && d.IsNull(), "%s must default to null, never to an image", v)
	}
}

const sampleDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestImageValidationsAcceptOnlyDigestReferences(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	files, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	cases := []struct {
		image string
		want  bool
	}{
		{"ghcr.io/acme/lakehouse@" + sampleDigest, true},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse@" + sampleDigest, true},
		{"us-central1-docker.pkg.dev/acme-prod/lakehouse/dagster@" + sampleDigest, true},
		{"localhost:5000/lakehouse@" + sampleDigest, true},
		{"ghcr.io/acme/lakehouse:v1.4.0", false},                           // tag only
		{"ghcr.io/acme/lakehouse:latest", false},                           // tag only
		{"ghcr.io/acme/lakehouse:v1.4.0@" + sampleDigest, false},           // tag and digest: deployments name the digest alone
		{"ghcr.io/acme/lakehouse@sha256:0123", false},                      // short digest
		{"ghcr.io/acme/lakehouse@" + strings.ToUpper(sampleDigest), false}, // not lowercase hex
		{"lakehouse@" + sampleDigest, false},                               // no registry
		{"", false},
	}
	for _, root := range cloudRoots {
		m := mods[root]
		base := varValues(m, files[0], map[string]cty.Value{"enable_dagster": cty.True})
		for _, tc := range cases {
			assert.Equal(t, tc.want, accepted(m, base, "dagster_image", cty.StringVal(tc.image)), "%s: dagster_image %q", root, tc.image)
			assert.Equal(t, tc.want, accepted(m, base, "gate_image", cty.StringVal(tc.image)), "%s: gate_image %q", root, tc.image)
		}
		assert.False(t, accepted(m, base, "dagster_image", cty.NullVal(cty.String)), "%s: Dagster enabled without an image must be refused", root)
		assert.True(t, accepted(m, base, "gate_image", cty.NullVal(cty.String)), "%s: no gate image means no gate task", root)
		off := varValues(m, files[0], map[string]cty.Value{"enable_dagster": cty.False})
		assert.True(t, accepted(m, off, "dagster_image", cty.NullVal(cty.String)), "%s: without Dagster the image may be null", root)
	}
}

func TestReleaseImagesAreNeverCommittedInTfvars(t *testing.T) {
	for env, f := range envFiles(t) {
		for k := range releaseInputs {
			_, set := f.Attrs[k]
			assert.False(t, set, "environments/%s.tfvars:%d sets %s: the image is an input of a release, passed by the pipeline (-var), never committed", env, f.line(k), k)
		}
	}
}

func TestDagsterSizeValidationsFitFargateAndCloudRun(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	files, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	m := mods["aws"]
	cases := []struct {
		cpu, mem int64
		want     bool
	}{
		{2048, 2048, true}, {4096, 4096, true}, {1024, 1024, true}, {2048, 8192, true},
		{256, 512, false},   // Cloud Run cannot keep a fraction of a vCPU always allocated
		{2048, 1536, false}, // not whole GiB
		{1024, 8192, false}, // Cloud Run: at most 4 GiB per vCPU
		{4096, 1024, false}, // Cloud Run: 4 vCPU need 2 GiB
	}
	for _, role := range []string{"webserver", "daemon", "code_server", "run"} {
		for _, tc := range cases {
			base := varValues(m, files[0], map[string]cty.Value{"dagster_" + role + "_cpu_units": cty.NumberIntVal(tc.cpu)})
			ok := accepted(m, base, "dagster_"+role+"_cpu_units", cty.NumberIntVal(tc.cpu)) &&
				accepted(m, base, "dagster_"+role+"_memory_mib", cty.NumberIntVal(tc.mem))
			assert.Equal(t, tc.want, ok, "%s: %d CPU units / %d MiB", role, tc.cpu, tc.mem)
		}
	}
}

// attrValue evaluates attribute name of r with one environment's values.
func attrValue(t *testing.T, m *module, r *resource, f *tfvarsFile, name string) cty.Value {
	t.Helper()
	a, ok := r.Body.Attributes[name]
	require.True(t, ok, "%s has no %s", r.addr(), name)
	v, diags := a.Expr.Value(evalContext(m, varValues(m, f, releaseInputs)))
	require.False(t, diags.HasErrors(), "%s.%s: %s", r.addr(), name, diags.Error())
	return v
}

// Dagster's storage and its credentials are protected where the environment
// is (deletion_protection), and left deletable where it is not.
func TestDagsterStateIsProtectedWhereTheEnvironmentIs(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	type check struct {
		root, typ, name, attr string
		protected, open       cty.Value
	}
	checks := []check{
		{"aws", "aws_db_instance", "dagster", "deletion_protection", cty.True, cty.False},
		{"aws", "aws_db_instance", "dagster", "skip_final_snapshot", cty.False, cty.True},
		{"aws", "aws_db_instance", "dagster", "storage_encrypted", cty.True, cty.True},
		{"aws", "aws_db_instance", "dagster", "manage_master_user_password", cty.True, cty.True},
		{"aws", "aws_lb", "dagster", "enable_deletion_protection", cty.True, cty.False},
		{"gcp", "google_sql_database", "dagster", "deletion_policy", cty.StringVal("ABANDON"), cty.StringVal("DELETE")},
		{"gcp", "google_sql_user", "dagster", "deletion_policy", cty.StringVal("ABANDON"), cty.NullVal(cty.String)},
		{"gcp", "google_secret_manager_secret", "dagster_db_password", "deletion_protection", cty.True, cty.False},
		{"gcp", "google_secret_manager_secret_version", "dagster_db_password", "deletion_policy", cty.StringVal("ABANDON"), cty.StringVal("DELETE")},
		{"gcp", "google_cloud_run_v2_service", "dagster_code", "deletion_protection", cty.True, cty.False},
		{"gcp", "google_cloud_run_v2_job", "gate", "deletion_protection", cty.True, cty.False},
		{"gcp", "google_cloud_run_v2_job", "dagster_smoke", "deletion_protection", cty.True, cty.False},
	}
	for env, f := range envFiles(t) {
		dp, ok := f.value("deletion_protection")
		require.True(t, ok, "environments/%s.tfvars must set deletion_protection", env)
		for _, c := range checks {
			m := mods[c.root]
			got := attrValue(t, m, findResource(t, m, c.typ, c.name), f, c.attr)
			want := c.open
			if dp.True() {
				want = c.protected
			}
			assert.True(t, got.RawEquals(want), "%s (deletion_protection = %v): %s.%s.%s = %#v, want %#v", env, dp.True(), c.typ, c.name, c.attr, got, want)
		}
	}
	prod := envFiles(t)["prod"]
	dp, _ := prod.value("deletion_protection")
	assert.True(t, dp.True(), "prod's storage must be protected (deletion_protection = true)")
}

// Every resource the roots protect (prevent_destroy or deletion protection)
// has an entry in the pipeline's destroy guard: the plan is refused before
// apply, not only by the provider during it.
func TestProtectedResourcesAreInTheDestroyGuard(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	policy := terraform.DefaultPolicy()
	seen := 0
	for _, root := range cloudRoots {
		for _, r := range mods[root].Resources {
			if r.Kind != "resource" || !(protectedTypes[r.Type] || hasPreventDestroy(r.Body) || hasDeletionProtection(r) || r.Type == "random_password") {
				continue
			}
			seen++
			p, ok := policy.Protection(r.Type)
			assert.True(t, ok && p.Refuse&terraform.RefuseDelete != 0 && p.Refuse&terraform.RefuseReplace != 0,
				"%s:%d: %s is protected in %s but the destroy guard (pipelines/terraform defaultProtections) does not refuse deleting and replacing %s",
				rel(repoRoot(t), r.Range.Filename), r.Range.Start.Line, r.addr(), root, r.Type)
		}
	}
	for _, typ := range []string{"aws_db_instance", "google_sql_database", "google_sql_user", "google_secret_manager_secret", "random_password"} {
		_, ok := policy.Protection(typ)
		assert.True(t, ok, "the guard must protect %s (Dagster's storage and its credentials)", typ)
	}
	assert.GreaterOrEqual(t, seen, 20)
}

// stringList evaluates a literal list of strings (e.g. a health check).
func stringList(t *testing.T, expr hcl.Expression) []string {
	t.Helper()
	v, diags := expr.Value(&hcl.EvalContext{Functions: functions()})
	require.False(t, diags.HasErrors(), diags.Error())
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out
}

// The deployed services are checked with the very commands the compose
// stack uses (dagster/docker-compose.yaml), so local and deployed health
// mean the same thing.
func TestDagsterHealthChecksAreTheComposeFiles(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "dagster")
	if _, err := os.Stat(filepath.Join(dir, ".env.dev")); err != nil {
		t.Skip("no dagster/.env.dev in this checkout")
	}
	p, err := compose.Load(t.Context(), dir, ".env.dev", "lakehouse-dev", nil)
	require.NoError(t, err)
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	roles := map[string]string{"code_server": "dagster-code", "webserver": "dagster-webserver", "daemon": "dagster-daemon"}
	for _, root := range cloudRoots {
		a, ok := mods[root].Locals["dagster_health"]
		require.True(t, ok, "%s: local.dagster_health not found", root)
		obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
		require.True(t, ok, "%s: dagster_health must be a literal map", root)
		got := map[string][]string{}
		for _, item := range obj.Items {
			k, _ := item.KeyExpr.Value(nil)
			got[k.AsString()] = stringList(t, item.ValueExpr)
		}
		for role, svc := range roles {
			s, ok := p.Services[svc]
			require.True(t, ok, "compose has no %s", svc)
			require.NotNil(t, s.HealthCheck, "compose %s has no healthcheck", svc)
			assert.Equal(t, []string(s.HealthCheck.Test), got[role], "%s: %s health check must be the compose file's", root, role)
		}
	}
}

// The deployed Dagster runs with the environment's access level and
// alerting from its tfvars; dagster/.env.<env> (the local stack, the
// pipeline's runtime config) must say the same.
func TestDeployedDagsterPolicyMatchesTheEnvFiles(t *testing.T) {
	root := repoRoot(t)
	cat, err := environment.Discover(os.DirFS(root))
	require.NoError(t, err)
	for env, f := range envFiles(t) {
		e, err := cat.Lookup(env)
		require.NoError(t, err)
		rt, err := environment.LoadRuntime(os.DirFS(root), e)
		if err != nil {
			t.Logf("%s: no runtime env file: %v", env, err)
			continue
		}
		level, ok := f.value("dagster_access_level")
		require.True(t, ok, "environments/%s.tfvars must set dagster_access_level", env)
		assert.Equal(t, string(rt.AccessLevel), level.AsString(), "environments/%s.tfvars dagster_access_level vs dagster/.env.%s LAKEHOUSE_ACCESS_LEVEL", env, env)
		alerting, _ := f.value("enable_alerting")
		assert.Equal(t, rt.AlertingEnabled, alerting.True(), "environments/%s.tfvars enable_alerting vs dagster/.env.%s LAKEHOUSE_ALERTING_ENABLED", env, env)
	}
}

// Each run is its own ECS task on AWS, launched by the daemon as the
// writer: the deployment's instance file names the launcher and the run
// task definition the root registers.
func TestDeploymentInstanceFilesChooseTheRunLauncher(t *testing.T) {
	read := func(p string) string { return readFile(t, filepath.Join(repoRoot(t), "dagster", "deploy", p)) }
	awsYAML, gcpYAML := read("aws/dagster.yaml"), read("gcp/dagster.yaml")
	assert.Contains(t, awsYAML, "class: EcsRunLauncher")
	assert.Contains(t, awsYAML, "task_definition: {env: DAGSTER_ECS_RUN_TASK_DEFINITION}")
	assert.Contains(t, gcpYAML, "class: DefaultRunLauncher")
	local := readFile(t, filepath.Join(repoRoot(t), "dagster", "dagster.yaml"))
	assert.Contains(t, local, "class: DefaultRunLauncher", "the local stack keeps DefaultRunLauncher")
	for _, y := range []string{awsYAML, gcpYAML} {
		assert.Contains(t, y, "password: {env: DAGSTER_POSTGRES_PASSWORD}", "the password comes from the secret, never the file")
		assert.Contains(t, y, "sslmode: require")
	}
}

// nested is the first block at path inside body (e.g. "template",
// "template", "containers").
func nested(t *testing.T, body *hclsyntax.Body, path ...string) *hclsyntax.Body {
	t.Helper()
	for _, typ := range path {
		var next *hclsyntax.Body
		for _, b := range body.Blocks {
			if b.Type == typ {
				next = b.Body
				break
			}
		}
		require.NotNil(t, next, "no %s block in %v", typ, path)
		body = next
	}
	return body
}

// attrSource is the source text of attribute name of body.
func attrSource(t *testing.T, body *hclsyntax.Body, name string) string {
	t.Helper()
	a, ok := body.Attributes[name]
	require.True(t, ok, "no attribute %s", name)
	return exprSource(t, a.Expr)
}

// gcp's smoke job (output smoke_run) is a Dagster run in all but its
// launcher: the release's image with the deployed entrypoint, the run's
// size, the code server's environment, secret and identity (runs execute
// there), the gate job's network path to the catalog, the smoke command
// aws runs, and no retries; it exists exactly when Dagster does.
func TestGcpSmokeJobRunsLikeADagsterRun(t *testing.T) {
	mods, err := loadModules(repoRoot(t))
	require.NoError(t, err)
	files, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	m := mods["gcp"]
	smoke := findResource(t, m, "google_cloud_run_v2_job", "dagster_smoke")
	for _, on := range []bool{false, true} {
		n := instances(t, m, smoke, varValues(m, files[0], map[string]cty.Value{"enable_dagster": cty.BoolVal(on), "dagster_image": releaseInputs["dagster_image"]}))
		assert.Equal(t, map[bool]int{false: 0, true: 1}[on], n, "the smoke job exists exactly with Dagster (enable_dagster = %v)", on)
	}

	task := nested(t, smoke.Body, "template", "template")
	ctr := nested(t, task, "containers")
	code := findResource(t, m, "google_cloud_run_v2_service", "dagster_code")
	codeTemplate := nested(t, code.Body, "template")
	codeCtr := nested(t, codeTemplate, "containers")
	gateTask := nested(t, findResource(t, m, "google_cloud_run_v2_job", "gate").Body, "template", "template")

	assert.Equal(t, "var.dagster_image", attrSource(t, ctr, "image"))
	assert.Equal(t, attrSource(t, codeCtr, "command"), attrSource(t, ctr, "command"), "the deployed entrypoint writes the instance, as for every Dagster container")
	assert.Equal(t, "local.dagster_sizes.run", attrSource(t, nested(t, ctr, "resources"), "limits"))
	assert.Equal(t, attrSource(t, codeTemplate, "service_account"), attrSource(t, task, "service_account"), "runs write as the code server does")
	assert.Equal(t, "0", attrSource(t, task, "max_retries"), "a failed smoke run is a verdict")
	assert.Equal(t, exprSourceBody(t, nested(t, gateTask, "vpc_access")), exprSourceBody(t, nested(t, task, "vpc_access")), "the catalog is reached as the gate reaches it")

	envOf := func(c *hclsyntax.Body) []string {
		var out []string
		for _, b := range c.Blocks {
			switch b.Type {
			case "dynamic":
				out = append(out, "for_each "+attrSource(t, b.Body, "for_each"))
			case "env":
				// Compared without indentation: the blocks nest differently.
				out = append(out, strings.Join(strings.Fields(exprSourceBody(t, b.Body)), " "))
			}
		}
		return out
	}
	assert.Equal(t, envOf(codeCtr), envOf(ctr), "the smoke run gets the code server's environment and database secret")

	// The command aws's smoke_run starts.
	var awsCommand []string
	for _, block := range outputBlocks(t, "aws") {
		if block.Labels[0] != "smoke_run" {
			continue
		}
		for _, item := range objectOf(block.Body.Attributes["value"].Expr).Items {
			if hcl.ExprAsKeyword(item.KeyExpr) == "command" {
				awsCommand = stringList(t, item.ValueExpr)
			}
		}
	}
	assert.Equal(t, []string{"python", "-m", "lakehouse.smoke"}, awsCommand)
	assert.Equal(t, awsCommand, stringList(t, ctr.Attributes["args"].Expr))
}
