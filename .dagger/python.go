package main

import "dagger/lakehouse/internal/dagger"

const (
	dagsterPath = srcPath + "/dagster"
	// venvPath holds Dagster, pyiceberg, DuckDB 2.x and the dev tools;
	// sodaVenvPath holds Soda Core v3, which pins DuckDB below 1.1.
	venvPath     = "/opt/venv"
	sodaVenvPath = "/opt/venv-soda"
	// sharedTables holds the cases both the Go and the Python readers run.
	sharedTables = "pipelines/environment/testdata"
	// The dependency check of the Soda lock and the pins it accepts.
	dependencyCheckScript = "/tmp/locks/check_dependencies.py"
	sodaOverrides         = "/tmp/locks/requirements-soda.overrides"
)

// pythonBase is the pinned Python with the pip download cache.
func (m *Lakehouse) pythonBase() *dagger.Container {
	return dag.Container().
		From(m.PythonImage).
		WithMountedCache("/root/.cache/pip", dag.CacheVolume(pipCacheVolume)).
		WithEnvVariable("PIP_DISABLE_PIP_VERSION_CHECK", "1").
		WithEnvVariable("PYTHONDONTWRITEBYTECODE", "1").
		WithWorkdir(dagsterPath)
}

// withVenv installs a hash-checked lock file into its own virtualenv. Only
// the lock file is in the layer, so source edits never reinstall.
func (m *Lakehouse) withVenv(ctr *dagger.Container, lockFile, venv string) *dagger.Container {
	lock := "/tmp/locks/" + lockFile
	ctr = ctr.
		WithFile(lock, m.Source.File("dagster/"+lockFile)).
		WithExec([]string{"python", "-m", "venv", venv}).
		WithExec([]string{venv + "/bin/pip", "install", "--no-input", "--no-deps", "--require-hashes", "-r", lock})
	return m.withDependencyCheck(ctr, lockFile, venv)
}

// withDependencyCheck runs `pip check` in venv, as scripts/test.sh does: for
// the Soda lock, through scripts/check_dependencies.py, which accepts the
// one conflict the lock was compiled with on purpose (soda-core-duckdb
// declares duckdb<1.1; the gate reads Iceberg with DuckDB 1.5,
// requirements-soda.overrides) and nothing else. Plain `pip check` refused
// the gate image on a real engine. Only those two small files join the
// layer's inputs.
func (m *Lakehouse) withDependencyCheck(ctr *dagger.Container, lockFile, venv string) *dagger.Container {
	if lockFile != gateLock {
		return ctr.WithExec([]string{venv + "/bin/pip", "check"})
	}
	return ctr.
		WithFile(dependencyCheckScript, m.Source.File("dagster/scripts/check_dependencies.py")).
		WithFile(sodaOverrides, m.Source.File("dagster/requirements-soda.overrides")).
		WithExec([]string{venv + "/bin/python", dependencyCheckScript, sodaOverrides})
}

// withDagsterSource adds the Dagster project last, importable from source.
func (m *Lakehouse) withDagsterSource(ctr *dagger.Container) *dagger.Container {
	return ctr.
		WithDirectory(dagsterPath, m.Source.Directory("dagster"), dagger.ContainerWithDirectoryOpts{
			Exclude: []string{".venv", ".venv-*", "**/__pycache__", ".pytest_cache", ".ruff_cache"},
		}).
		WithEnvVariable("PYTHONPATH", dagsterPath)
}

// ruff lints and checks formatting of the Dagster project with the ruff
// version pinned in its dev lock file.
func (m *Lakehouse) ruff() *dagger.Container {
	return m.withDagsterSource(m.withVenv(m.pythonBase(), "requirements-dev.lock", venvPath)).
		WithExec([]string{venvPath + "/bin/ruff", "check", "."}).
		WithExec([]string{venvPath + "/bin/ruff", "format", "--check", "."})
}

// pytest runs the Dagster project's tests with both virtualenvs: the
// quality gate runs Soda in its own interpreter.
func (m *Lakehouse) pytest() *dagger.Container {
	ctr := m.withVenv(m.pythonBase(), "requirements-dev.lock", venvPath)
	ctr = m.withVenv(ctr, gateLock, sodaVenvPath)
	return m.withDagsterSource(ctr).
		// The tables Go and Python must read alike (names, dotenv cases).
		WithDirectory(srcPath+"/"+sharedTables, m.Source.Directory(sharedTables)).
		WithEnvVariable("LAKEHOUSE_SODA_PYTHON", sodaVenvPath+"/bin/python").
		WithEnvVariable("LAKEHOUSE_REQUIRE_SODA", "1").
		WithExec([]string{venvPath + "/bin/python", "-m", "pytest", "-p", "no:cacheprovider"})
}
