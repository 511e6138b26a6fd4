package main

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// environments reads environments/*.tfvars from the source and returns the
// validated catalog: adding an environment is adding files, never code.
func (m *Lakehouse) environments(ctx context.Context) (*environment.Catalog, error) {
	dir := m.Source.Directory(environment.Dir)
	names, err := dir.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s/: %w (the repository needs an environments/ folder with one <env>.tfvars per environment)", environment.Dir, err)
	}
	files := map[string][]byte{}
	for _, name := range names {
		if !strings.HasSuffix(name, ".tfvars") {
			continue
		}
		contents, err := dir.File(name).Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", environment.Dir, name, err)
		}
		files[path.Join(environment.Dir, name)] = []byte(contents)
	}
	return environment.NewCatalog(files)
}
