package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/images"
)

func TestLintRunsEveryLinterInPinnedImages(t *testing.T) {
	m, eng := newModule(t)
	serveRepo(t, eng, repoRoot(t))
	require.NoError(t, m.Lint(t.Context()))

	def := images.Defaults()
	for _, ref := range eng.Images() {
		requirePinned(t, ref)
	}
	assert.ElementsMatch(t, []string{def.Go, def.Terraform, def.Actionlint, def.Python}, eng.Images())

	ruff := eng.ContainerFrom(def.Python)
	assert.Equal(t, []string{
		"python -m venv /opt/venv",
		"/opt/venv/bin/pip install --no-input --no-deps --require-hashes -r /tmp/locks/requirements-dev.lock",
		"/opt/venv/bin/pip check",
		"/opt/venv/bin/ruff check .",
		"/opt/venv/bin/ruff format --check .",
	}, ruff.ExecLines())

	golang := eng.ContainerFrom(def.Go)
	assert.Equal(t, []string{
		"go mod download",
		`sh -c ` + gofmtCheck,
		"go vet ./...",
	}, golang.ExecLines())

	tf := eng.ContainerFrom(def.Terraform)
	assert.Equal(t, []string{
		"terraform fmt -check -recursive -diff -no-color aws",
		"terraform fmt -check -recursive -diff -no-color gcp",
		"terraform fmt -check -recursive -diff -no-color environments",
		"terraform fmt -check -recursive -diff -no-color ci-identity",
	}, tf.ExecLines())
	assert.Equal(t, "1", tf.Env()["TF_IN_AUTOMATION"])

	// The source has no .git, so actionlint must be given the files.
	workflows, err := filepath.Glob(filepath.Join(repoRoot(t), ".github", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, workflows)
	want := []string{"-color=false"}
	for _, w := range workflows {
		want = append(want, ".github/workflows/"+filepath.Base(w))
	}
	lint := eng.ContainerFrom(def.Actionlint)
	assert.Equal(t, [][]string{want}, lint.Execs(), "actionlint runs through the image entrypoint on every workflow")
	assert.Equal(t, "/src", lint.Workdir())
}

func TestLintSkipsTerraformAndWorkflowsWhenAbsent(t *testing.T) {
	m, eng := newModule(t, "go.mod", "pipelines/")
	require.NoError(t, m.Lint(t.Context()))
	assert.Equal(t, []string{images.Defaults().Go}, eng.Images())
}

func TestGoContainersCacheModulesKeyedOnGoModBeforeSource(t *testing.T) {
	m, eng := newModule(t)
	require.NoError(t, m.Lint(t.Context()))
	golang := eng.ContainerFrom(images.Defaults().Go)

	caches := golang.Caches()
	assert.Equal(t, "iceberg-lakehouse-go-mod", caches["/go/pkg/mod"].Key)
	assert.Equal(t, "iceberg-lakehouse-go-build", caches["/root/.cache/go-build"].Key)

	// go.mod and go.sum arrive, modules download, and only then the source:
	// a source edit must not invalidate the download layer.
	goMod := stepIndex(golang, "withFile", "path", "/src/go.mod")
	goSum := stepIndex(golang, "withFile", "path", "/src/go.sum")
	download := stepIndex(golang, "withExec", "args", "go")
	source := stepIndex(golang, "withDirectory", "path", "/src")
	require.True(t, goMod >= 0 && goSum >= 0 && download >= 0 && source >= 0, golang.String())
	assert.Less(t, goMod, download)
	assert.Less(t, goSum, download)
	assert.Less(t, download, source)
	assert.Equal(t, "-mod=readonly", golang.Env()["GOFLAGS"])
}

func TestTestRunsGoSuitesWithThePinnedTerraformBinary(t *testing.T) {
	m, eng := newModule(t)
	require.NoError(t, m.Test(t.Context()))

	var goTest, harness bool
	for _, c := range eng.Containers() {
		if c.From() != images.Defaults().Go {
			continue
		}
		lines := c.ExecLines()
		switch lines[len(lines)-1] {
		case "go test ./...":
			goTest = true
			assert.Contains(t, c.FileMounts()["/usr/local/bin/terraform"], `from(address:`+images.Defaults().Terraform+`)`,
				"host tests must run the terraform binary users get")
			// Parity with make test: terraform test of aws/ runs, with
			// registry providers cached, and may not silently skip.
			assert.Equal(t, "1", c.Env()["INFRA_REQUIRE_TERRAFORM_TEST"])
			assert.Equal(t, pluginCachePath, c.Env()["TF_PLUGIN_CACHE_DIR"])
			assert.Equal(t, "iceberg-lakehouse-terraform-plugins-test", c.Caches()[pluginCachePath].Key)
		case "go run ./tools/modharness test":
			harness = true
			assert.Contains(t, lines, "go run ./tools/modharness resolve",
				"the module's go.mod must be checked as the engine resolves it")
		}
	}
	assert.True(t, goTest, "go test ./... was not run")
	assert.True(t, harness, "the module harness was not run")
}

func TestImagesCanBeOverriddenOrMirrored(t *testing.T) {
	_, _ = newModule(t)
	m, err := New(dag.Directory(), "", "mirror.example/hashicorp/terraform:1.11.4", "", "", "", "")
	require.NoError(t, err)
	assert.Equal(t, "mirror.example/hashicorp/terraform:1.11.4", m.TerraformImage)
	assert.Equal(t, images.Defaults().Go, m.GoImage)

	m, err = New(dag.Directory(), "", "", "", "", "", "registry.corp.example/dockerhub")
	require.NoError(t, err)
	for _, ref := range []string{m.GoImage, m.TerraformImage, m.PythonImage, m.ActionlintImage, m.RegistryImage} {
		assert.Regexp(t, `^registry\.corp\.example/dockerhub/`, ref)
	}
}

func TestUnpinnedImageOverrideIsRefused(t *testing.T) {
	_, _ = newModule(t)
	_, err := New(dag.Directory(), "", "hashicorp/terraform", "", "", "", "")
	require.ErrorContains(t, err, "neither tag nor digest")
	_, err = New(dag.Directory(), "golang:latest", "", "", "", "", "")
	require.ErrorContains(t, err, ":latest")
}

func TestPythonDependenciesInstallFromTheLockFileBeforeTheSource(t *testing.T) {
	m, eng := newModule(t, "dagster/")
	require.NoError(t, m.Test(t.Context()))
	py := eng.ContainerFrom(images.Defaults().Python)

	assert.Equal(t, "iceberg-lakehouse-pip", py.Caches()["/root/.cache/pip"].Key)
	assert.Contains(t, py.Directories()["/src/pipelines/environment/testdata"], "directory(path:pipelines/environment/testdata)",
		"pytest runs the tables the Go readers run too")
	assert.Contains(t, py.FileMounts()["/tmp/locks/requirements-dev.lock"], "requirements-dev.lock")
	assert.Contains(t, py.FileMounts()["/tmp/locks/requirements-soda.lock"], "requirements-soda.lock")
	lock := stepIndex(py, "withFile", "path", "/tmp/locks/requirements-dev.lock")
	install := stepIndex(py, "withExec", "args", "/opt/venv/bin/pip")
	source := stepIndex(py, "withDirectory", "path", "/src/dagster")
	require.True(t, lock >= 0 && install >= 0 && source >= 0, py.String())
	assert.Less(t, lock, install)
	assert.Less(t, install, source, "a source edit must not reinstall dependencies")

	lines := py.ExecLines()
	assert.Equal(t, "/opt/venv/bin/python -m pytest -p no:cacheprovider", lines[len(lines)-1])
	assert.Contains(t, lines, "/opt/venv-soda/bin/pip install --no-input --no-deps --require-hashes -r /tmp/locks/requirements-soda.lock")
	assert.Equal(t, "/opt/venv-soda/bin/python", py.Env()["LAKEHOUSE_SODA_PYTHON"])
	assert.Equal(t, "1", py.Env()["LAKEHOUSE_REQUIRE_SODA"], "the gate tests must not skip Soda")
}
