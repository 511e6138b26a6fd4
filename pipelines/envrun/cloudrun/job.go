package cloudrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	run "google.golang.org/api/run/v2"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
)

// Run is one execution of a Cloud Run job.
type Run struct {
	// Name says what the job is, for messages ("smoke", "quality gate").
	Name string
	Job  envrun.CloudRunJob
	// Env is added to (or overrides) the container's environment.
	Env map[string]string
	// Args are appended to the container's args for this execution.
	Args []string
	// Command, when non-empty, replaces the container's args (Args still
	// follow): another program of the same image through its entrypoint,
	// e.g. lakehouse.wap in the smoke job's runtime image.
	Command []string
	// LogLines is how many of the execution's last log lines to read even
	// when it succeeds (a command whose answer is in its log).
	LogLines int64
	Timeout  time.Duration
}

// Overrides builds jobs.run's overrides for the job's first container.
// Cloud Run REPLACES the container's args with the override's, so the
// override carries the container's own args followed by run.Args: for the
// smoke job (entrypoint command, args `python -m lakehouse.smoke`) extra
// arguments extend the module's; for the gate job (command
// `/bin/sh -c <gate.sh> quality-gate`, no args) they become "$@" of
// gate.sh, which passes them to the gate. Without run.Args the args are
// left alone. nil when there is nothing to override.
//
// command, when non-empty, replaces the container's own args instead.
func Overrides(job *run.GoogleCloudRunV2Job, env map[string]string, args []string, command ...string) *run.GoogleCloudRunV2Overrides {
	if len(env) == 0 && len(args) == 0 && len(command) == 0 {
		return nil
	}
	ctr := firstContainer(job)
	o := &run.GoogleCloudRunV2ContainerOverride{Name: ctr.Name}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o.Env = append(o.Env, &run.GoogleCloudRunV2EnvVar{Name: k, Value: env[k]})
	}
	base := ctr.Args
	if len(command) > 0 {
		base = command
	}
	if len(args) > 0 || len(command) > 0 {
		o.Args = append(append([]string{}, base...), args...)
	}
	return &run.GoogleCloudRunV2Overrides{ContainerOverrides: []*run.GoogleCloudRunV2ContainerOverride{o}}
}

func firstContainer(job *run.GoogleCloudRunV2Job) *run.GoogleCloudRunV2Container {
	if job != nil && job.Template != nil && job.Template.Template != nil && len(job.Template.Template.Containers) > 0 {
		return job.Template.Template.Containers[0]
	}
	return &run.GoogleCloudRunV2Container{}
}

// RunJob executes the job, waits until the execution completes and says
// how it ended. An execution still running at the timeout (or when ctx
// ends: a cancelled pipeline) is cancelled, so no verification outlives its
// pipeline.
func (r *Runner) RunJob(ctx context.Context, rn Run) (envrun.Result, error) {
	jobs := r.Run.Projects.Locations.Jobs
	// The job's own args are needed to extend them (overrides replace).
	job, err := jobs.Get(rn.Job.Name()).Context(ctx).Do()
	if err != nil {
		return envrun.Result{}, fmt.Errorf("read the %s job %s: %s", rn.Name, rn.Job.Job, apiMessage(err))
	}
	op, err := jobs.Run(rn.Job.Name(), &run.GoogleCloudRunV2RunJobRequest{Overrides: Overrides(job, rn.Env, rn.Args, rn.Command...)}).Context(ctx).Do()
	if err != nil {
		return envrun.Result{}, fmt.Errorf("%w: Cloud Run refused to run the %s job %s: %s", envrun.ErrNotStarted, rn.Name, rn.Job.Job, apiMessage(err))
	}
	if op.Error != nil {
		return envrun.Result{}, fmt.Errorf("%w: Cloud Run could not run the %s job %s: %s", envrun.ErrNotStarted, rn.Name, rn.Job.Job, op.Error.Message)
	}
	name, err := executionName(op)
	if err != nil {
		return envrun.Result{}, fmt.Errorf("run the %s job %s: %w", rn.Name, rn.Job.Job, err)
	}
	short := envrun.ShortName(name)
	r.say("%s job execution %s started", rn.Name, short)
	waitCtx, cancel := context.WithTimeout(ctx, rn.Timeout)
	defer cancel()
	lastState, failures := "", 0
	for {
		if err := r.wait(waitCtx); err != nil {
			return r.abandon(ctx, rn, name, err)
		}
		exec, err := jobs.Executions.Get(name).Context(waitCtx).Do()
		if err != nil {
			if waitCtx.Err() != nil {
				return r.abandon(ctx, rn, name, waitCtx.Err())
			}
			// A passing API error must not fail a verification that runs
			// for many minutes; several in a row mean it cannot be followed.
			if failures++; failures < maxPollFailures && !permanent(err) {
				r.say("%s job execution %s: cannot read its status (%s); retrying", rn.Name, short, apiMessage(err))
				continue
			}
			return r.abandon(ctx, rn, name, fmt.Errorf("%d status reads in a row failed, the last: %w", failures, err))
		}
		failures = 0
		if s := executionState(exec); s != lastState {
			r.say("%s job execution %s: %s", rn.Name, short, s)
			lastState = s
		}
		if exec.CompletionTime == "" {
			continue
		}
		res := r.outcome(ctx, exec)
		if res.ExitCode == nil || *res.ExitCode != 0 || rn.LogLines > 0 {
			res.LogTail = r.logTail(ctx, rn.Job.Project, name, max(40, rn.LogLines))
		}
		return res, nil
	}
}

// executionName reads the execution jobs.run started from the returned
// Operation's metadata (an Execution), or its response when it is done.
func executionName(op *run.GoogleLongrunningOperation) (string, error) {
	for _, raw := range [][]byte{op.Metadata, op.Response} {
		var e run.GoogleCloudRunV2Execution
		if len(raw) > 0 && json.Unmarshal(raw, &e) == nil && e.Name != "" {
			return e.Name, nil
		}
	}
	return "", fmt.Errorf("the operation %s names no execution", op.Name)
}

// executionState says where an execution is, for progress lines.
func executionState(e *run.GoogleCloudRunV2Execution) string {
	switch {
	case e.CompletionTime == "":
		if e.RunningCount > 0 {
			return "running"
		}
		return "pending"
	case e.CancelledCount > 0:
		return "cancelled"
	case e.FailedCount > 0:
		return "failed"
	}
	return "succeeded"
}

// abandon cancels an execution the pipeline no longer waits for.
func (r *Runner) abandon(ctx context.Context, rn Run, name string, cause error) (envrun.Result, error) {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, stopErr := r.Run.Projects.Locations.Jobs.Executions.Cancel(name, &run.GoogleCloudRunV2CancelExecutionRequest{}).Context(stopCtx).Do()
	short := envrun.ShortName(name)
	why := "it was cancelled"
	if stopErr != nil {
		why = "cancelling it failed too (" + apiMessage(stopErr) + "); cancel it by hand: gcloud run jobs executions cancel " + short + " --project " + rn.Job.Project + " --region " + rn.Job.Region
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		return envrun.Result{TaskARN: name}, fmt.Errorf("the %s job execution %s did not finish within %s; %s", rn.Name, short, rn.Timeout, why)
	}
	return envrun.Result{TaskARN: name}, fmt.Errorf("the %s job execution %s was abandoned (%v); %s", rn.Name, short, cause, why)
}
