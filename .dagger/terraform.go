package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

const (
	// The provider cache is shared by every environment and cloud, so it is
	// LOCKED: Terraform's plugin cache is not safe for concurrent init. Only
	// init mounts it; providers are then copied into the run's own layer, so
	// parallel plans of several environments wait for each other only while
	// initialising.
	pluginCacheVolume = "iceberg-lakehouse-terraform-plugins"
	// The Go suites' terraform test has a cache of its own, so a long test
	// run never holds the pipeline's provider cache lock.
	testPluginCacheVolume = "iceberg-lakehouse-terraform-plugins-test"
	pluginCachePath       = "/var/cache/terraform-plugins"
	gcpCredentialPath     = "/run/secrets/gcp-credentials.json"
)

// WithAwsCredentials returns the module with AWS credentials for the S3
// state backend and the AWS provider. Pass them as secrets, e.g.
// --access-key-id env://AWS_ACCESS_KEY_ID; they reach terraform only as
// secret variables.
func (m *Lakehouse) WithAwsCredentials(
	// AWS_ACCESS_KEY_ID
	accessKeyID *dagger.Secret,
	// AWS_SECRET_ACCESS_KEY
	secretAccessKey *dagger.Secret,
	// AWS_SESSION_TOKEN, for temporary credentials (OIDC, SSO, assumed roles).
	// +optional
	sessionToken *dagger.Secret,
) *Lakehouse {
	c := *m
	c.AwsAccessKeyID, c.AwsSecretAccessKey, c.AwsSessionToken = accessKeyID, secretAccessKey, sessionToken
	return &c
}

// WithGcpCredentials returns the module with a Google service account key
// (or external-account JSON) for the GCS state backend and the Google
// provider. It is mounted as a secret file, never passed as a value.
func (m *Lakehouse) WithGcpCredentials(
	// The credentials JSON, e.g. file://$HOME/.config/gcloud/application_default_credentials.json
	credentials *dagger.Secret,
) *Lakehouse {
	c := *m
	c.GcpCredentials = credentials
	return &c
}

// terraformBase is the pinned Terraform image with the repository and the
// pipeline's automation variables; credentials are added by withCredentials.
func (m *Lakehouse) terraformBase(workdir string) *dagger.Container {
	ctr := dag.Container().From(m.TerraformImage)
	for _, v := range terraform.Environ("") {
		ctr = ctr.WithEnvVariable(v.Name, v.Value)
	}
	return ctr.
		WithDirectory(srcPath, m.Source).
		WithWorkdir(srcPath + "/" + workdir)
}

// withCredentials attaches the cloud's credentials as secrets only.
func (m *Lakehouse) withCredentials(ctr *dagger.Container, cloud terraform.Cloud) *dagger.Container {
	switch cloud {
	case terraform.AWS:
		if m.AwsAccessKeyID != nil {
			ctr = ctr.WithSecretVariable("AWS_ACCESS_KEY_ID", m.AwsAccessKeyID)
		}
		if m.AwsSecretAccessKey != nil {
			ctr = ctr.WithSecretVariable("AWS_SECRET_ACCESS_KEY", m.AwsSecretAccessKey)
		}
		if m.AwsSessionToken != nil {
			ctr = ctr.WithSecretVariable("AWS_SESSION_TOKEN", m.AwsSessionToken)
		}
	case terraform.GCP:
		if m.GcpCredentials != nil {
			ctr = ctr.
				WithMountedSecret(gcpCredentialPath, m.GcpCredentials).
				WithEnvVariable("GOOGLE_APPLICATION_CREDENTIALS", gcpCredentialPath)
		}
	}
	return ctr
}

