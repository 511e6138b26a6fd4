package cloudrun

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	run "google.golang.org/api/run/v2"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun/cloudruntest"
)

// The smoke job as gcp/dagster_smoke.tf defines it: the deployed
// entrypoint as command, the smoke module as args.
const smokeJob = "lake-qa-dagster-smoke"

var smokeCommand = []string{"/bin/sh", "-c", "set -eu\nexec \"$@\"\n", "dagster-entrypoint"}

func smokeContainer() *run.GoogleCloudRunV2Container {
	return &run.GoogleCloudRunV2Container{Image: dagsterImage, Command: smokeCommand, Args: []string{"python", "-m", "lakehouse.smoke"},
		Env: []*run.GoogleCloudRunV2EnvVar{{Name: "LAKEHOUSE_ENVIRONMENT", Value: "zzfixture"}}}
}

func smokeRun(timeout time.Duration, args ...string) Run {
	return Run{Name: "smoke", Job: envrun.CloudRunJob{Launcher: envrun.LauncherCloudRunJob, Job: smokeJob, Project: cloudruntest.Project, Region: cloudruntest.Region},
		Args: args, Timeout: timeout}
}

const firstExecution = "projects/lake-qa-1234/locations/europe-west1/jobs/lake-qa-dagster-smoke/executions/lake-qa-dagster-smoke-r0001"

func TestRunJobThatSucceeds(t *testing.T) {
	f := cloudruntest.New(t)
	f.Job(smokeJob, smokeContainer(), cloudruntest.Pending(), cloudruntest.Running(), cloudruntest.Succeeded())
	r, progress := runner(t, f)
	res, err := r.RunJob(context.Background(), smokeRun(time.Minute))
	require.NoError(t, err)
	require.NoError(t, res.Failure("smoke"))
	assert.Equal(t, firstExecution, res.TaskARN, "the result names the execution")
	assert.Equal(t, int32(0), *res.ExitCode)
	assert.Empty(t, f.LogRequests(), "a clean exit reads no log")
	started := f.Started()
	require.Len(t, started, 1)
	assert.Nil(t, started[0].Request.Overrides, "nothing to override: the job runs as defined")
	assert.Equal(t, append(append([]string{}, smokeCommand...), "python", "-m", "lakehouse.smoke"), started[0].Argv)
	assert.Equal(t, []string{
		"smoke job execution lake-qa-dagster-smoke-r0001 started",
		"smoke job execution lake-qa-dagster-smoke-r0001: pending",
		"smoke job execution lake-qa-dagster-smoke-r0001: running",
		"smoke job execution lake-qa-dagster-smoke-r0001: succeeded",
	}, *progress)
}

// Overrides replace a container's args: extra arguments extend the job's
// own, never replace them.
func TestRunJobArgsExtendTheContainersArgs(t *testing.T) {
	f := cloudruntest.New(t)
	f.Job(smokeJob, smokeContainer(), cloudruntest.Succeeded())
	r, _ := runner(t, f)
	_, err := r.RunJob(context.Background(), smokeRun(time.Minute, "--partition", "2026-12-01"))
	require.NoError(t, err)
	st := f.Started()[0]
	require.NotNil(t, st.Request.Overrides)
	assert.Equal(t, []string{"python", "-m", "lakehouse.smoke", "--partition", "2026-12-01"}, st.Request.Overrides.ContainerOverrides[0].Args)
	assert.Equal(t, append(append([]string{}, smokeCommand...), "python", "-m", "lakehouse.smoke", "--partition", "2026-12-01"), st.Argv)
	assert.Equal(t, "zzfixture", st.Env["LAKEHOUSE_ENVIRONMENT"], "the job's environment stays")
}

func TestRunJobThatFailsWithExitCodeAndLog(t *testing.T) {
	f := cloudruntest.New(t)
	f.Job(smokeJob, smokeContainer(), cloudruntest.Running(),
		cloudruntest.Failed("Task lake-qa-dagster-smoke-r0001-task0 failed with message: The container exited with an error."))
	f.Attempt(smokeJob, &run.GoogleCloudRunV2TaskAttemptResult{ExitCode: 3, Status: &run.GoogleRpcStatus{Code: 2, Message: "The container exited with an error."}})
	var lines []string
	for i := range 45 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	f.Logs(smokeJob, append(lines, "ValueError: boom")...)
	r, _ := runner(t, f)
	res, err := r.RunJob(context.Background(), smokeRun(time.Minute))
	require.NoError(t, err, "the job ran: how it ended is the result")
	require.NotNil(t, res.ExitCode)
	assert.Equal(t, int32(3), *res.ExitCode)
	fail := res.Failure("smoke")
	require.Error(t, fail)
	assert.Contains(t, fail.Error(), "the smoke task lake-qa-dagster-smoke-r0001 exited with 3 (Task lake-qa-dagster-smoke-r0001-task0 failed with message: The container exited with an error.)")
	require.Len(t, res.LogTail, 40, "the last 40 lines")
	assert.Equal(t, "line 6", res.LogTail[0], "oldest first")
	assert.Equal(t, "ValueError: boom", res.LogTail[39], "newest last")
	assert.Contains(t, fail.Error(), "last lines of its log:\nline 6\n")
	req := f.LogRequests()[0]
	assert.Equal(t, `resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="lake-qa-dagster-smoke-r0001"`, req.Filter)
	assert.Equal(t, []string{"projects/lake-qa-1234"}, req.ResourceNames)
	assert.Equal(t, "timestamp desc", req.OrderBy)
	assert.Equal(t, int64(40), req.PageSize)
}

