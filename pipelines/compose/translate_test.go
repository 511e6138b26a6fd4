package compose

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// translateEnv translates one environment's stack as the module will: the
// deploy secret is a placeholder, the project image is the env file's.
func translateEnv(t *testing.T, dir, env string) *Spec {
	t.Helper()
	p := loadEnv(t, dir, env)
	spec, err := Translate(p, TranslateOptions{
		Secrets:      map[string]string{"DAGSTER_POSTGRES_PASSWORD": deploySecrets["DAGSTER_POSTGRES_PASSWORD"]},
		ProjectImage: envFileVars(t, filepath.Join(dir, ".env."+env))["LAKEHOUSE_IMAGE"],
	})
	require.NoError(t, err, env)
	return spec
}

func service(t *testing.T, spec *Spec, name string) Service {
	t.Helper()
	for _, s := range spec.Services {
		if s.Name == name {
			return s
		}
	}
	require.Failf(t, "no such service", "%s has no service %s", spec.Project, name)
	return Service{}
}

func names(spec *Spec) []string {
	var out []string
	for _, s := range spec.Services {
		out = append(out, s.Name)
	}
	return out
}

func TestServicesStartAfterWhatTheyWaitFor(t *testing.T) {
	for _, env := range environments(t) {
		spec := translateEnv(t, dagsterDir, env)
		started := map[string]bool{}
		for _, s := range spec.Services {
			for _, d := range s.DependsOn {
				if d.Required || slices.Contains(names(spec), d.Service) {
					assert.True(t, started[d.Service], "%s: %s starts before %s, which it waits for", env, s.Name, d.Service)
				}
			}
			started[s.Name] = true
		}
	}
	localStackEnvs(t)
	for _, env := range environments(t) {
		if runsLocalStack(envFileVars(t, filepath.Join(dagsterDir, ".env."+env))) {
			assert.Equal(t, []string{"postgres", "seaweedfs", "s3-bootstrap", "nessie", "dagster-code", "dagster-daemon", "dagster-webserver"},
				names(translateEnv(t, dagsterDir, env)), "%s: the local stack; ties broken by name", env)
		} else {
			assert.Equal(t, []string{"postgres", "dagster-code", "dagster-daemon", "dagster-webserver"},
				names(translateEnv(t, dagsterDir, env)), "%s: no local-stack profile: no catalog or object store", env)
		}
	}
}

func TestTheBucketIsCreatedBeforeTheCatalogStarts(t *testing.T) {
	for _, env := range localStackEnvs(t) {
		spec := translateEnv(t, dagsterDir, env)
		for _, s := range spec.Services {
			assert.Equal(t, s.Name == "s3-bootstrap", s.OneShot, "%s %s: only the bucket bootstrap runs to completion", env, s.Name)
		}
		assert.Contains(t, service(t, spec, "nessie").DependsOn, Dependency{Service: "s3-bootstrap", Condition: Completed, Required: true}, env)
		assert.Contains(t, service(t, spec, "s3-bootstrap").DependsOn, Dependency{Service: "seaweedfs", Condition: Healthy, Required: true}, env)
		code := service(t, spec, "dagster-code")
		assert.Contains(t, code.DependsOn, Dependency{Service: "nessie", Condition: Healthy, Required: false},
			"%s: the code server waits for the local catalog only where it runs", env)
	}
}

func TestHealthchecksKeepTheirCommandAndTiming(t *testing.T) {
	spec := translateEnv(t, dagsterDir, localStackEnvs(t)[0])
	pg := service(t, spec, "postgres").Healthcheck
	require.NotNil(t, pg)
	assert.Equal(t, Healthcheck{
		Test: []string{`pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB"`}, Shell: true,
		Interval: 10 * time.Second, Timeout: 5 * time.Second, StartPeriod: 10 * time.Second, Retries: 10,
	}, *pg, "$$ in the file is a $ for the container's shell")
	code := service(t, spec, "dagster-code").Healthcheck
	require.NotNil(t, code)
	assert.Equal(t, []string{"dagster", "api", "grpc-health-check", "-p", "4000"}, code.Test)
	assert.False(t, code.Shell)
	assert.Equal(t, 30*time.Second, code.StartPeriod)
	for _, s := range spec.Services {
		assert.Equal(t, s.OneShot, s.Healthcheck == nil, "%s: every long-running service says when it is ready", s.Name)
	}
}

