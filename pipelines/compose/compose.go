// Package compose loads the Dagster stack of one environment exactly as
// `docker compose --env-file .env.<env> --project-name <project> up` run in
// the dagster/ directory does, with compose-go (the library docker compose
// is built on), so overlay merging, interpolation and profiles are the real
// ones and not a YAML reading. Which compose files an environment runs with
// is the env file's COMPOSE_FILE, read the way docker compose reads it: no
// environment name appears in this package.
package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// Load reads the compose project in dir for one environment, as
//
//	cd <dir> && docker compose --env-file <envFile> --project-name <project> config
//
// does, with extra as the variables exported in that shell (e.g. secrets
// injected at deploy time). The compose files are the env file's
// COMPOSE_FILE (':'-separated, relative to dir), or docker compose's default
// file discovery in dir when it is absent; COMPOSE_PROFILES selects the
// profiles. Variables in extra override the env file, as exported variables
// do for docker compose. The OS environment is not read, so the result
// depends only on the files and the arguments.
//
// envFile (relative to dir unless absolute) is first validated with
// environment.ParseDotenv: a file docker compose would accept but read
// differently from the pipeline (a duplicate key, $ interpolation, escapes)
// is refused with its line.
func Load(ctx context.Context, dir, envFile, project string, extra map[string]string) (*types.Project, error) {
	return load(ctx, dir, envFile, project, nil, extra)
}

// load is Load with explicit compose files (docker compose -f …), which
// replace COMPOSE_FILE as they do on the command line.
func load(ctx context.Context, dir, envFile, project string, files []string, extra map[string]string) (*types.Project, error) {
	where := fmt.Sprintf("compose %s (%s, --env-file %s)", project, dir, envFile)
	envPath := envFile
	if !filepath.IsAbs(envPath) {
		envPath = filepath.Join(dir, envFile)
	}
	raw, err := os.ReadFile(envPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (create it from .env.example)", where, err)
	}
	if _, err := environment.ParseDotenv(envPath, raw); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	var env []string
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f)
	}
	// The same steps, in the same order, as docker compose's
	// toProjectOptions, with extra standing in for the OS environment.
	opts, err := cli.NewProjectOptions(paths,
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(env),
		cli.WithEnvFiles(envPath),
		cli.WithDotEnv,
		composeFileRelativeTo(dir),
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithDefaultProfiles(),
		cli.WithName(project),
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if len(opts.ConfigPaths) == 0 {
		return nil, fmt.Errorf("%s: no compose file: set COMPOSE_FILE in %s (e.g. COMPOSE_FILE=docker-compose.yaml)", where, envFile)
	}
	p, err := loadProject(ctx, opts)
	if err != nil {
		if missing := missingVariables(err); len(missing) > 0 {
			return nil, &MissingVariablesError{Where: where, EnvFile: envFile, Missing: missing}
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return p, nil
}

// loadProject is opts.LoadProject with a panic of the library turned into
// an error: compose-go v2.16.2 dereferences nil on a document tagged !reset
// (found by FuzzLoadAndTranslate; v2.17.0 reports it instead), and a
// malformed file must get an answer, not crash the pipeline.
func loadProject(ctx context.Context, opts *cli.ProjectOptions) (p *types.Project, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("the compose loader crashed on these files (%v): look for YAML it does not handle, such as a !reset tag on the whole document", r)
		}
	}()
	return opts.LoadProject(ctx)
}

// composeFileRelativeTo makes COMPOSE_FILE's relative entries relative to
// dir. docker compose resolves them against its working directory, which
// dir stands for; cli.WithConfigFileEnv would use this process's instead.
func composeFileRelativeTo(dir string) cli.ProjectOptionsFn {
	return func(o *cli.ProjectOptions) error {
		list, ok := o.Environment[consts.ComposeFilePath]
		if !ok || len(o.ConfigPaths) > 0 {
			return nil
		}
		sep := o.Environment[consts.ComposePathSeparator]
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		entries := strings.Split(list, sep)
		for i, e := range entries {
			if e != "" && e != "-" && !filepath.IsAbs(e) {
				entries[i] = filepath.Join(dir, e)
			}
		}
		o.Environment[consts.ComposeFilePath] = strings.Join(entries, sep)
		return nil
	}
}
