package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/dagger"
	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/images"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

const (
	testCommit     = "0123456789abcdef0123456789abcdef01234567"
	testCommitTime = "2026-11-30T17:04:05+01:00"
)

// buildModule is a module whose source is a small Dagster project.
func buildModule(t testing.TB, code string) (*Lakehouse, *enginetest.Engine) {
	t.Helper()
	eng, client := enginetest.New(t)
	dag = client
	src := dag.Directory().
		WithNewFile("dagster/requirements.lock", "dagster==1.13.28 --hash=sha256:aa\n").
		WithNewFile("dagster/requirements-soda.lock", "soda-core==3.5.6 --hash=sha256:bb\n").
		WithNewFile("dagster/dagster.yaml", "telemetry:\n  enabled: false\n").
		WithNewFile("dagster/workspace.yaml", "load_from: []\n").
		WithNewFile("dagster/pyproject.toml", "[project]\nname = \"lakehouse\"\n").
		WithNewFile("dagster/lakehouse/assets/events.py", code)
	m, err := New(src, "", "", "", "", "", "")
	require.NoError(t, err)
	return m, eng
}

func built(t testing.TB, m *Lakehouse, gate bool) *dagger.Container {
	t.Helper()
	var ctr *dagger.Container
	var err error
	if gate {
		ctr, err = m.GateImage(t.Context(), nil, testCommit, testCommitTime)
	} else {
		ctr, err = m.Build(t.Context(), nil, testCommit, testCommitTime)
	}
	require.NoError(t, err)
	_, err = ctr.Sync(t.Context())
	require.NoError(t, err)
	return ctr
}

// image returns the evaluated image chain: the longest container chain.
func image(t testing.TB, eng *enginetest.Engine) enginetest.Chain {
	t.Helper()
	var best enginetest.Chain
	for _, c := range eng.Containers() {
		if c.Len() > best.Len() {
			best = c
		}
	}
	require.NotZero(t, best.Len())
	return best
}

func TestBuildMakesANonRootRuntimeImageFromThePinnedPythonWithoutBuildTools(t *testing.T) {
	m, eng := buildModule(t, "x = 1\n")
	built(t, m, false)
	img := image(t, eng)
	assert.Equal(t, images.Defaults().Python, img.From())
	users := img.Steps("withUser")
	require.NotEmpty(t, users)
	assert.Equal(t, "10001:10001", users[len(users)-1].Args["name"])
	assert.Contains(t, img.Directories(), runtimeVenv)
	assert.Contains(t, img.Directories()[appDir+"/lakehouse"], "directory(path:dagster/lakehouse)")
	assert.Contains(t, img.FileMounts()[dagsterHome+"/dagster.yaml"], "file(path:dagster/dagster.yaml)")
	for _, line := range img.ExecLines() {
		for _, tool := range []string{"apt-get", "gcc", "build-essential", "pip install"} {
			assert.NotContains(t, line, tool, "the runtime image installs nothing beyond the user (dependencies come from their own layer)")
		}
	}
	assert.Empty(t, img.Steps("withDockerHealthcheck"), "no baked HEALTHCHECK: Dagger services would all use it")
	assert.Equal(t, runtimeVenv+"/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", img.Env()["PATH"],
		"the venv first, then the system's, whatever PATH the base image sets (the rig's sets none: sh was not found)")
	defaults := img.Steps("withDefaultArgs")
	require.NotEmpty(t, defaults)
	assert.Equal(t, strings.Fields(codeServerCmd), strs(defaults[len(defaults)-1].Args["args"]))

	deps := eng.Resolve(dirSource(img, runtimeVenv))
	assert.Equal(t, images.Defaults().Python, deps.From())
	assert.Equal(t, []string{
		"python -m venv /opt/venv",
		"/opt/venv/bin/pip install --no-input --no-deps --require-hashes -r /tmp/locks/requirements.lock",
		"/opt/venv/bin/pip check",
	}, deps.ExecLines())
}

