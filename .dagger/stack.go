package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/compose"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/images"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// composeDir is the compose project directory inside the repository.
const composeDir = "dagster"

// Stack is an environment's local stack, started as Dagger services from
// the environment's compose files (the same files `docker compose` runs):
// Postgres, the object store, the catalog and the Dagster services.
type Stack struct {
	// The environment.
	Env string
	// The compose project name, e.g. lakehouse-dev: every volume and host
	// name of the stack derives from it, so stacks run side by side.
	Project string

	// The translated compose project (JSON of compose.Spec).
	// +private
	SpecJSON string
	// The Dagster image the Dagster services run.
	// +private
	Image *dagger.Container
	// The gate image quality runs.
	// +private
	GateImage *dagger.Container
	// Whether the environment's policy refuses gate warnings.
	// +private
	WarningsBlock bool
	// The repository, for bind mounts.
	// +private
	Source *dagger.Directory
	// Secrets for the stack, by compose variable name.
	// +private
	Secrets []NamedSecret
	// The image the port proxy runs on (the pinned Python image).
	// +private
	ProxyImage string
	// Host names of the catalog and the object store (compose service
	// names), read from the environment's catalog and S3 endpoint URIs.
	// +private
	CatalogHost string
	// +private
	ObjectStoreHost string
	// Run id of this stack's one-shot jobs: every builder of one stack
	// gives them the same, so the services that wait for them are one
	// definition, started once per session (a fresh id per builder made
	// ci start the catalog again for the gate, with empty state).
	// +private
	RunID string
	// The env file's object store settings: where the stack's own ledger
	// lives (LAKEHOUSE_S3_BUCKET, S3_ENDPOINT_URL, AWS_REGION, S3_PATH_STYLE).
	// +private
	Bucket string
	// +private
	S3Endpoint string
	// +private
	S3Region string
	// +private
	S3PathStyle bool
}

// NamedSecret is a secret the stack gives to services as a compose variable.
type NamedSecret struct {
	// The compose variable, e.g. DAGSTER_POSTGRES_PASSWORD.
	Name string
	// The secret.
	Value *dagger.Secret
}

// Stack returns the environment's local stack from its compose files and
// env file (dagster/.env.<env>: COMPOSE_FILE, COMPOSE_PROFILES, ports), with
// the Dagster services on the image from build. Start it with
// `dagger call stack --env dev services up`.
// Cached per session only: the Stack carries containers that exist only in
// the session that made them (a real engine refused them in the next one).
// +cache="session"
func (m *Lakehouse) Stack(
	ctx context.Context,
	// The environment: dagster/.env.<env> and its compose files.
	env string,
	// The Dagster image. Default: build from this source.
	// +optional
	image *dagger.Container,
	// The quality-gate image. Default: gate-image from this source.
	// +optional
	gateImage *dagger.Container,
	// DAGSTER_POSTGRES_PASSWORD. Required where the compose files require it
	// (the production overlay); otherwise the compose file's throwaway local
	// value is used.
	// +optional
	postgresPassword *dagger.Secret,
	// Replace a stack service's image: NAME=REFERENCE, e.g.
	// seaweedfs=127.0.0.1:5000/s3:1 (references must be pinned).
	// +optional
	serviceImage []string,
	// The repository's git metadata (release identity of a default build).
	// +defaultPath="/"
	// +optional
	git *dagger.GitRepository,
) (_ *Stack, rerr error) {
	defer surfaceTo(&rerr)
	plan, err := m.planStack(ctx, env, postgresPassword, serviceImage)
	if err != nil {
		return nil, err
	}
	e, spec, envVars, secrets := plan.env, plan.spec, plan.vars, plan.secrets
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	if image == nil || gateImage == nil {
		id, err := m.identity(ctx, git, "", "")
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", e, err)
		}
		if image == nil {
			image = m.runtimeImage(id)
		}
		if gateImage == nil {
			gateImage = m.gateImage(id)
		}
	}
	return &Stack{
		Env:             e.Name(),
		Project:         plan.project,
		RunID:           runID(),
		SpecJSON:        string(raw),
		Image:           image,
		GateImage:       gateImage,
		WarningsBlock:   e.Promotion().WarningsBlock,
		Source:          m.Source,
		Secrets:         secrets,
		ProxyImage:      m.PythonImage,
		CatalogHost:     hostOf(envVars["ICEBERG_CATALOG_URI"]),
		ObjectStoreHost: hostOf(envVars["S3_ENDPOINT_URL"]),
		Bucket:          envVars["LAKEHOUSE_S3_BUCKET"],
		S3Endpoint:      envVars["S3_ENDPOINT_URL"],
		S3Region:        envVars["AWS_REGION"],
		S3PathStyle:     envVars["S3_PATH_STYLE"] == "true",
	}, nil
}

