package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

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
	// Read the files concurrently: one round trip for all of them.
	files := map[string][]byte{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, name := range names {
		if !strings.HasSuffix(name, ".tfvars") {
			continue
		}
		g.Go(func() error {
			contents, err := dir.File(name).Contents(gctx)
			if err != nil {
				return fmt.Errorf("read %s/%s: %w", environment.Dir, name, err)
			}
			mu.Lock()
			files[path.Join(environment.Dir, name)] = []byte(contents)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return environment.NewCatalog(files)
}

// Environments prints the environment catalog as JSON: `names` (the usable
// environments, what workflows build their job matrix from), each
// environment's files, and `invalid` files with the reason. An invalid file
// is reported here and fails the lint and test checks, but never blocks the
// other environments.
func (m *Lakehouse) Environments(ctx context.Context) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	catalog, err := m.environments(ctx)
	if err != nil {
		return "", err
	}
	out, err := json.MarshalIndent(catalog.Listing(), "", "  ")
	if err != nil {
		return "", fmt.Errorf("environments: %w", err)
	}
	return string(out) + "\n", nil
}
