package terraform

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

func catalog(t *testing.T, names ...string) *environment.Catalog {
	t.Helper()
	files := map[string][]byte{}
	for _, n := range names {
		files["environments/"+n+".tfvars"] = []byte("project_name = \"lakehouse\"\nenvironment = \"" + n + "\"\ncloud_provider = \"aws\"\n")
	}
	c, err := environment.NewCatalog(files)
	require.NoError(t, err)
	return c
}

func target(t *testing.T, env string, cloud Cloud) Target {
	t.Helper()
	e, err := catalog(t, env).Lookup(env)
	require.NoError(t, err)
	tg, err := NewTarget(e, cloud)
	require.NoError(t, err)
	return tg
}

// An environment file may name exactly the clouds that have a root here.
func TestEveryCloudAnEnvironmentMayNameHasARoot(t *testing.T) {
	var roots []string
	for _, c := range Clouds() {
		roots = append(roots, c.String())
	}
	assert.Equal(t, environment.Clouds, roots)
}

func TestParseCloudListsAllowedValues(t *testing.T) {
	c, err := ParseCloud("gcp")
	require.NoError(t, err)
	assert.Equal(t, GCP, c)
	for _, bad := range []string{"", "AWS", "azure", "aws "} {
		_, err := ParseCloud(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "allowed values are aws, gcp")
	}
}

func TestBackendKeyIsPerEnvironment(t *testing.T) {
	tests := []struct {
		env, object, lock string
		cloud             Cloud
		args              []string
	}{
		{"zzalpha", "iceberg-lakehouse/zzalpha/terraform.tfstate", "iceberg-lakehouse/zzalpha/terraform.tfstate.tflock", AWS,
			[]string{"-backend-config=backend.tfbackend", "-backend-config=key=iceberg-lakehouse/zzalpha/terraform.tfstate"}},
		{"zzomega", "iceberg-lakehouse/zzomega/terraform.tfstate", "iceberg-lakehouse/zzomega/terraform.tfstate.tflock", AWS,
			[]string{"-backend-config=backend.tfbackend", "-backend-config=key=iceberg-lakehouse/zzomega/terraform.tfstate"}},
		{"zzalpha", "iceberg-lakehouse/zzalpha/default.tfstate", "iceberg-lakehouse/zzalpha/default.tflock", GCP,
			[]string{"-backend-config=backend.tfbackend", "-backend-config=prefix=iceberg-lakehouse/zzalpha"}},
		{"zzgamma", "iceberg-lakehouse/zzgamma/default.tfstate", "iceberg-lakehouse/zzgamma/default.tflock", GCP,
			[]string{"-backend-config=backend.tfbackend", "-backend-config=prefix=iceberg-lakehouse/zzgamma"}},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+string(tt.cloud), func(t *testing.T) {
			b := target(t, tt.env, tt.cloud).Backend()
			assert.Equal(t, tt.object, b.StateObject())
			assert.Equal(t, tt.lock, b.LockObject())
			assert.Equal(t, tt.args, b.Args())
		})
	}
}