// stackPlan is an environment's stack as specs, before any container.
type stackPlan struct {
	env     environment.Env
	project string
	spec    *compose.Spec
	vars    map[string]string
	secrets []NamedSecret
}

// planStack reads the environment and translates its compose files with
// the given secrets and image overrides: every argument of a stack is
// checked here, before anything is built or started.
func (m *Lakehouse) planStack(ctx context.Context, env string, postgresPassword *dagger.Secret, serviceImage []string) (*stackPlan, error) {
	catalog, err := m.environments(ctx)
	if err != nil {
		return nil, err
	}
	e, err := catalog.Lookup(env)
	if err != nil {
		return nil, err
	}
	files, err := m.composeFiles(ctx, e)
	if err != nil {
		return nil, err
	}
	secrets := []NamedSecret{}
	if postgresPassword != nil {
		secrets = append(secrets, NamedSecret{Name: "DAGSTER_POSTGRES_PASSWORD", Value: postgresPassword})
	}
	project := e.ProjectName() + "-" + e.Name()
	spec, envVars, err := translateStack(ctx, files, e, project, secrets)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", e, err)
	}
	if err := m.applyServiceImages(spec, serviceImage); err != nil {
		return nil, fmt.Errorf("stack %s: %w", e, err)
	}
	return &stackPlan{env: e, project: project, spec: spec, vars: envVars, secrets: secrets}, nil
}

// composeFiles reads the compose project directory's top-level files: the
// compose files and the environment's env file.
func (m *Lakehouse) composeFiles(ctx context.Context, e environment.Env) (map[string]string, error) {
	dir := m.Source.Directory(composeDir)
	entries, err := dir.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s/: %w", composeDir, err)
	}
	envFile := ".env." + e.Name()
	files := map[string]string{}
	for _, name := range entries {
		if name != envFile && !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
			continue
		}
		contents, err := dir.File(name).Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", composeDir, name, err)
		}
		files[name] = contents
	}
	if _, ok := files[envFile]; !ok {
		return nil, fmt.Errorf("stack %s: %s/%s is missing: copy another environment's env file and set LAKEHOUSE_ENVIRONMENT=%s", e, composeDir, envFile, e)
	}
	return files, nil
}

// secretFlags are the compose variables the stack takes as secrets, and
// the argument that passes each.
var secretFlags = map[string]string{"DAGSTER_POSTGRES_PASSWORD": "--postgres-password"}

// secretFlagHint says, once, which arguments pass the secrets the compose
// files require ("" when a missing variable is not one the stack takes).
func secretFlagHint(missing []string) string {
	var flags []string
	for _, name := range missing {
		flag, ok := secretFlags[name]
		if !ok {
			return ""
		}
		flags = append(flags, fmt.Sprintf("%s env://%s (or file://, op://, vault://…)", flag, name))
	}
	return fmt.Sprintf("the compose files require %s, a secret: pass %s", strings.Join(missing, ", "), strings.Join(flags, " and "))
}

// secretPlaceholder stands in for a secret while compose interpolates, so
// the translation can tell where the secret goes without its value.
func secretPlaceholder(name string) string {
	return "lakehouse-secret-placeholder-" + strings.ToLower(name)
}

