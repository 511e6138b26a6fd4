package compose

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shownBy says, for each mapped service key, how a user sees it in the
// spec; a mapped key set in the committed files with no entry here fails
// the walk below until someone says where it went.
var shownBy = map[string]func(Service) bool{
	"services.*.name":                           func(s Service) bool { return s.Name != "" },
	"services.*.image":                          func(s Service) bool { return s.Image != "" },
	"services.*.entrypoint":                     func(s Service) bool { return s.Entrypoint != nil },
	"services.*.command":                        func(s Service) bool { return s.Command != nil },
	"services.*.environment":                    func(s Service) bool { return len(s.Environment)+len(s.SecretEnvironment) > 0 },
	"services.*.user":                           func(s Service) bool { return s.User != "" },
	"services.*.working_dir":                    func(s Service) bool { return s.WorkingDir != "" },
	"services.*.ports":                          func(s Service) bool { return len(s.Ports) > 0 },
	"services.*.ports.target":                   func(s Service) bool { return len(s.Ports) > 0 },
	"services.*.ports.protocol":                 func(s Service) bool { return len(s.Ports) > 0 },
	"services.*.ports.published":                func(s Service) bool { return len(s.Published) > 0 },
	"services.*.expose":                         func(s Service) bool { return len(s.Ports) > 0 },
	"services.*.healthcheck.test":               func(s Service) bool { return s.Healthcheck != nil && len(s.Healthcheck.Test) > 0 },
	"services.*.healthcheck.interval":           func(s Service) bool { return s.Healthcheck != nil && s.Healthcheck.Interval > 0 },
	"services.*.healthcheck.timeout":            func(s Service) bool { return s.Healthcheck != nil && s.Healthcheck.Timeout > 0 },
	"services.*.healthcheck.retries":            func(s Service) bool { return s.Healthcheck != nil && s.Healthcheck.Retries > 0 },
	"services.*.healthcheck.start_period":       func(s Service) bool { return s.Healthcheck != nil && s.Healthcheck.StartPeriod > 0 },
	"services.*.healthcheck.start_interval":     func(s Service) bool { return s.Healthcheck != nil && s.Healthcheck.StartInterval > 0 },
	"services.*.healthcheck.disable":            func(s Service) bool { return s.Healthcheck == nil },
	"services.*.depends_on":                     func(s Service) bool { return len(s.DependsOn) > 0 },
	"services.*.depends_on.*.condition":         func(s Service) bool { return len(s.DependsOn) > 0 },
	"services.*.depends_on.*.required":          func(s Service) bool { return len(s.DependsOn) > 0 },
	"services.*.volumes":                        func(s Service) bool { return len(s.Mounts) > 0 },
	"services.*.volumes.type":                   func(s Service) bool { return len(s.Mounts) > 0 },
	"services.*.volumes.source":                 func(s Service) bool { return len(s.Mounts) > 0 },
	"services.*.volumes.target":                 func(s Service) bool { return len(s.Mounts) > 0 },
	"services.*.volumes.read_only":              func(s Service) bool { return anyOf(s.Mounts, func(m Mount) bool { return m.ReadOnly }) },
	"services.*.deploy.resources.limits.cpus":   func(s Service) bool { return s.Limits.NanoCPUs > 0 },
	"services.*.deploy.resources.limits.memory": func(s Service) bool { return s.Limits.MemoryBytes > 0 },
	// restart only shows as OneShot ("no" plus a dependent waiting for
	// completion); the other policies have nothing to show.
	"services.*.restart": func(Service) bool { return true },
}

func anyOf[T any](xs []T, f func(T) bool) bool {
	for _, x := range xs {
		if f(x) {
			return true
		}
	}
	return false
}

// Every key the committed compose files set, for every environment's env
// file (its COMPOSE_FILE and COMPOSE_PROFILES, the deploy secret as a
// placeholder), is a row of keyTable that maps or ignores it, and every
// mapped key shows in the translated service.
func TestEveryKeyOfTheCommittedStackIsMappedOrIgnoredOnPurpose(t *testing.T) {
	for _, env := range environments(t) {
		p := loadEnv(t, dagsterDir, env)
		spec := translateEnv(t, dagsterDir, env)
		keys := setKeys(p)
		require.NotEmpty(t, keys)
		for _, k := range keys {
			r := ruleFor(k.Key)
			require.NotEqual(t, unlisted(k.Key), r, "%s: %s is set but keyTable has no row for %s", env, k.Where, k.Key)
			assert.NotEqual(t, Refused, r.Handling, "%s: %s is refused: %s", env, k.Where, r.Why)
			if r.Handling != Mapped || !strings.HasPrefix(k.Key, "services.*.") {
				continue
			}
			shown, ok := shownBy[k.Key]
			require.True(t, ok, "%s: %s is mapped: add to shownBy how the spec shows it", env, k.Key)
			name := serviceOf(p.ServiceNames(), k.Where)
			assert.True(t, shown(service(t, spec, name)), "%s: %s is set but the spec of %s does not show it", env, k.Where, name)
		}
	}
}

