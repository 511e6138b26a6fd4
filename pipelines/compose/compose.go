// Package compose loads the Dagster stack's compose files exactly as
// `docker compose -f … --env-file .env.<env> --project-name …` does, with
// compose-go (the library docker compose is built on), so overlay merging,
// interpolation and profiles are the real ones and not a YAML reading.
package compose

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// Base and ProdOverlay are the compose files of the Dagster project.
const (
	Base        = "docker-compose.yaml"
	ProdOverlay = "docker-compose.prod.yaml"
)

// Files returns the compose files an environment runs with: the base file,
// plus the production overlay for prod.
func Files(env string) []string {
	if env == "prod" {
		return []string{Base, ProdOverlay}
	}
	return []string{Base}
}

// Load reads the compose project in dir for one environment. envFile is the
// --env-file (relative to dir); extra adds variables as the shell would
// (e.g. secrets injected at deploy time). The OS environment is not read, so
// the result depends only on the repository and the arguments.
func Load(ctx context.Context, dir, envFile, project string, files []string, extra map[string]string) (*types.Project, error) {
	var env []string
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f)
	}
	opts, err := cli.NewProjectOptions(paths,
		cli.WithWorkingDirectory(dir),
		cli.WithName(project),
		cli.WithEnv(env),
		cli.WithEnvFiles(filepath.Join(dir, envFile)),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(),
	)
	if err != nil {
		return nil, fmt.Errorf("compose %s (%s, --env-file %s): %w", project, dir, envFile, err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose %s (%s, --env-file %s): %w", project, dir, envFile, err)
	}
	return p, nil
}