func TestGateImageRunsTheGateWithSodaInItsOwnInterpreter(t *testing.T) {
	m, eng := buildModule(t, "x = 1\n")
	built(t, m, true)
	img := image(t, eng)
	assert.Contains(t, img.Directories(), gateVenv)
	assert.NotContains(t, img.Directories(), runtimeVenv, "DuckDB of the runtime must not meet Soda's pin")
	entry := img.Steps("withEntrypoint")
	require.NotEmpty(t, entry)
	assert.Equal(t, []string{"python", "-m", "lakehouse.quality.gate"}, strs(entry[0].Args["args"]))
	assert.Equal(t, "send_anonymous_usage_stats: false\n", img.NewFiles()[appHome+"/.soda/config.yml"])

	// Soda v3 declares duckdb<1.1 and the gate runs DuckDB 1.5: plain pip
	// check refused the gate image on a real engine. The layer runs the
	// project's own check, which accepts exactly the recorded override.
	deps := eng.Resolve(dirSource(img, gateVenv))
	assert.Equal(t, []string{
		"python -m venv /opt/venv-soda",
		"/opt/venv-soda/bin/pip install --no-input --no-deps --require-hashes -r /tmp/locks/requirements-soda.lock",
		"/opt/venv-soda/bin/python /tmp/locks/check_dependencies.py /tmp/locks/requirements-soda.overrides",
	}, deps.ExecLines())
	assert.Contains(t, deps.FileMounts()[sodaOverrides], "dagster/requirements-soda.overrides", "the overrides file of the repository")
	assert.Contains(t, deps.FileMounts()[dependencyCheckScript], "dagster/scripts/check_dependencies.py")
	assert.Equal(t, gateVenv+"/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", img.Env()["PATH"])
	assert.Equal(t, "10001:10001", img.Steps("withUser")[0].Args["name"])
	owned := map[string]string{}
	for _, s := range img.Steps("withDirectory") {
		owned[str(s.Args["path"])] = str(s.Args["owner"])
	}
	assert.Equal(t, appOwner, owned[appDir], "the gate writes its snapshot under the project directory")
}

// Editing one Python file rebuilds only the code layer: the dependency
// layer's inputs (base image, lock file) and steps are the same.
func TestAPythonEditRebuildsOnlyTheCodeLayer(t *testing.T) {
	keys := func(code string) (final, deps []string) {
		m, eng := buildModule(t, code)
		built(t, m, false)
		img := image(t, eng)
		venv := eng.Resolve(dirSource(img, runtimeVenv))
		return img.ContentAddressed(), venv.ContentAddressed()
	}
	a, depsA := keys("def asset():\n    return 1\n")
	b, depsB := keys("def asset():\n    return 2\n")
	assert.Equal(t, depsA, depsB, "dependency steps: same inputs, same order")
	assert.Contains(t, strings.Join(depsA, " "), "content(dagster/requirements.lock)=", "the lock file is the only source input of the dependency layer")
	assert.NotContains(t, strings.Join(depsA, " "), "content(dagster)=")
	require.Equal(t, len(a), len(b))
	var differ []string
	for i := range a {
		if a[i] != b[i] {
			differ = append(differ, a[i])
		}
	}
	require.Len(t, differ, 1, "exactly one step differs")
	assert.True(t, strings.HasPrefix(differ[0], "withDirectory(") && strings.Contains(differ[0], appDir+"/lakehouse"), differ[0])
	codeStep := -1
	for i, s := range a {
		if s == differ[0] {
			codeStep = i
		}
	}
	for i, s := range a {
		if strings.HasPrefix(s, "withDirectory(") && strings.Contains(s, runtimeVenv) {
			assert.Less(t, i, codeStep, "dependencies come before the code")
		}
		if strings.HasPrefix(s, "withLabel(") {
			assert.Greater(t, i, codeStep, "labels (commit, dirty flag) come last: they never invalidate a layer")
		}
	}
}

func gitRepo(t testing.TB, eng *enginetest.Engine, clean bool, meta string) *dagger.GitRepository {
	t.Helper()
	eng.Answer("commit", testCommit)
	eng.Answer("isEmpty", clean)
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) == 3 && strings.Contains(last[2], "git log -1") {
			return meta, true
		}
		return nil, false
	})
	return dag.Git("https://example.invalid/acme/lakehouse.git")
}

func labels(c enginetest.Chain) map[string]string {
	out := map[string]string{}
	for _, s := range c.Steps("withLabel") {
		out[str(s.Args["name"])] = str(s.Args["value"])
	}
	return out
}

func TestImagesCarryTheReleaseIdentityFromGitNotTheClock(t *testing.T) {
	m, eng := buildModule(t, "x = 1\n")
	git := gitRepo(t, eng, false, "2026-11-30T17:04:05+01:00\nhttps://bot:tok3n@github.com/acme/lakehouse.git\n")
	ctr, err := m.Build(t.Context(), git, "", "")
	require.NoError(t, err)
	_, err = ctr.Sync(t.Context())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"org.opencontainers.image.created":  "2026-11-30T16:04:05Z",
		"org.opencontainers.image.revision": testCommit,
		"org.opencontainers.image.version":  "0123456789ab-dirty",
		"org.opencontainers.image.source":   "https://github.com/acme/lakehouse",
	}, labels(image(t, eng)))
	for _, q := range eng.Queries() {
		assert.NotContains(t, q, "tok3n", "remote credentials never reach the image")
	}

	_, err = m.Build(t.Context(), git, "fedcba9876543210fedcba9876543210fedcba98", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "but the repository is at "+testCommit)
}

