package enginetest

import (
	"slices"
	"strings"
	"testing"

	"dagger.io/dagger"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The assertion API must report what a graph really asks for; these tests
// build graphs with the SDK itself and read them back.

func TestChainReportsEveryKindOfContainerSetting(t *testing.T) {
	eng, dag := New(t)
	token := dag.SetSecret("token", "s3cr3t-canary")
	db := dag.Container().From("postgres:17").WithExposedPort(5432).AsService()
	src := dag.Directory().WithNewFile("a.txt", "A")

	_, err := dag.Container().
		From("alpine:3.20").
		WithMountedCache("/cache", dag.CacheVolume("my-cache"), dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
		WithEnvVariable("PLAIN", "value").
		WithSecretVariable("TOKEN", token).
		WithMountedSecret("/run/secrets/token", token).
		WithDirectory("/src", src).
		WithFile("/etc/a.txt", src.File("a.txt")).
		WithNewFile("/etc/config", "key=1").
		WithServiceBinding("db", db).
		WithExposedPort(8080).
		WithWorkdir("/src").
		WithExec([]string{"echo", "one"}).
		WithExec([]string{"echo", "two"}).
		Sync(t.Context())
	require.NoError(t, err)

	c := eng.ContainerFrom("alpine:3.20")
	assert.Equal(t, [][]string{{"echo", "one"}, {"echo", "two"}}, c.Execs())
	assert.Equal(t, []string{"echo", "two"}, c.LastExec())
	assert.Equal(t, map[string]string{"PLAIN": "value"}, c.Env())
	assert.Contains(t, c.SecretEnv()["TOKEN"], "setSecret(name:token")
	assert.Contains(t, c.SecretMounts()["/run/secrets/token"], "setSecret(name:token")
	assert.Equal(t, CacheMount{Key: "my-cache", Sharing: "LOCKED"}, c.Caches()["/cache"])
	assert.Contains(t, c.Directories()["/src"], "withNewFile(contents:A, path:a.txt)")
	assert.Contains(t, c.FileMounts()["/etc/a.txt"], "file(path:a.txt)")
	assert.Equal(t, map[string]string{"/etc/config": "key=1"}, c.NewFiles())
	assert.Equal(t, "/src", c.Workdir())
	assert.Equal(t, []int{8080}, c.ExposedPorts())
	svc := c.ServiceBindings()["db"]
	assert.Equal(t, "postgres:17", svc.From())
	assert.Equal(t, []int{5432}, svc.ExposedPorts())
	assert.Equal(t, "sync", c.Leaf())
	assert.Equal(t, []string{"alpine:3.20", "postgres:17"}, slices.Sorted(slices.Values(eng.Images())))
}

func TestAnswersFollowTheChain(t *testing.T) {
	eng, dag := New(t)
	eng.Answer("stdout", "default")
	eng.AnswerFunc("stdout", func(c Chain) (any, bool) {
		return "special", c.Has("withExec", "args", "[special]")
	})
	eng.Answer("exitCode", 3)
	base := dag.Container().From("alpine:3.20")

	out, err := base.WithExec([]string{"plain"}).Stdout(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "default", out)
	out, err = base.WithExec([]string{"special"}).Stdout(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "special", out)
	code, err := base.WithExec([]string{"x"}, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny}).ExitCode(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, code)
}

func TestLineageFollowsIDsAcrossQueries(t *testing.T) {
	eng, dag := New(t)
	synced, err := dag.Container().From("alpine:3.20").WithExec([]string{"first"}).Sync(t.Context())
	require.NoError(t, err)
	_, err = synced.WithExec([]string{"second"}).Stdout(t.Context())
	require.NoError(t, err)

	c := eng.ContainerFrom("alpine:3.20")
	assert.Equal(t, [][]string{{"first"}, {"second"}}, c.Execs(), "a chain continued from a synced ID keeps its history")
}

func TestQueriesAreRecordedVerbatim(t *testing.T) {
	eng, dag := New(t)
	_, err := dag.Container().From("alpine:3.20").WithEnvVariable("K", "canary-value").Sync(t.Context())
	require.NoError(t, err)
	// The SDK renders arguments in map order, so look for each one.
	var found bool
	for _, q := range eng.Queries() {
		found = found || (strings.Contains(q, "withEnvVariable(") && strings.Contains(q, `name:"K"`) && strings.Contains(q, `value:"canary-value"`))
	}
	assert.True(t, found, "recorded queries: %v", eng.Queries())
}

// A failing exec reaches module code as the SDK's *dagger.ExecError, as
// with a real engine; with Expect ANY its code and output are answers.
func TestFailExecSurfacesAsTheSDKsExecError(t *testing.T) {
	eng, dag := New(t)
	eng.FailExec(3, "out", "Error: boom", "terraform", "init")

	base := dag.Container().From("alpine:3.20").WithExec([]string{"terraform", "init", "-no-color"})
	_, err := base.WithExec([]string{"terraform", "plan"}).Sync(t.Context())
	var exec *dagger.ExecError
	require.ErrorAs(t, err, &exec)
	assert.Equal(t, 3, exec.ExitCode)
	assert.Equal(t, "Error: boom", exec.Stderr)
	assert.Equal(t, []string{"terraform", "init", "-no-color"}, exec.Cmd)

	anyCode := dag.Container().From("alpine:3.20").
		WithExec([]string{"terraform", "init"}, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	code, err := anyCode.ExitCode(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, code)
	stderr, err := anyCode.Stderr(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "Error: boom", stderr)

	_, err = dag.Container().From("alpine:3.20").WithExec([]string{"terraform", "validate"}).Sync(t.Context())
	require.NoError(t, err, "other execs succeed")
}

func TestContentAddressedKeysFilesByContentNotByTheirDirectory(t *testing.T) {
	eng, dag := New(t)
	build := func(code string) {
		src := dag.Directory().
			WithNewFile("app/requirements.lock", "a==1").
			WithNewFile("app/pkg/x.py", code)
		_, err := dag.Container().From("python:3.11").
			WithFile("/tmp/lock", src.File("app/requirements.lock")).
			WithExec([]string{"pip", "install"}).
			WithDirectory("/app/pkg", src.Directory("app").Directory("pkg")).
			Sync(t.Context())
		require.NoError(t, err)
	}
	build("print(1)")
	build("print(2)")
	var keys [][]string
	for _, c := range eng.Containers() {
		keys = append(keys, c.ContentAddressed())
	}
	require.Len(t, keys, 2)
	a, b := keys[0], keys[1]
	require.Equal(t, len(a), len(b))
	for i := range a {
		if strings.HasPrefix(a[i], "withDirectory") {
			assert.NotEqual(t, a[i], b[i], "the code step differs")
			assert.Contains(t, a[i], "content(app/pkg)=")
		} else {
			assert.Equal(t, a[i], b[i], "step %d keys the same", i)
		}
	}
	assert.Contains(t, strings.Join(a, " "), "content(app/requirements.lock)=")
}
