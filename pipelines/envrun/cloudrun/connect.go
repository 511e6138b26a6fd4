package cloudrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/storage"
	logging "google.golang.org/api/logging/v2"
	"google.golang.org/api/option"
	run "google.golang.org/api/run/v2"
)

// scope covers Cloud Run, Cloud Logging and Cloud Storage.
const scope = "https://www.googleapis.com/auth/cloud-platform"

// DefaultCredentials resolves Application Default Credentials once, before
// anything starts: GOOGLE_APPLICATION_CREDENTIALS (a service account key or
// an external_account file of workload identity federation), gcloud's
// application-default login, or the metadata server of a Google Cloud
// runner. A token is fetched at once, so a broken federation setup fails
// here with a message that says what to fix, not after a job started.
func DefaultCredentials(ctx context.Context) (*auth.Credentials, error) {
	file := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS")
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{scope}})
	if err != nil {
		if file != "" {
			return nil, fmt.Errorf("no usable Google credentials: GOOGLE_APPLICATION_CREDENTIALS=%s: %w (point it at a service account key or an external_account file of workload identity federation)", file, err)
		}
		return nil, fmt.Errorf("no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service account key or an external_account file of workload identity federation: %w", err)
	}
	if _, err := creds.Token(ctx); err != nil {
		where := "Application Default Credentials"
		if file != "" {
			where = "GOOGLE_APPLICATION_CREDENTIALS=" + file
		}
		return nil, fmt.Errorf("no usable Google credentials: %s gave no token: %w (for workload identity federation check the pool provider, the token file and the service account's roles/iam.workloadIdentityUser)", where, err)
	}
	return creds, nil
}

// Options say how the runner reaches Google Cloud.
type Options struct {
	// Credentials authenticate every call; nil sends calls unauthenticated
	// (only sensible with Endpoint).
	Credentials *auth.Credentials
	// Endpoint sends Cloud Run, Cloud Logging and Cloud Storage calls to
	// one server (local fakes); empty uses Google's endpoints.
	Endpoint string
}

// Connect builds a Runner's clients.
func Connect(ctx context.Context, o Options) (*Runner, error) {
	if o.Credentials == nil && o.Endpoint == "" {
		return nil, errors.New("connect to Google Cloud: no credentials (resolve them with DefaultCredentials)")
	}
	auth := option.WithoutAuthentication()
	if o.Credentials != nil {
		auth = option.WithAuthCredentials(o.Credentials)
	}
	endpoint := func(path string) []option.ClientOption {
		if o.Endpoint == "" {
			return []option.ClientOption{auth}
		}
		return []option.ClientOption{auth, option.WithEndpoint(strings.TrimSuffix(o.Endpoint, "/") + path)}
	}
	runSvc, err := run.NewService(ctx, endpoint("/")...)
	if err != nil {
		return nil, fmt.Errorf("build the Cloud Run client: %w", err)
	}
	logSvc, err := logging.NewService(ctx, endpoint("/")...)
	if err != nil {
		return nil, fmt.Errorf("build the Cloud Logging client: %w", err)
	}
	// The report is two small objects: no client metrics to export.
	gcs, err := storage.NewClient(ctx, append(endpoint("/storage/v1/"), storage.WithDisabledClientMetrics())...)
	if err != nil {
		return nil, fmt.Errorf("build the Cloud Storage client: %w", err)
	}
	return &Runner{Run: runSvc, Logging: logSvc, Storage: gcs}, nil
}

// Close releases the Storage client's connections.
func (r *Runner) Close() error {
	if r.Storage == nil {
		return nil
	}
	return r.Storage.Close()
}