// The deploy secret arrives as a secret variable and its placeholder
// appears nowhere in the spec: not as a value, not inside one.
func TestTheDeploySecretIsNeverAPlainValue(t *testing.T) {
	placeholder := deploySecrets["DAGSTER_POSTGRES_PASSWORD"]
	for _, env := range environments(t) {
		spec := translateEnv(t, dagsterDir, env)
		raw, err := json.Marshal(spec)
		require.NoError(t, err)
		assert.NotContains(t, string(raw), placeholder, env)
		assert.Contains(t, service(t, spec, "postgres").SecretEnvironment,
			SecretEnvVar{Name: "POSTGRES_PASSWORD", Secret: "DAGSTER_POSTGRES_PASSWORD"}, env)
		for _, name := range dagsterServices {
			assert.Contains(t, service(t, spec, name).SecretEnvironment,
				SecretEnvVar{Name: "DAGSTER_POSTGRES_PASSWORD", Secret: "DAGSTER_POSTGRES_PASSWORD"}, "%s %s", env, name)
		}
	}
}

func TestEnvironmentsSideBySideShareNoVolume(t *testing.T) {
	owner := map[string]string{}
	for _, env := range environments(t) {
		spec := translateEnv(t, dagsterDir, env)
		require.NotEmpty(t, spec.Volumes, env)
		for _, v := range spec.Volumes {
			assert.True(t, strings.HasPrefix(v, spec.Project+"-"), "%s: volume %s is not scoped to %s", env, v, spec.Project)
			other, taken := owner[v]
			assert.False(t, taken, "%s and %s both use the volume %s", env, other, v)
			owner[v] = env
		}
		for _, s := range spec.Services {
			for _, m := range s.Mounts {
				if m.Kind == NamedVolume {
					assert.Contains(t, spec.Volumes, m.Source, "%s %s mounts a volume Spec.Volumes does not list", env, s.Name)
				}
			}
		}
	}
	for _, env := range environments(t) {
		assert.Contains(t, translateEnv(t, dagsterDir, env).Volumes, projectName(env)+"-postgres-data")
	}
}

// The host tests run one environment's commands and healthchecks; that
// covers the others only while no environment changes them.
func TestEveryEnvironmentRunsTheSameCommandsAndHealthchecks(t *testing.T) {
	first := map[string]Service{}
	for _, env := range environments(t) {
		for _, s := range translateEnv(t, dagsterDir, env).Services {
			seen, ok := first[s.Name]
			if !ok {
				first[s.Name] = s
				continue
			}
			assert.Equal(t, seen.Entrypoint, s.Entrypoint, "%s %s", env, s.Name)
			assert.Equal(t, seen.Command, s.Command, "%s %s", env, s.Name)
			assert.Equal(t, seen.Healthcheck, s.Healthcheck, "%s %s", env, s.Name)
		}
	}
}

