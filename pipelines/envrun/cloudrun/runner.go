// Package cloudrun verifies a release inside a GCP environment (gcp/): it
// waits until the Dagster services (Cloud Run services) serve the apply's
// revisions with the release's image, runs the smoke and quality-gate Cloud
// Run jobs with overrides, awaits their executions, cancels one that outlives
// its timeout or a cancelled pipeline, reads the task's exit code or Cloud
// Run's reason, tails the execution's log from Cloud Logging on failure and
// reads the gate's report from Cloud Storage. It is the Cloud Run twin of
// envrun's ECS runner and returns envrun's Result and Report, so callers
// judge both clouds alike; it lives apart from envrun so that importers of
// envrun (the Dagger module) never compile Google's API clients.
package cloudrun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	logging "google.golang.org/api/logging/v2"
	run "google.golang.org/api/run/v2"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
)

// Runner starts and awaits work in one GCP environment.
type Runner struct {
	Run *run.Service
	// Logging reads the executions' logs; nil leaves failures without a
	// log tail.
	Logging *logging.Service
	Storage *storage.Client
	// Poll is the wait between two status reads (default 6 s).
	Poll time.Duration
	// Progress receives one line per state change (may be nil).
	Progress func(string)
	// sleep is a wait honouring ctx; tests replace it.
	sleep func(context.Context, time.Duration) error
}

// maxPollFailures is envrun's: both platforms give up alike.
const maxPollFailures = envrun.MaxPollFailures

func (r *Runner) wait(ctx context.Context) error {
	return envrun.Pause(ctx, envrun.PollInterval(r.Poll), r.sleep)
}

func (r *Runner) say(format string, a ...any) {
	if r.Progress != nil {
		r.Progress(fmt.Sprintf(format, a...))
	}
}

// permanent says whether an API error will not pass by retrying: a
// malformed request, missing rights or a resource that does not exist.
// Everything else (quota, 5xx, the network) may be passing.
func permanent(err error) bool {
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		return false
	}
	switch gerr.Code {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}

// apiMessage is an API error without the client's boilerplate.
func apiMessage(err error) string {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) && gerr.Message != "" {
		return fmt.Sprintf("%d %s", gerr.Code, gerr.Message)
	}
	return err.Error()
}