// translateStack loads the compose project as `docker compose --env-file
// .env.<env> --project-name <project>` would (compose-go needs files, so
// they are written to a temporary directory of the module's own container)
// and translates it into service specs. It also returns the env file's
// variables.
func translateStack(ctx context.Context, files map[string]string, e environment.Env, project string, secrets []NamedSecret) (*compose.Spec, map[string]string, error) {
	tmp, err := os.MkdirTemp("", "stack-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	for name, contents := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(contents), 0o600); err != nil {
			return nil, nil, err
		}
	}
	envFile := ".env." + e.Name()
	vars, err := environment.ParseDotenv(composeDir+"/"+envFile, []byte(files[envFile]))
	if err != nil {
		return nil, nil, err
	}
	placeholders := map[string]string{}
	for _, s := range secrets {
		placeholders[s.Name] = secretPlaceholder(s.Name)
	}
	p, err := compose.Load(ctx, tmp, envFile, project, placeholders)
	if err != nil {
		var missing *compose.MissingVariablesError
		if errors.As(err, &missing) {
			if msg := secretFlagHint(missing.Names()); msg != "" {
				return nil, nil, errors.New(msg)
			}
		}
		return nil, nil, fmt.Errorf("%s", strings.ReplaceAll(err.Error(), tmp, composeDir))
	}
	if vars["LAKEHOUSE_IMAGE"] == "" {
		return nil, nil, fmt.Errorf("%s/%s: LAKEHOUSE_IMAGE is not set: name the Dagster image the compose services run", composeDir, envFile)
	}
	spec, err := compose.Translate(p, compose.TranslateOptions{Secrets: placeholders, ProjectImage: vars["LAKEHOUSE_IMAGE"]})
	if err != nil {
		return nil, nil, err
	}
	return spec, vars, nil
}

// applyServiceImages pulls every stack image through the registry mirror
// and applies NAME=REFERENCE overrides.
func (m *Lakehouse) applyServiceImages(spec *compose.Spec, overrides []string) error {
	byName := map[string]string{}
	for _, o := range overrides {
		name, ref, ok := strings.Cut(strings.TrimSpace(o), "=")
		if !ok || name == "" {
			return fmt.Errorf("--service-image %q: use NAME=REFERENCE, e.g. postgres=registry.corp.example/postgres:17", o)
		}
		if err := images.Validate(ref); err != nil {
			return fmt.Errorf("--service-image %s: %w", name, err)
		}
		byName[name] = ref
	}
	known := map[string]bool{}
	for i := range spec.Services {
		svc := &spec.Services[i]
		known[svc.Name] = true
		if svc.ProjectImage {
			continue
		}
		if ref, ok := byName[svc.Name]; ok {
			svc.Image = ref
			continue
		}
		ref, err := images.Mirror(m.RegistryMirror, svc.Image)
		if err != nil {
			return err
		}
		svc.Image = ref
	}
	var unknown []string
	for name := range byName {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("--service-image: no service %s in this stack (services: %s)", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return nil
}

// hostOf is the host name of a URI ("" when it has none).
func hostOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func (s *Stack) spec() (*compose.Spec, error) {
	var spec compose.Spec
	if err := json.Unmarshal([]byte(s.SpecJSON), &spec); err != nil {
		return nil, fmt.Errorf("stack %s: %w", s.Env, err)
	}
	return &spec, nil
}

// localLedger is env's ledger in the stack's own object store.
func (s *Stack) localLedger(env string) (ledgerAt, error) {
	if s.Bucket == "" || s.S3Endpoint == "" {
		return ledgerAt{}, fmt.Errorf("stack %s: the env file names no local object store (LAKEHOUSE_S3_BUCKET and S3_ENDPOINT_URL) to keep the ledger in", s.Env)
	}
	region := s.S3Region
	if region == "" {
		region = "us-east-1"
	}
	return ledgerAt{
		Bucket:    s.Bucket,
		Region:    region,
		Endpoint:  s.S3Endpoint,
		PathStyle: s.S3PathStyle,
		Prefix:    promotion.LedgerPrefix(terraform.StateProject, env),
	}, nil
}
