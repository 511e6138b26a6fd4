package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"dagger/lakehouse/internal/dagger"
	"dagger/lakehouse/internal/enginetest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/images"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// Canary credentials: they may appear in the query that defines the secret
// and nowhere else.
const (
	canaryKeyID  = "AKIACANARY0000KEYID"
	canarySecret = "canary-secret-access-key-3b1f"
	canaryToken  = "canary-session-token-9c2e"
	canaryGCP    = `{"type":"service_account","private_key":"canary-gcp-private-key-51aa"}`
)

func repoFile(t testing.TB, rel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	require.NoError(t, err)
	return string(raw)
}

// tfEngine serves the repository checkout at root as the module's source
// and answers like a terraform that reports changes (exit code 2) and
// shows planJSON.
func tfEngineAt(t testing.TB, root, planJSON string) (*Lakehouse, *enginetest.Engine) {
	t.Helper()
	m, eng := newModule(t)
	serveRepo(t, eng, root)
	eng.AnswerFunc("contents", func(c enginetest.Chain) (any, bool) {
		if c.Has("file", "path", "/tmp/plan.json") {
			return planJSON, true
		}
		return nil, false
	})
	eng.Answer("exitCode", 2)
	// The environment runs a release: terraform output reports its images.
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 1 && last[1] == "output" {
			return runningOutputs, true
		}
		return nil, false
	})
	return m, eng
}

// The image the fake environment runs, and its terraform output.
var (
	runningImage   = "registry.example/lakehouse@sha256:" + strings.Repeat("c", 64)
	runningOutputs = `{"dagster_image":{"sensitive":false,"type":"string","value":"` + runningImage + `"},"gate_image":{"sensitive":false,"type":"string","value":null}}`
)

// tfEngine is tfEngineAt for this checkout.
func tfEngine(t testing.TB, planJSON string) (*Lakehouse, *enginetest.Engine) {
	t.Helper()
	return tfEngineAt(t, repoRoot(t), planJSON)
}

func withAWS(m *Lakehouse) *Lakehouse {
	return m.WithAwsCredentials(
		dag.SetSecret("aws-access-key-id", canaryKeyID),
		dag.SetSecret("aws-secret-access-key", canarySecret),
		dag.SetSecret("aws-session-token", canaryToken))
}

// execIndex returns the index of the first exec whose argv starts with prefix.
func execIndex(c enginetest.Chain, prefix ...string) int {
	for i, argv := range c.Execs() {
		if len(argv) >= len(prefix) && strings.Join(argv[:len(prefix)], " ") == strings.Join(prefix, " ") {
			return i
		}
	}
	return -1
}

// ran returns the longest evaluated container chain that executed argv
// starting with prefix; it fails the test when none did.
func ran(t testing.TB, eng *enginetest.Engine, prefix ...string) enginetest.Chain {
	t.Helper()
	var best enginetest.Chain
	for _, c := range eng.Containers() {
		if execIndex(c, prefix...) >= 0 && c.Len() > best.Len() {
			best = c
		}
	}
	require.NotZero(t, best.Len(), "no container ran %q", strings.Join(prefix, " "))
	return best
}

// planned returns the evaluated chain that ran the plan exec.
func planned(t testing.TB, eng *enginetest.Engine) enginetest.Chain {
	t.Helper()
	return ran(t, eng, "terraform", "plan")
}