func TestAnUnreadableCheckoutSaysHowToMakeItReadable(t *testing.T) {
	m, eng := buildModule(t, "x = 1\n")
	git := gitRepo(t, eng, true, "2026-11-30T17:04:05+01:00\n")
	// What the engine answered for a clone made with --shared.
	eng.FailField("isEmpty", "failed to select cleaned: git error: exit status 128", nil)
	_, err := m.Build(t.Context(), git, "", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit status 128", "git's answer reaches the user")
	assert.Contains(t, err.Error(), "git repack -a -d")
	assert.Contains(t, err.Error(), "--no-local")
}

func TestBuildWithoutGitNeedsARevisionAndItsTime(t *testing.T) {
	m, _ := buildModule(t, "x = 1\n")
	_, err := m.Build(t.Context(), nil, "", "")
	require.ErrorContains(t, err, "pass --revision <commit> --revision-time")
	_, err = m.Build(t.Context(), nil, testCommit, "yesterday")
	require.ErrorContains(t, err, "RFC 3339")
	_, err = m.Build(t.Context(), nil, "main", testCommitTime)
	require.ErrorContains(t, err, "not a full commit hash")
}

const canaryRegistryToken = "canary-registry-token-77d1"

func publishEngine(t testing.TB, clean bool) (*Lakehouse, *enginetest.Engine, *dagger.GitRepository) {
	t.Helper()
	m, eng := buildModule(t, "x = 1\n")
	eng.AnswerFunc("publish", func(c enginetest.Chain) (any, bool) {
		addr := str(c.Path[c.Len()-1].Args["address"])
		digest := strings.Repeat("a", 64)
		if strings.HasSuffix(addr, "-gate") {
			digest = strings.Repeat("b", 64)
		}
		return addr + "@sha256:" + digest, true
	})
	git := gitRepo(t, eng, clean, "2026-11-30T17:04:05Z\n")
	return m.WithRegistryAuth("registry.example:5000", "bot", dag.SetSecret("registry", canaryRegistryToken)), eng, git
}

func TestPublishPushesBothImagesAndReturnsDigestsAndARecord(t *testing.T) {
	m, eng, git := publishEngine(t, true)
	r, err := m.Publish(t.Context(), "registry.example:5000/acme/lakehouse:v1", false, git, "", "")
	require.NoError(t, err)
	assert.Equal(t, "registry.example:5000/acme/lakehouse@sha256:"+strings.Repeat("a", 64), r.RuntimeImage)
	assert.Equal(t, "registry.example:5000/acme/lakehouse@sha256:"+strings.Repeat("b", 64), r.GateImage)
	rec, err := release.ParseRecord([]byte(r.Record))
	require.NoError(t, err, r.Record)
	assert.Equal(t, r.ReleaseID, rec.ID)
	assert.Equal(t, testCommit, rec.Commit)
	assert.False(t, rec.Dirty)
	require.Len(t, rec.Locks, 2)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Record), &raw))

	var pushed []string
	for _, c := range eng.Chains() {
		if c.Leaf() == "publish" {
			pushed = append(pushed, str(c.Path[c.Len()-1].Args["address"]))
			assert.Contains(t, c.String(), "withRegistryAuth(address:registry.example:5000", "the registry credentials are used")
		}
	}
	assert.ElementsMatch(t, []string{"registry.example:5000/acme/lakehouse:v1", "registry.example:5000/acme/lakehouse:v1-gate"}, pushed)
	for _, q := range eng.Queries() {
		if !strings.Contains(q, "setSecret(") {
			assert.NotContains(t, q, canaryRegistryToken, "the registry token reaches the registry client only as a secret")
		}
	}
}

func TestPublishRefusesBadAddressesAndDirtyTrees(t *testing.T) {
	m, _, git := publishEngine(t, true)
	for addr, why := range map[string]string{
		"registry.example:5000/acme/lakehouse@sha256:" + strings.Repeat("a", 64): "has a digest",
		"registry.example:5000/acme/lakehouse:latest":                            "uses :latest",
		"lakehouse": "names no registry and repository",
	} {
		_, err := m.Publish(t.Context(), addr, false, git, "", "")
		require.Error(t, err, addr)
		assert.Contains(t, err.Error(), why)
		assert.Contains(t, err.Error(), "REGISTRY/REPOSITORY[:TAG]")
	}
	dirty, _, dirtyGit := publishEngine(t, false)
	_, err := dirty.Publish(t.Context(), "registry.example:5000/acme/lakehouse", false, dirtyGit, "", "")
	require.ErrorContains(t, err, "uncommitted changes")
	r, err := dirty.Publish(t.Context(), "registry.example:5000/acme/lakehouse", true, dirtyGit, "", "")
	require.NoError(t, err)
	assert.True(t, r.Dirty)
	assert.Contains(t, r.Record, `"dirty": true`)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, str(x))
	}
	return out
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// dirSource is the ID of what withDirectory copied to path in the chain.
func dirSource(c enginetest.Chain, path string) string {
	for _, s := range c.Steps("withDirectory") {
		if str(s.Args["path"]) == path {
			return str(s.Args["source"])
		}
	}
	return ""
}
