package main

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"dagger/lakehouse/internal/dagger"
)

// Cache volumes are namespaced by the engine per module; the names say what
// they hold so `dagger core engine local-cache` output is readable.
const (
	goModCacheVolume   = "iceberg-lakehouse-go-mod"
	goBuildCacheVolume = "iceberg-lakehouse-go-build"
	pipCacheVolume     = "iceberg-lakehouse-pip"
)

const srcPath = "/src"

// goBase is the Go toolchain with module and build caches. Module downloads
// are keyed on go.mod/go.sum only, so a source edit never re-downloads.
func (m *Lakehouse) goBase() *dagger.Container {
	return dag.Container().
		From(m.GoImage).
		WithMountedCache("/go/pkg/mod", dag.CacheVolume(goModCacheVolume)).
		WithMountedCache("/root/.cache/go-build", dag.CacheVolume(goBuildCacheVolume)).
		WithEnvVariable("GOFLAGS", "-mod=readonly").
		WithEnvVariable("GOWORK", "off").
		WithWorkdir(srcPath).
		WithFile(srcPath+"/go.mod", m.Source.File("go.mod")).
		WithFile(srcPath+"/go.sum", m.Source.File("go.sum")).
		WithExec([]string{"go", "mod", "download"})
}

// goSource is goBase with the repository in place.
func (m *Lakehouse) goSource() *dagger.Container {
	return m.goBase().WithDirectory(srcPath, m.Source)
}

// terraformBin is the terraform executable of the pinned Terraform image, so
// Go host tests run the same binary users get.
func (m *Lakehouse) terraformBin() *dagger.File {
	return dag.Container().From(m.TerraformImage).File("/bin/terraform")
}

// hasPath reports whether the source contains the top-level entry name.
func (m *Lakehouse) hasPath(ctx context.Context, name string) (bool, error) {
	entries, err := m.Source.Entries(ctx)
	if err != nil {
		return false, fmt.Errorf("list source: %w", err)
	}
	return slices.Contains(entries, name) || slices.Contains(entries, name+"/"), nil
}

// hasFile reports whether the source contains the file at the
// repository-relative path (e.g. "aws/.terraform.lock.hcl").
func (m *Lakehouse) hasFile(ctx context.Context, rel string) (bool, error) {
	dir, name := path.Split(rel)
	entries, err := m.Source.Directory(strings.TrimSuffix(dir, "/")).Entries(ctx)
	if err != nil {
		return false, fmt.Errorf("list %s: %w", dir, err)
	}
	return slices.Contains(entries, name), nil
}
