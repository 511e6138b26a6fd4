// The lakehouse module is the whole CI/CD of the iceberg-lakehouse
// repository: lint and test, Terraform per environment, the Dagster image,
// the local stack and the quality gate. The same functions run on a laptop
// (`dagger call …`) and in GitHub Actions.
//
// Decisions live in the plain-Go packages under pipelines/; this module turns
// them into containers, caches, secrets and services.
package main

import (
	"fmt"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/images"
)

// Lakehouse is the module's main object.
type Lakehouse struct {
	// The repository: Terraform roots, environments, the Dagster project.
	// +private
	Source *dagger.Directory

	// Image references after defaults, overrides and the mirror are applied.
	// +private
	GoImage string
	// +private
	TerraformImage string
	// +private
	PythonImage string
	// +private
	ActionlintImage string
	// +private
	RegistryImage string
	// Registry mirror for images named outside the catalog (the stack's).
	// +private
	RegistryMirror string

	// Cloud credentials, set by WithAwsCredentials / WithGcpCredentials.
	// +private
	AwsAccessKeyID *dagger.Secret
	// +private
	AwsSecretAccessKey *dagger.Secret
	// +private
	AwsSessionToken *dagger.Secret
	// +private
	GcpCredentials *dagger.Secret

	// Registry credentials for publish, set by WithRegistryAuth.
	// +private
	RegistryHost string
	// +private
	RegistryUsername string
	// +private
	RegistryPassword *dagger.Secret
}

// New configures the module for one repository checkout.
func New(
	// The repository checkout. Defaults to the repository holding dagger.json;
	// Terraform working state, virtualenvs, downloaded test jars, caches, local secrets, tool output
	// the bindings `dagger develop` generates and the credentials file
	// google-github-actions/auth writes into the workspace stay out, so they
	// never change what the checks see, miss their cache or enter a container.
	// +defaultPath="/"
	// +ignore=[".git", "**/.terraform", "**/*.tfstate", "**/*.tfstate.*", "**/.terraform.tfstate.lock.info", "**/*.tfplan", "**/crash.log", "**/.venv", "**/.venv-*", "**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.ruff_cache", "**/.mypy_cache", "**/.coverage", "**/htmlcov", "**/node_modules", "**/.env", "**/*.pem", "**/*.key", "**/credentials.json", "gha-creds-*.json", "**/.dagster_home", "**/dagster_home", "**/.tmp_dagster_home_*", "**/.soda", "**/.local-warehouse", "tests/iceberg-rest/lib", "dagster/gate*.json", "dagster/gate*.md", ".dagger/dagger.gen.go", ".dagger/internal/dagger", ".dagger/internal/querybuilder", ".dagger/internal/telemetry", "**/.DS_Store", "**/.idea", "**/.vscode", "**/*.swp", "/bin", "/out"]
	source *dagger.Directory,
	// Go toolchain image for gofmt, go vet and go test. Default: the pinned image in pipelines/images.
	// +optional
	goImage string,
	// Terraform CLI image. Default: the pinned image in pipelines/images.
	// +optional
	terraformImage string,
	// Python image for ruff and pytest. Default: the pinned image in pipelines/images.
	// +optional
	pythonImage string,
	// actionlint image. Default: the pinned image in pipelines/images.
	// +optional
	actionlintImage string,
	// OCI registry image ci runs as an ephemeral service. Default: the
	// pinned image in pipelines/images.
	// +optional
	registryImage string,
	// Pull every default image through this registry mirror, e.g.
	// "registry.corp.example/dockerhub". Explicit image arguments are used as given.
	// +optional
	registryMirror string,
) (*Lakehouse, error) {
	catalog, err := images.Defaults().WithMirror(registryMirror)
	if err != nil {
		return nil, err
	}
	catalog, err = catalog.Override(map[string]string{
		"go":         goImage,
		"terraform":  terraformImage,
		"python":     pythonImage,
		"actionlint": actionlintImage,
		"registry":   registryImage,
	})
	if err != nil {
		return nil, fmt.Errorf("constructor arguments: %w", err)
	}
	return &Lakehouse{
		Source:          source,
		GoImage:         catalog.Go,
		TerraformImage:  catalog.Terraform,
		PythonImage:     catalog.Python,
		ActionlintImage: catalog.Actionlint,
		RegistryImage:   catalog.Registry,
		RegistryMirror:  registryMirror,
	}, nil
}
