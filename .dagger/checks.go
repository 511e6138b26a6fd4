package main

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"dagger/lakehouse/internal/dagger"
)

// gofmtCheck fails with the list of files gofmt would change; gofmt itself
// exits 0 either way.
const gofmtCheck = `unformatted=$(gofmt -l .); if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi`

// Lint runs every formatter and linter the repository uses: gofmt and go
// vet, terraform fmt on the Terraform roots, ruff on the Dagster project and
// actionlint on the GitHub workflows. Linters run in parallel; a part of the
// repository that is absent is skipped.
// +check
func (m *Lakehouse) Lint(ctx context.Context) (rerr error) {
	defer surfaceTo(&rerr)
	linters := map[string]*dagger.Container{
		"gofmt and go vet": m.goSource().
			WithExec([]string{"sh", "-c", gofmtCheck}).
			WithExec([]string{"go", "vet", "./..."}),
	}
	var tfDirs []string
	for _, dir := range []string{"aws", "gcp", "environments", "ci-identity"} {
		ok, err := m.hasPath(ctx, dir)
		if err != nil {
			return err
		}
		if ok {
			tfDirs = append(tfDirs, dir)
		}
	}
	if len(tfDirs) > 0 {
		linters["terraform fmt"] = m.terraformFmt(tfDirs)
	}
	if ok, err := m.hasPath(ctx, ".github"); err != nil {
		return err
	} else if ok {
		ctr, err := m.actionlint(ctx)
		if err != nil {
			return err
		}
		linters["actionlint"] = ctr
	}
	if ok, err := m.hasPath(ctx, "dagster"); err != nil {
		return err
	} else if ok {
		linters["ruff"] = m.ruff()
	}
	return runAll(ctx, linters)
}

func (m *Lakehouse) terraformFmt(dirs []string) *dagger.Container {
	ctr := dag.Container().
		From(m.TerraformImage).
		WithEnvVariable("TF_IN_AUTOMATION", "1").
		WithDirectory(srcPath, m.Source, dagger.ContainerWithDirectoryOpts{Include: []string{"aws/**", "gcp/**", "environments/**", "ci-identity/**"}}).
		WithWorkdir(srcPath)
	for _, dir := range dirs {
		ctr = ctr.WithExec([]string{"terraform", "fmt", "-check", "-recursive", "-diff", "-no-color", dir})
	}
	return ctr
}

// actionlint names the workflow files: without arguments it looks for the
// repository through .git, which the module's source leaves out.
func (m *Lakehouse) actionlint(ctx context.Context) (*dagger.Container, error) {
	const dir = ".github/workflows"
	entries, err := m.Source.Directory(dir).Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	args := []string{"-color=false"}
	for _, name := range entries {
		if strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml") {
			args = append(args, dir+"/"+name)
		}
	}
	return dag.Container().
		From(m.ActionlintImage).
		WithDirectory(srcPath, m.Source, dagger.ContainerWithDirectoryOpts{Include: []string{".github/**"}}).
		WithWorkdir(srcPath).
		WithExec(args, dagger.ContainerWithExecOpts{UseEntrypoint: true}), nil
}

// Test runs every test suite: the Go packages (with the pinned terraform
// binary, so host tests exercise the real CLI), the module harness and the
// Dagster project's pytest suite.
// +check
func (m *Lakehouse) Test(ctx context.Context) (rerr error) {
	defer surfaceTo(&rerr)
	suites := map[string]*dagger.Container{
		// The same suites as make test, including terraform test of aws/
		// against mocked providers: here the providers come from the
		// registry through their own cache volume, and a failed install
		// fails the suite instead of skipping it.
		"go test": m.goSource().
			WithFile("/usr/local/bin/terraform", m.terraformBin()).
			WithMountedCache(pluginCachePath, dag.CacheVolume(testPluginCacheVolume), dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
			WithEnvVariable("TF_PLUGIN_CACHE_DIR", pluginCachePath).
			WithEnvVariable("INFRA_REQUIRE_TERRAFORM_TEST", "1").
			WithExec([]string{"go", "test", "./..."}),
		// resolve: the module's go.mod as the engine resolves it on load.
		"module harness": m.goSource().
			WithExec([]string{"go", "run", "./tools/modharness", "resolve"}).
			WithExec([]string{"go", "run", "./tools/modharness", "test"}),
	}
	if ok, err := m.hasPath(ctx, "dagster"); err != nil {
		return err
	} else if ok {
		suites["pytest"] = m.pytest()
	}
	return runAll(ctx, suites)
}

// runAll evaluates the containers in parallel and names the one that failed.
func runAll(ctx context.Context, named map[string]*dagger.Container) error {
	g, ctx := errgroup.WithContext(ctx)
	for name, ctr := range named {
		g.Go(func() error {
			if _, err := ctr.Sync(ctx); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
	}
	return g.Wait()
}