// serviceOf finds the service a "services.<name>.…" path is about.
func serviceOf(services []string, where string) string {
	for _, s := range services {
		if strings.HasPrefix(where, "services."+s+".") {
			return s
		}
	}
	return ""
}

func TestKeyTableRowsAreReachableAndExplained(t *testing.T) {
	for _, r := range keyTable {
		assert.NotEmpty(t, r.Why, r.Key)
		assert.Contains(t, []Handling{Mapped, Ignored, Refused}, r.Handling, r.Key)
		assert.Equal(t, r, ruleFor(r.Key), "%s is shadowed", r.Key)
	}
	// A sub-key nobody listed, under a mapped key, is refused rather than
	// inheriting "mapped".
	assert.Equal(t, Refused, ruleFor("services.*.healthcheck.new_option").Handling)
	assert.Equal(t, Refused, ruleFor("services.*.deploy.resources.limits.pids").Handling)
	assert.Equal(t, Ignored, ruleFor("services.*.deploy.resources.reservations.cpus").Handling)
	assert.Equal(t, Ignored, ruleFor("services.*.ports.x-*").Handling)
}

func TestRefusedFeaturesNameTheServiceTheKeyAndWhy(t *testing.T) {
	cases := []struct {
		file    string
		secrets map[string]string
		want    []string
	}{
		{"privileged.yaml", nil, []string{"services.app.privileged is not supported", "isolation"}},
		{"network-mode-host.yaml", nil, []string{"services.app.network_mode is not supported", "service name"}},
		{"bind-escapes-project.yaml", nil, []string{`service "app"`, "volumes[0] binds", "outside the project directory"}},
		{"bind-docker-socket.yaml", nil, []string{`service "app"`, "volumes[0] binds /var/run/docker.sock, outside the project directory"}},
		{"build-without-image.yaml", nil, []string{"services.app.build is not supported", "dagger call build", `service "app": image is not set`}},
		{"container-name.yaml", nil, []string{"services.app.container_name is not supported", "side by side"}},
		{"external-volume.yaml", nil, []string{"volumes.data.external is not supported", "scoped to the project"}},
		{"fixed-volume-name.yaml", nil, []string{`volumes.data.name is "shared-data"`, `remove name: so it is "refusals_data"`}},
		{"anonymous-volume.yaml", nil, []string{`service "app"`, "volumes[0] (/scratch) is an anonymous volume"}},
		{"udp-port.yaml", nil, []string{`service "app"`, `ports[0].protocol is "udp": only tcp`}},
		// Both accepted by compose and, before, by Translate (found checking
		// FuzzLoadAndTranslate's property by hand).
		{"port-zero.yaml", nil, []string{`service "app"`, "ports[0].target is 0: a container port is 1-65535"}},
		{"relative-mount-target.yaml", nil, []string{`service "app"`, `volumes[0] mounts at "app/data": give the absolute path in the container, e.g. /app/data`}},
		{"custom-network.yaml", nil, []string{"networks.backend: only the default network"}},
		{"healthy-without-healthcheck.yaml", nil, []string{`service "app"`, "depends_on.db.condition is service_healthy but db has no healthcheck"}},
		{"restarting-job.yaml", nil, []string{`service "migrate": restart is "always" but app waits for it to complete`}},
		{"healthcheck-without-test.yaml", nil, []string{`service "app"`, "healthcheck.test is not set"}},
		{"secret-inside-values.yaml", map[string]string{"DB_PASSWORD": "canary-7f3a"}, []string{
			"environment.DATABASE_URL contains the secret DB_PASSWORD inside a longer value",
			"command[1] contains the secret DB_PASSWORD",
		}},
		{"host-access.yaml", nil, []string{
			"services.app.cap_add is not supported", "services.app.devices is not supported",
			"services.app.tmpfs is not supported", "services.app.extra_hosts is not supported",
			"services.app.labels is not supported",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			p, err := load(t.Context(), "testdata/refusals", ".env.test", "refusals", []string{tc.file}, tc.secrets)
			require.NoError(t, err, "compose itself accepts the file")
			spec, err := Translate(p, TranslateOptions{Secrets: tc.secrets})
			require.Error(t, err)
			assert.Nil(t, spec)
			msg := err.Error()
			for _, line := range strings.Split(msg, "\n") {
				assert.True(t, strings.HasPrefix(line, "compose project refusals ("), "every line names the project and its files: %q", line)
			}
			assert.Contains(t, msg, tc.file, "the error names the compose file")
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
			for _, placeholder := range tc.secrets {
				assert.NotContains(t, msg, placeholder, "the error must not echo the secret")
			}
		})
	}
}

func TestSecretPlaceholdersMustBeDistinguishable(t *testing.T) {
	p, err := load(t.Context(), "testdata/refusals", ".env.test", "refusals", []string{"privileged.yaml"}, nil)
	require.NoError(t, err)
	_, err = Translate(p, TranslateOptions{Secrets: map[string]string{"A": "same", "B": "same", "C": ""}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "A and B have the same placeholder")
	assert.Contains(t, err.Error(), "Secrets[C] is empty")
}