func TestNewTargetRefusesZeroEnvironmentAndUnknownCloud(t *testing.T) {
	_, err := NewTarget(environment.Env{}, AWS)
	require.Error(t, err)
	env, err := catalog(t, "zzalpha").Lookup("zzalpha")
	require.NoError(t, err)
	_, err = NewTarget(env, Cloud("azure"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "allowed values are aws, gcp")
}

func TestArgvOfAnEnvironmentOnAWS(t *testing.T) {
	tg := target(t, "zzalpha", AWS)
	assert.Equal(t, "aws", tg.Workdir())
	assert.Equal(t, "zzalpha/aws", tg.String())
	plan := tg.PlanFile()
	assert.Equal(t, "zzalpha.tfplan", plan)

	assert.Equal(t, []string{"terraform", "init", "-input=false", "-no-color", "-reconfigure", "-lockfile=readonly",
		"-backend-config=backend.tfbackend", "-backend-config=key=iceberg-lakehouse/zzalpha/terraform.tfstate"}, tg.Init())
	assert.Equal(t, []string{"terraform", "init", "-input=false", "-no-color", "-reconfigure", "-lockfile=readonly",
		"-backend-config=backend.tfbackend", "-backend-config=key=iceberg-lakehouse/zzalpha/terraform.tfstate",
		"-backend-config=use_path_style=true"}, tg.Init("use_path_style=true"))
	assert.Equal(t, []string{"terraform", "plan", "-input=false", "-no-color", "-lock-timeout=5m",
		"-var-file=../environments/zzalpha.tfvars", "-out=zzalpha.tfplan", "-detailed-exitcode"}, tg.Plan(plan))
	assert.Equal(t, []string{"terraform", "apply", "-input=false", "-no-color", "-lock-timeout=5m", "zzalpha.tfplan"}, tg.Apply(plan))
	assert.Equal(t, tg.Apply(plan), ApplySaved(plan))
	assert.Equal(t, []string{"terraform", "show", "-json", "-no-color", "zzalpha.tfplan"}, tg.ShowJSON(plan))
	assert.Equal(t, []string{"terraform", "plan", "-input=false", "-no-color", "-lock=false",
		"-var-file=../environments/zzalpha.tfvars", "-detailed-exitcode"}, tg.Drift())
	assert.Equal(t, []string{"terraform", "output", "-json", "-no-color"}, tg.OutputJSON())
	assert.Equal(t, []string{"terraform", "force-unlock", "-force", "1b2c"}, tg.ForceUnlock("1b2c"))
	assert.Equal(t, []string{"terraform", "init", "-input=false", "-no-color", "-backend=false"}, InitWithoutBackend())
	assert.Equal(t, []string{"terraform", "validate", "-no-color"}, Validate())
}

func TestApplyOfSavedPlanNeverSetsVariablesOrAutoApprove(t *testing.T) {
	// Terraform rejects -var-file with a saved plan, and -auto-approve would
	// hide the fact that what runs is the reviewed plan.
	for _, arg := range target(t, "zzomega", AWS).Apply("zzomega.tfplan") {
		assert.NotContains(t, arg, "-var")
		assert.NotEqual(t, "-auto-approve", arg)
	}
}

func TestLockTimeoutIsConfigurable(t *testing.T) {
	tg := target(t, "zzalpha", GCP)
	assert.Contains(t, tg.WithLockTimeout(0).Plan("p"), "-lock-timeout=0s")
	assert.Contains(t, tg.WithLockTimeout(90*time.Second).Apply("p"), "-lock-timeout=90s")
	assert.Contains(t, tg.WithLockTimeout(2*time.Minute).Apply("p"), "-lock-timeout=2m")
	assert.Contains(t, tg.Plan("p"), "-lock-timeout=5m", "WithLockTimeout must not change the original")
}

// Every environment gets the same commands; only the state key/prefix, the
// tfvars file and the plan file name differ.
func TestEveryEnvironmentGetsTheSameShape(t *testing.T) {
	envs := []string{"zzalpha", "zzgamma", "zzomega", "zzdelta2"}
	for _, cloud := range Clouds() {
		normalise := func(env string, argv []string) []string {
			out := slices.Clone(argv)
			for i, a := range out {
				out[i] = strings.ReplaceAll(a, env, "ENV")
			}
			return out
		}
		var ref [][]string
		for _, env := range envs {
			tg := target(t, env, cloud)
			got := [][]string{
				normalise(env, tg.Init()),
				normalise(env, tg.Plan(tg.PlanFile())),
				normalise(env, tg.Apply(tg.PlanFile())),
				normalise(env, tg.ShowJSON(tg.PlanFile())),
				normalise(env, tg.Drift()),
				normalise(env, tg.OutputJSON()),
			}
			for _, argv := range got {
				assert.Equal(t, "terraform", argv[0])
			}
			assert.Contains(t, got[0], map[Cloud]string{
				AWS: "-backend-config=key=iceberg-lakehouse/ENV/terraform.tfstate",
				GCP: "-backend-config=prefix=iceberg-lakehouse/ENV",
			}[cloud])
			assert.Contains(t, got[1], "-var-file=../environments/ENV.tfvars")
			if ref == nil {
				ref = got
				continue
			}
			assert.Equal(t, ref, got, "%s/%s differs from %s/%s beyond the environment name", env, cloud, envs[0], cloud)
		}
	}
}

func TestDetailedExitCode(t *testing.T) {
	changes, err := DetailedExitCode(0)
	assert.NoError(t, err)
	assert.False(t, changes)
	changes, err = DetailedExitCode(2)
	assert.NoError(t, err)
	assert.True(t, changes)
	for _, code := range []int{1, 3, -1, 127} {
		_, err = DetailedExitCode(code)
		assert.Error(t, err, code)
	}
}

func TestEnvironIsNonInteractive(t *testing.T) {
	assert.Equal(t, []EnvVar{{"CHECKPOINT_DISABLE", "1"}, {"TF_INPUT", "0"}, {"TF_IN_AUTOMATION", "1"}}, Environ(""))
	assert.Contains(t, Environ("/cache/tf-plugins"), EnvVar{"TF_PLUGIN_CACHE_DIR", "/cache/tf-plugins"})
}