// initialized runs init (argv from pipelines/terraform) with the shared
// provider cache mounted, then copies the providers into the container so
// later steps do not hold the cache lock.
func initialized(ctr *dagger.Container, initArgv []string) *dagger.Container {
	return ctr.
		WithMountedCache(pluginCachePath, dag.CacheVolume(pluginCacheVolume), dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
		WithEnvVariable("TF_PLUGIN_CACHE_DIR", pluginCachePath).
		WithExec(initArgv).
		// init links providers into the cache; dereference the links.
		WithExec([]string{"sh", "-c", "if [ -d .terraform/providers ]; then cp -RL .terraform/providers .terraform/providers.copy && rm -rf .terraform/providers && mv .terraform/providers.copy .terraform/providers; fi"}).
		WithoutEnvVariable("TF_PLUGIN_CACHE_DIR").
		WithoutMount(pluginCachePath)
}

// runID makes every side-effecting run a new exec: without it the engine
// would answer a repeated plan or apply from its cache without running it.
func runID() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

// Validate initialises each cloud root without a backend and runs terraform
// validate, both clouds in parallel. No credentials are needed.
// +check
func (m *Lakehouse) Validate(ctx context.Context) (rerr error) {
	defer surfaceTo(&rerr)
	g, gctx := errgroup.WithContext(ctx)
	for _, cloud := range terraform.Clouds() {
		ok, err := m.hasPath(ctx, cloud.String())
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		ctr := initialized(m.terraformBase(cloud.String()), terraform.InitWithoutBackend()).
			WithExec(terraform.Validate())
		g.Go(func() error {
			if _, err := ctr.Sync(gctx); err != nil {
				return fmt.Errorf("validate %s: %w", cloud, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// target resolves user input into a validated environment and cloud.
func (m *Lakehouse) target(ctx context.Context, env, cloud string) (terraform.Target, error) {
	catalog, err := m.environments(ctx)
	if err != nil {
		return terraform.Target{}, err
	}
	e, err := catalog.Lookup(env)
	if err != nil {
		return terraform.Target{}, err
	}
	// The environment's file says where it deploys; --cloud-provider may
	// name the other root (both read the same file).
	if cloud == "" {
		cloud = e.Cloud()
	}
	c, err := terraform.ParseCloud(cloud)
	if err != nil {
		return terraform.Target{}, fmt.Errorf("--cloud-provider: %w", err)
	}
	// init runs with -lockfile=readonly; say which file is missing and how
	// to make it before terraform fails on it.
	if ok, err := m.hasFile(ctx, c.LockFile()); err != nil {
		return terraform.Target{}, err
	} else if !ok {
		return terraform.Target{}, terraform.MissingLockError(c)
	}
	return terraform.NewTarget(e, c)
}

// session is an initialised working directory of one target: the state
// backend configured with the environment's own key, credentials attached.
func (m *Lakehouse) session(t terraform.Target) *dagger.Container {
	ctr := m.withCredentials(m.terraformBase(t.Workdir()), t.Cloud()).
		WithEnvVariable("LAKEHOUSE_RUN_ID", runID())
	return initialized(ctr, t.Init())
}

// execCode runs argv accepting any exit code and returns the container and
// the code; terraform's detailed exit codes are answers, not failures.
func execCode(ctx context.Context, ctr *dagger.Container, argv []string) (*dagger.Container, int, error) {
	ctr = ctr.WithExec(argv, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	code, err := ctr.ExitCode(ctx)
	if err != nil {
		return nil, 0, err
	}
	return ctr, code, nil
}

// stderrOf and stdoutOf read a finished command's output; a read failure
// leaves the message without it rather than hiding the original failure.
func stderrOf(ctx context.Context, ctr *dagger.Container) string {
	out, _ := ctr.Stderr(ctx)
	return out
}

func stdoutOf(ctx context.Context, ctr *dagger.Container) string {
	out, _ := ctr.Stdout(ctx)
	return out
}

// errNoCredentials explains a common first-run failure before terraform does.
func (m *Lakehouse) requireCredentials(cloud terraform.Cloud) error {
	switch cloud {
	case terraform.AWS:
		if m.AwsAccessKeyID == nil || m.AwsSecretAccessKey == nil {
			return errors.New("aws credentials missing: call with-aws-credentials --access-key-id env://AWS_ACCESS_KEY_ID --secret-access-key env://AWS_SECRET_ACCESS_KEY [--session-token env://AWS_SESSION_TOKEN] before this function")
		}
	case terraform.GCP:
		if m.GcpCredentials == nil {
			return errors.New("gcp credentials missing: call with-gcp-credentials --credentials file://path/to/credentials.json before this function")
		}
	}
	return nil
}