// The overlay's promises, on what the module will start.
func TestOverlayRulesHoldOnTheSpec(t *testing.T) {
	for _, env := range overlayEnvs(t) {
		spec := translateEnv(t, dagsterDir, env)
		for _, name := range dagsterServices {
			for _, m := range service(t, spec, name).Mounts {
				assert.NotEqual(t, Bind, m.Kind, "%s %s mounts %s from the source tree: it must run the image only", env, name, m.Source)
			}
		}
		for _, s := range spec.Services {
			assert.Empty(t, s.Published, "%s %s publishes ports", env, s.Name)
		}
		assert.Equal(t, Limits{NanoCPUs: 4e9, MemoryBytes: 4 << 30}, service(t, spec, "dagster-webserver").Limits, env)
	}

	for _, env := range baseOnlyEnvs(t) {
		port, err := strconv.Atoi(envFileVars(t, filepath.Join(dagsterDir, ".env."+env))["DAGSTER_WEBSERVER_PORT"])
		require.NoError(t, err, env)
		web := service(t, translateEnv(t, dagsterDir, env), "dagster-webserver")
		assert.Contains(t, web.Published, PortForward{Host: port, Container: 3000}, "%s publishes the UI on its DAGSTER_WEBSERVER_PORT", env)
		assert.Contains(t, web.Mounts, Mount{Kind: Bind, Source: "lakehouse", Target: "/opt/dagster/app/lakehouse", ReadOnly: true},
			"%s runs the live source, relative to the project directory", env)
		assert.Equal(t, Limits{}, web.Limits, env)
	}
}

func TestTheProjectImageMarksTheDagsterServices(t *testing.T) {
	for _, env := range environments(t) {
		spec := translateEnv(t, dagsterDir, env)
		for _, s := range spec.Services {
			assert.Equal(t, slices.Contains(dagsterServices, s.Name), s.ProjectImage, "%s %s (%s)", env, s.Name, s.Image)
		}
	}
	_, err := Translate(loadEnv(t, dagsterDir, environments(t)[0]), TranslateOptions{ProjectImage: "registry.example/other:1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no service runs the project image "registry.example/other:1"`)
}

// What the committed files do not use: the translation of values that are
// easy to get wrong.
func TestMappedKeysTranslateAsDockerReadsThem(t *testing.T) {
	p, err := load(t.Context(), "testdata/mapped", ".env.test", "mapped", nil, map[string]string{"API_TOKEN": "tok-placeholder"})
	require.NoError(t, err)
	spec, err := Translate(p, TranslateOptions{Secrets: map[string]string{"API_TOKEN": "tok-placeholder"}})
	require.NoError(t, err)
	w := service(t, spec, "worker")
	assert.Equal(t, []string{}, w.Entrypoint, "entrypoint: [] clears the image's, unlike an absent one")
	assert.Equal(t, []string{"run", "--queue", "jobs"}, w.Command, "a string command is split like a shell")
	assert.Equal(t, "1000:1000", w.User)
	assert.Equal(t, "/srv", w.WorkingDir)
	assert.Equal(t, []EnvVar{{Name: "EMPTY", Value: ""}}, w.Environment, "an unset variable is not set in the container")
	assert.Equal(t, []SecretEnvVar{{Name: "TOKEN", Secret: "API_TOKEN"}}, w.SecretEnvironment)
	assert.Equal(t, []int{4000, 4001}, w.Ports)
	assert.Empty(t, w.Published)
	require.NotNil(t, w.Healthcheck)
	assert.Equal(t, Healthcheck{Test: []string{"wget -q -O- http://127.0.0.1:4000/health"}, Shell: true, StartInterval: 2 * time.Second}, *w.Healthcheck,
		"a string test is CMD-SHELL; retries: 0 is Docker's default")
	assert.Equal(t, Limits{NanoCPUs: 100_000_000, MemoryBytes: 512 << 20}, w.Limits, "cpus 0.1 is exactly 0.1 CPU")
	assert.Equal(t, []Dependency{{Service: "cache", Condition: Started, Required: false}}, w.DependsOn)
	assert.Equal(t, []Mount{{Kind: Bind, Source: "conf", Target: "/srv/conf", ReadOnly: true}}, w.Mounts)
	assert.Nil(t, service(t, spec, "quiet").Healthcheck, "disable: true")
	assert.Empty(t, spec.Volumes)
}