func TestRunJobThatNeverRan(t *testing.T) {
	f := cloudruntest.New(t)
	f.Job(smokeJob, smokeContainer(), cloudruntest.Failed("Task lake-qa-dagster-smoke-r0001-task0 failed: Image '"+dagsterImage+"' not found."))
	r, _ := runner(t, f)
	res, err := r.RunJob(context.Background(), smokeRun(time.Minute))
	require.NoError(t, err)
	assert.Nil(t, res.ExitCode, "no container ran: no exit code")
	fail := res.Failure("smoke")
	require.Error(t, fail)
	assert.Contains(t, fail.Error(), "stopped before its container ran: Task lake-qa-dagster-smoke-r0001-task0 failed: Image '"+dagsterImage+"' not found.")
}

func TestALogReadFailureNeverHidesTheJobsFailure(t *testing.T) {
	f := cloudruntest.New(t)
	f.Job(smokeJob, smokeContainer(), cloudruntest.Failed("Task failed with message: The container exited with an error."))
	f.Attempt(smokeJob, &run.GoogleCloudRunV2TaskAttemptResult{ExitCode: 1})
	f.FailLogs()
	r, _ := runner(t, f)
	res, err := r.RunJob(context.Background(), smokeRun(time.Minute))
	require.NoError(t, err)
	fail := res.Failure("smoke")
	require.Error(t, fail)
	assert.Contains(t, fail.Error(), "exited with 1")
	assert.Contains(t, fail.Error(), "(no log: read Cloud Logging: 403 Permission 'logging.logEntries.list' denied")
}

func TestRunJobCancelsWhatItStopsWaitingFor(t *testing.T) {
	f := cloudruntest.New(t)
	f.Job(smokeJob, smokeContainer(), cloudruntest.Running())
	r, _ := runner(t, f)
	_, err := r.RunJob(context.Background(), smokeRun(50*time.Millisecond))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the smoke job execution lake-qa-dagster-smoke-r0001 did not finish within 50ms; it was cancelled")
	assert.Equal(t, []string{firstExecution}, f.Cancelled(), "executions.cancel reached Cloud Run")

	// A cancelled pipeline (SIGTERM ends ctx) cancels its execution too.
	f = cloudruntest.New(t)
	f.Job(smokeJob, smokeContainer(), cloudruntest.Running())
	r, _ = runner(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	r.sleep = func(ctx context.Context, _ time.Duration) error {
		if polls++; polls == 3 {
			cancel()
		}
		return ctx.Err()
	}
	_, err = r.RunJob(ctx, smokeRun(time.Hour))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was abandoned (context canceled); it was cancelled")
	assert.Equal(t, []string{firstExecution}, f.Cancelled(), "a cancelled pipeline cancels its execution")
}

func TestRunJobRetriesPassingErrorsAndGivesUpOnARun(t *testing.T) {
	f := cloudruntest.New(t)
	f.Job(smokeJob, smokeContainer(), cloudruntest.Running(), cloudruntest.Succeeded())
	r, _ := runner(t, f)
	f.FailReads(maxPollFailures - 1)
	res, err := r.RunJob(context.Background(), smokeRun(time.Minute))
	require.NoError(t, err, "a few 503s are retried")
	require.NoError(t, res.Failure("smoke"))

	f.Job(smokeJob, smokeContainer(), cloudruntest.Running())
	f.FailReads(maxPollFailures)
	_, err = r.RunJob(context.Background(), smokeRun(time.Minute))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "5 status reads in a row failed")
	assert.Contains(t, err.Error(), "it was cancelled")
	assert.Len(t, f.Cancelled(), 1, "an execution the runner cannot follow is cancelled")
}

func TestRunJobThatDoesNotExist(t *testing.T) {
	f := cloudruntest.New(t)
	r, _ := runner(t, f)
	_, err := r.RunJob(context.Background(), smokeRun(time.Minute))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read the smoke job lake-qa-dagster-smoke: 404")
	assert.Empty(t, f.Started())
	assert.False(t, strings.Contains(err.Error(), "cancel"), "nothing ran, nothing to cancel")
}