func TestPlanGivesEachEnvironmentItsOwnStateKeyAndTheSameShape(t *testing.T) {
	plan := repoFile(t, "pipelines/terraform/testdata/plans/create.json")
	shapes := map[string]string{}
	envs := repoEnvironments(t, repoRoot(t))
	require.Subset(t, envs, []string{"dev", "staging", "prod"})
	for _, env := range envs {
		m, eng := tfEngine(t, plan)
		p, err := withAWS(m).Plan(t.Context(), env, "aws", nil)
		require.NoError(t, err)
		key := "iceberg-lakehouse/" + env + "/terraform.tfstate"
		assert.Equal(t, key, p.StateKey)
		assert.Equal(t, env, p.Env)
		assert.True(t, p.HasChanges)

		c := planned(t, eng)
		assert.Equal(t, images.Defaults().Terraform, c.From())
		assert.Equal(t, "/src/aws", c.Workdir())
		execs := c.ExecLines()
		require.GreaterOrEqual(t, len(execs), 3, c.String())
		assert.Contains(t, execs[0], "-backend-config=backend.tfbackend -backend-config=key="+key)
		assert.Contains(t, execs, "terraform plan -input=false -no-color -lock-timeout=5m -var-file=../environments/"+env+".tfvars -var=dagster_image="+runningImage+" -out="+env+".tfplan -detailed-exitcode",
			"a plan without a release keeps the running image")
		assert.Equal(t, "1", c.Env()["TF_IN_AUTOMATION"])
		assert.Equal(t, "0", c.Env()["TF_INPUT"])
		shapes[env] = strings.ReplaceAll(strings.Join(execs, "\n"), env, "<env>")
	}
	for _, env := range envs {
		assert.Equal(t, shapes["dev"], shapes[env], "every environment runs the same argv shape (%s)", env)
	}
}

// Adding an environment is adding files: a checkout with a tfvars file copied
// from dev plans the new environment against its own state with no code change.
func TestAnAddedEnvironmentPlansWithNoCodeChange(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"aws", "gcp", "environments"} {
		require.NoError(t, os.CopyFS(filepath.Join(root, dir), os.DirFS(filepath.Join(repoRoot(t), dir))))
	}
	dev := repoFile(t, "environments/dev.tfvars")
	added := regexp.MustCompile(`(?m)^(\s*environment\s*=\s*)"dev"`).ReplaceAllString(dev, `${1}"zzfixture"`)
	require.NotEqual(t, dev, added, "dev.tfvars sets environment = \"dev\"")
	require.NoError(t, os.WriteFile(filepath.Join(root, "environments", "zzfixture.tfvars"), []byte(added), 0o644))

	m, eng := tfEngineAt(t, root, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	p, err := withAWS(m).Plan(t.Context(), "zzfixture", "aws", nil)
	require.NoError(t, err)
	assert.Equal(t, "iceberg-lakehouse/zzfixture/terraform.tfstate", p.StateKey)
	assert.Contains(t, planned(t, eng).ExecLines(), "terraform plan -input=false -no-color -lock-timeout=5m -var-file=../environments/zzfixture.tfvars -var=dagster_image="+runningImage+" -out=zzfixture.tfplan -detailed-exitcode")
}

// withLockFile copies the Terraform roots and environments of the checkout
// and adds a lock file to the cloud root (gcp/ has none in this repository:
// its providers cannot be obtained where it is developed).
func withLockFile(t testing.TB, cloud string) string {
	t.Helper()
	root := repoWithExtraEnvironments(t, nil)
	require.NoError(t, os.WriteFile(filepath.Join(root, cloud, ".terraform.lock.hcl"), []byte("# test lock\n"), 0o644))
	return root
}

func TestPlanRefusesACloudRootWithoutALockFile(t *testing.T) {
	root := repoWithExtraEnvironments(t, nil)
	require.NoError(t, os.Remove(filepath.Join(root, "aws", ".terraform.lock.hcl")))
	m, eng := tfEngineAt(t, root, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	_, err := withAWS(m).Plan(t.Context(), firstEnv(t), "aws", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws/.terraform.lock.hcl is not in the repository")
	assert.Contains(t, err.Error(), "providers lock")
	assert.Empty(t, eng.Containers(), "nothing runs without the lock file")
}

func TestGCPPlanUsesThePrefixAndAMountedCredentialsFile(t *testing.T) {
	m, eng := tfEngineAt(t, withLockFile(t, "gcp"), repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	p, err := m.WithGcpCredentials(dag.SetSecret("gcp", canaryGCP)).Plan(t.Context(), "prod", "gcp", nil)
	require.NoError(t, err)
	assert.Equal(t, "iceberg-lakehouse/prod", p.StateKey)
	c := planned(t, eng)
	assert.Equal(t, "/src/gcp", c.Workdir())
	assert.Contains(t, c.ExecLines()[0], "-backend-config=prefix=iceberg-lakehouse/prod")
	assert.Contains(t, c.SecretMounts()[gcpCredentialPath], "setSecret(name:gcp")
	assert.Equal(t, gcpCredentialPath, c.Env()["GOOGLE_APPLICATION_CREDENTIALS"])
	assertNoLeak(t, eng, canaryGCP[30:55])
}

func TestCredentialsReachTerraformOnlyAsSecretVariables(t *testing.T) {
	m, eng := tfEngine(t, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	p, err := withAWS(m).Plan(t.Context(), "dev", "aws", nil)
	require.NoError(t, err)
	_, err = p.Apply(t.Context(), nil)
	require.NoError(t, err)

	c := planned(t, eng)
	secrets := c.SecretEnv()
	assert.Contains(t, secrets["AWS_ACCESS_KEY_ID"], "setSecret(name:aws-access-key-id")
	assert.Contains(t, secrets["AWS_SECRET_ACCESS_KEY"], "setSecret(name:aws-secret-access-key")
	assert.Contains(t, secrets["AWS_SESSION_TOKEN"], "setSecret(name:aws-session-token")
	for name := range c.Env() {
		assert.NotContains(t, name, "AWS_", "AWS settings must not be plain variables")
	}
	for _, canary := range []string{canaryKeyID, canarySecret, canaryToken} {
		assertNoLeak(t, eng, canary)
	}
	assert.NotContains(t, p.Summary, "CANARY-7f3c91", "a sensitive plan value reached the summary")
}

// assertNoLeak fails if canary appears in any query other than the one that
// defines a secret (the test's own SetSecret).
func assertNoLeak(t testing.TB, eng *enginetest.Engine, canary string) {
	t.Helper()
	for _, q := range eng.Queries() {
		if strings.Contains(q, "setSecret(") {
			continue
		}
		assert.NotContains(t, q, canary, "secret value leaked into the graph")
	}
}

func TestProviderCacheIsSharedLockedAndHeldOnlyForInit(t *testing.T) {
	m, eng := tfEngine(t, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	_, err := withAWS(m).Plan(t.Context(), "dev", "aws", nil)
	require.NoError(t, err)
	c := planned(t, eng)

	cache := c.Caches()[pluginCachePath]
	assert.Equal(t, "iceberg-lakehouse-terraform-plugins", cache.Key)
	assert.Equal(t, string(dagger.CacheSharingModeLocked), cache.Sharing)

	mount := stepIndex(c, "withMountedCache", "path", pluginCachePath)
	initStep := stepIndex(c, "withExec", "args", "terraform")
	unmount := stepIndex(c, "withoutMount", "path", pluginCachePath)
	plan := -1
	for i, s := range c.Path {
		if s.Field == "withExec" && strings.Contains(fmt.Sprint(s.Args["args"]), "plan") {
			plan = i
		}
	}
	require.True(t, mount >= 0 && initStep >= 0 && unmount >= 0 && plan >= 0, c.String())
	assert.Less(t, mount, initStep)
	assert.Less(t, initStep, unmount)
	assert.Less(t, unmount, plan, "the cache lock must be released before plan runs")
}

func TestPlanApplyAppliesExactlyTheSavedPlanFile(t *testing.T) {
	m, eng := tfEngine(t, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	p, err := withAWS(m).Plan(t.Context(), "staging", "aws", nil)
	require.NoError(t, err)
	out, err := p.Apply(t.Context(), nil)
	require.NoError(t, err)
	assert.Contains(t, out, "staging/aws: applied")

	applied := ran(t, eng, "terraform", "apply")
	execs := applied.ExecLines()
	assert.Equal(t, "terraform apply -input=false -no-color -lock-timeout=5m staging.tfplan", execs[len(execs)-1])
	assert.Less(t, execIndex(applied, "terraform", "plan"), execIndex(applied, "terraform", "apply"),
		"apply must run in the working directory that saved the plan")
	assert.NotContains(t, strings.Join(execs, "\n"), "-auto-approve")
}

func TestSideEffectsRunEveryTime(t *testing.T) {
	m, eng := tfEngine(t, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	_, err := withAWS(m).Plan(t.Context(), "dev", "aws", nil)
	require.NoError(t, err)
	_, err = withAWS(m).Plan(t.Context(), "dev", "aws", nil)
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, c := range eng.Containers() {
		if id := c.Env()["LAKEHOUSE_RUN_ID"]; id != "" {
			ids[id] = true
		}
	}
	assert.Len(t, ids, 2, "two plans must not share an exec cache key")

	fset := token.NewFileSet()
	pragmas := map[string]string{}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv != nil && fn.Doc != nil {
				typ := fn.Recv.List[0].Type
				if star, ok := typ.(*ast.StarExpr); ok {
					typ = star.X
				}
				recv := fmt.Sprint(typ)
				pragmas[recv+"."+fn.Name.Name] = fn.Doc.Text()
			}
		}
	}
	for _, fn := range []string{"Lakehouse.Plan", "Lakehouse.Apply", "Plan.Apply", "Lakehouse.Drift", "Lakehouse.Output", "Lakehouse.Unlock", "Lakehouse.ApplyPlanFile", "Lakehouse.Publish", "Lakehouse.Deploy", "Lakehouse.Promote", "Lakehouse.Ci", "Lakehouse.CiResult", "Stack.Services", "Stack.Materialize", "Stack.Quality", "Lakehouse.EnvFile", "Lakehouse.Quality"} {
		require.Contains(t, pragmas, fn)
		assert.Contains(t, pragmas[fn], `+cache="never"`, "%s has side effects and must never be cached", fn)
	}
}

// protectedPlan is the real destroy fixture (made by terraform with
// built-in resources) with its deleted resource retyped as the lakehouse
// data bucket, which no provider-free fixture can create.
func protectedPlan(t testing.TB) (string, string) {
	t.Helper()
	var plan map[string]any
	require.NoError(t, json.Unmarshal([]byte(repoFile(t, "pipelines/terraform/testdata/plans/destroy-protected.json")), &plan))
	const address = "module.storage.aws_s3_bucket.lakehouse"
	for _, rc := range plan["resource_changes"].([]any) {
		rc := rc.(map[string]any)
		if rc["name"] == "data_bucket" {
			rc["type"], rc["name"], rc["address"] = "aws_s3_bucket", "lakehouse", address
		}
	}
	raw, err := json.Marshal(plan)
	require.NoError(t, err)
	return string(raw), address
}

func TestApplyRefusesToDestroyProtectedResourcesUnlessAllowed(t *testing.T) {
	planJSON, bucket := protectedPlan(t)
	m, eng := tfEngine(t, planJSON)
	p, err := withAWS(m).Plan(t.Context(), "prod", "aws", nil)
	require.NoError(t, err)
	assert.Contains(t, p.Summary, "Apply will refuse this plan unless allowed")

	_, err = p.Apply(t.Context(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "prod/aws")
	assert.Contains(t, err.Error(), bucket)
	for _, c := range eng.Containers() {
		assert.Negative(t, execIndex(c, "terraform", "apply"), "a refused plan must not reach terraform apply")
	}

	_, err = p.Apply(t.Context(), []string{"module.storage.aws_s3_bucket.other"})
	require.Error(t, err, "allowing another address does not allow this one")

	out, err := p.Apply(t.Context(), []string{bucket})
	require.NoError(t, err, "allowing the exact address lets the plan apply")
	assert.Contains(t, out, "applied")
}

func TestPlanRejectsUnknownEnvironmentsAndClouds(t *testing.T) {
	m, _ := tfEngine(t, "{}")
	_, err := withAWS(m).Plan(t.Context(), "nosuchenv", "aws", nil)
	require.Error(t, err)
	for _, known := range repoEnvironments(t, repoRoot(t)) {
		assert.Contains(t, err.Error(), known)
	}
	_, err = withAWS(m).Plan(t.Context(), "dev", "azure", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws")
}

func TestPlanWithoutCredentialsSaysHowToPassThem(t *testing.T) {
	m, eng := tfEngine(t, "{}")
	_, err := m.Plan(t.Context(), "dev", "aws", nil)
	require.ErrorContains(t, err, "with-aws-credentials --access-key-id env://AWS_ACCESS_KEY_ID")
	for _, c := range eng.Containers() {
		assert.Negative(t, execIndex(c, "terraform"), "nothing may run without credentials")
	}
}

func TestPlanFailsWhenTerraformFails(t *testing.T) {
	m, eng := tfEngine(t, "{}")
	eng.Answer("exitCode", 1)
	eng.Answer("stderr", "Error: Invalid value for variable")
	_, err := withAWS(m).Plan(t.Context(), "dev", "aws", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Invalid value for variable")
}

func TestDriftMapsDetailedExitCodes(t *testing.T) {
	for _, tc := range []struct {
		code    int
		fail    bool
		want    string
		wantErr bool
	}{
		{code: 0, want: "dev/aws: no drift"},
		{code: 2, want: "DRIFT"},
		{code: 2, fail: true, want: "DRIFT", wantErr: true},
		{code: 1, want: "exit code", wantErr: true},
	} {
		t.Run(fmt.Sprintf("exit %d fail-on-drift %v", tc.code, tc.fail), func(t *testing.T) {
			m, eng := tfEngine(t, "{}")
			eng.Answer("exitCode", tc.code)
			out, err := withAWS(m).Drift(t.Context(), "dev", "aws", tc.fail)
			if tc.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, out, tc.want)
			c := planned(t, eng)
			assert.Contains(t, c.ExecLines(), "terraform plan -input=false -no-color -lock=false -var-file=../environments/dev.tfvars -var=dagster_image="+runningImage+" -detailed-exitcode",
				"drift compares against the running image, not a missing one")
		})
	}
}

func TestOutputRedactsSensitiveOutputs(t *testing.T) {
	m, eng := tfEngine(t, "{}")
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		return `{"bucket":{"sensitive":false,"type":"string","value":"lakehouse-dev-lakehouse"},"token":{"sensitive":true,"type":"string","value":"canary-output-4411"}}`, true
	})
	out, err := withAWS(m).Output(t.Context(), "dev", "aws")
	require.NoError(t, err)
	assert.Contains(t, out, "lakehouse-dev-lakehouse")
	assert.NotContains(t, out, "canary-output-4411")
}

func TestValidateRunsEachCloudWithoutBackendOrCredentials(t *testing.T) {
	m, eng := tfEngine(t, "{}")
	require.NoError(t, m.Validate(t.Context()))
	workdirs := map[string][]string{}
	for _, c := range eng.Containers() {
		if execIndex(c, "terraform", "validate") >= 0 {
			workdirs[c.Workdir()] = c.ExecLines()
			assert.Empty(t, c.SecretEnv())
		}
	}
	require.Len(t, workdirs, 2)
	for dir, execs := range workdirs {
		assert.Contains(t, execs[0], "terraform init -input=false -no-color -backend=false", dir)
	}
}

func TestUnlockRemovesOnlyTheNamedLockOfTheEnvironment(t *testing.T) {
	m, eng := tfEngine(t, "{}")
	out, err := withAWS(m).Unlock(t.Context(), "prod", "aws", "4d5c0c86-1111-2222-3333-444455556666")
	require.NoError(t, err)
	assert.Contains(t, out, "iceberg-lakehouse/prod/terraform.tfstate")
	unlocked := ran(t, eng, "terraform", "force-unlock")
	assert.Contains(t, unlocked.ExecLines()[0], "-backend-config=key=iceberg-lakehouse/prod/terraform.tfstate")
	assert.Equal(t, "terraform force-unlock -force 4d5c0c86-1111-2222-3333-444455556666", unlocked.ExecLines()[len(unlocked.ExecLines())-1])

	_, err = withAWS(m).Unlock(t.Context(), "prod", "aws", "-force")
	assert.ErrorContains(t, err, "is not an ID")
}

// servePlanFile answers the base64 read of a reviewed plan file with the
// bytes of a real saved plan from pipelines/terraform/testdata/planfiles.
func servePlanFile(t testing.TB, eng *enginetest.Engine, name string) *dagger.File {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "pipelines/terraform/testdata/planfiles", name))
	require.NoError(t, err)
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 0 && last[0] == "base64" {
			return base64.StdEncoding.EncodeToString(raw), true
		}
		return nil, false
	})
	return dag.Directory().WithNewFile("reviewed.tfplan", "binary plan").File("reviewed.tfplan")
}

// The real plan fixture was made for dev on aws (state key
// iceberg-lakehouse/dev/terraform.tfstate, variable environment = "dev").
const planFileEnv = "dev"

func TestApplyPlanFileAppliesTheGivenFileInTheEnvironmentsState(t *testing.T) {
	planJSON, bucket := protectedPlan(t)
	m, eng := tfEngine(t, planJSON)
	reviewed := servePlanFile(t, eng, "dev-aws.planfile")

	_, err := withAWS(m).ApplyPlanFile(t.Context(), planFileEnv, "aws", reviewed, nil)
	require.ErrorContains(t, err, bucket, "the guard applies to saved files too")

	_, err = withAWS(m).ApplyPlanFile(t.Context(), planFileEnv, "aws", reviewed, []string{bucket})
	require.NoError(t, err)
	applied := ran(t, eng, "terraform", "apply")
	assert.Contains(t, applied.FileMounts()[planFileEnv+".tfplan"], "withNewFile(contents:binary plan")
	assert.Negative(t, execIndex(applied, "terraform", "plan"), "a saved file is applied, not re-planned")
	assert.Contains(t, applied.ExecLines()[0], "-backend-config=key=iceberg-lakehouse/"+planFileEnv+"/terraform.tfstate")
	assert.Equal(t, "terraform apply -input=false -no-color -lock-timeout=5m "+planFileEnv+".tfplan", applied.ExecLines()[len(applied.ExecLines())-1])
}

// Terraform would apply a saved plan to the state recorded inside it: a
// plan made for one environment, handed to another, is refused before any
// terraform command runs.
func TestApplyPlanFileRefusesAPlanMadeForAnotherEnvironmentOrCloud(t *testing.T) {
	var other string
	for _, env := range repoEnvironments(t, repoRoot(t)) {
		if env != planFileEnv {
			other = env
			break
		}
	}
	require.NotEmpty(t, other)
	for _, tc := range []struct{ env, cloud, file string }{
		{other, "aws", "dev-aws.planfile"},
		{planFileEnv, "aws", "workspace-aws.planfile"},
		{planFileEnv, "aws", "local-state.planfile"},
	} {
		t.Run(tc.env+"/"+tc.file, func(t *testing.T) {
			m, eng := tfEngine(t, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
			reviewed := servePlanFile(t, eng, tc.file)
			_, err := withAWS(m).ApplyPlanFile(t.Context(), tc.env, tc.cloud, reviewed, nil)
			require.Error(t, err)
			assert.Contains(t, cliMessage(err), "apply "+tc.env+"/"+tc.cloud)
			for _, c := range eng.Containers() {
				for _, line := range c.ExecLines() {
					assert.False(t, strings.HasPrefix(line, "terraform "), "terraform ran (%s) although the plan is not for this environment", line)
				}
			}
		})
	}
	m, eng := tfEngine(t, "{}")
	_, err := withAWS(m).ApplyPlanFile(t.Context(), other, "aws", servePlanFile(t, eng, "dev-aws.planfile"), nil)
	msg := cliMessage(err)
	assert.Contains(t, msg, "iceberg-lakehouse/dev/terraform.tfstate", "names the state the file is for")
	assert.Contains(t, msg, "iceberg-lakehouse/"+other+"/terraform.tfstate", "and the state of this call")
}

// A plan with a release deploys its digests; the reviewed diff shows them.
func TestPlanWithAReleaseRecordDeploysItsImageDigests(t *testing.T) {
	m, eng := tfEngine(t, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	id, err := release.NewIdentity(testCommit, false, mustTime(t, testCommitTime), "")
	require.NoError(t, err)
	rec, err := release.NewRecord(id, "registry.example/lakehouse@sha256:"+strings.Repeat("1", 64), "registry.example/lakehouse@sha256:"+strings.Repeat("2", 64), nil, mustTime(t, testCommitTime))
	require.NoError(t, err)
	raw, _ := rec.JSON()
	eng.AnswerFunc("contents", func(c enginetest.Chain) (any, bool) { return string(raw), c.Has("file", "path", "release.json") })
	env := firstEnv(t)
	_, err = withAWS(m).Plan(t.Context(), env, "aws", dag.Directory().WithNewFile("release.json", string(raw)).File("release.json"))
	require.NoError(t, err)
	line := strings.Join(planned(t, eng).ExecLines(), "\n")
	assert.Contains(t, line, "-var=dagster_image="+rec.RuntimeImage+" -var=gate_image="+rec.GateImage)
	assert.NotContains(t, line, runningImage, "the release replaces the running image")
}

func TestAFirstPlanWithoutAReleaseSaysHowToDeployOne(t *testing.T) {
	m, eng := tfEngine(t, "{}")
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 1 && last[1] == "output" {
			return "{}", true
		}
		return nil, false
	})
	eng.FailExec(1, "", "Error: Invalid value for variable dagster_image", "terraform", "plan")
	_, err := withAWS(m).Plan(t.Context(), firstEnv(t), "aws", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pass --release-record from publish for the first deploy")
}

func TestEnvFileMergesTerraformsValuesIntoTheCommittedFile(t *testing.T) {
	m, eng := tfEngine(t, "{}")
	env := firstEnv(t)
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 1 && last[1] == "output" {
			return `{"dagster_env":{"sensitive":false,"type":["map","string"],"value":{"LAKEHOUSE_ENVIRONMENT":"` + env + `","ICEBERG_CATALOG_URI":"https://nessie.example.internal/iceberg/main","ICEBERG_WAREHOUSE":"s3://lakehouse-x/warehouse"}}}`, true
		}
		return nil, false
	})
	var written string
	eng.AnswerFunc("contents", func(c enginetest.Chain) (any, bool) {
		if files := c.NewFiles(); files[".env."+env] != "" {
			written = files[".env."+env]
			return written, true
		}
		return nil, false
	})
	f, err := withAWS(m).EnvFile(t.Context(), env, "aws")
	require.NoError(t, err)
	out, err := f.Contents(t.Context())
	require.NoError(t, err)
	assert.Contains(t, out, "ICEBERG_CATALOG_URI=https://nessie.example.internal/iceberg/main\n")
	assert.Contains(t, out, "LAKEHOUSE_ACCESS_LEVEL=", "the committed keys stay")
	assert.Equal(t, strings.Count(repoFile(t, "dagster/.env."+env), "\n# "), strings.Count(out, "\n# "), "comments stay")
}
