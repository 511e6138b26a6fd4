package cloudrun

import (
	"context"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	run "google.golang.org/api/run/v2"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun/cloudruntest"
)

// The gate job as gcp/quality_gate.tf defines it: gate.sh in the command,
// no args, so the gate's arguments become the script's "$@".
const (
	gateJob    = "lake-qa-quality-gate"
	gateScript = "set -u\npython -m lakehouse.quality.gate ... \"$@\"\n"
	bucket     = "lake-qa-lakehouse"
)

var gateCommand = []string{"/bin/sh", "-c", gateScript, "quality-gate"}

func gateTarget() envrun.CloudRunGate {
	return envrun.CloudRunGate{CloudRunJob: envrun.CloudRunJob{Launcher: envrun.LauncherCloudRunJob, Job: gateJob, Project: cloudruntest.Project, Region: cloudruntest.Region},
		RunIDVariable: "GATE_RUN_ID", ReportURI: "gs://" + bucket + "/quality"}
}

// gateWorld defines the gate job ending as lifecycle says; with report set,
// each execution writes its report to the bucket under its GATE_RUN_ID, as
// gate.sh does.
func gateWorld(t *testing.T, report bool, lifecycle ...*run.GoogleCloudRunV2Execution) *cloudruntest.Server {
	f := cloudruntest.New(t)
	f.GCS.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	f.Job(gateJob, &run.GoogleCloudRunV2Container{Image: "europe-west1-docker.pkg.dev/lake-qa-1234/lakehouse/gate@sha256:bb", Command: gateCommand,
		Env: []*run.GoogleCloudRunV2EnvVar{{Name: "GATE_REPORT_URI", Value: "gs://" + bucket + "/quality"}}}, lifecycle...)
	if report {
		f.OnRun(gateJob, func(st cloudruntest.Started) {
			prefix := "quality/" + st.Env["GATE_RUN_ID"] + "/"
			f.GCS.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: prefix + "gate.json"}, Content: []byte(`{"outcome":"fail"}`)})
			f.GCS.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: prefix + "gate.md"}, Content: []byte("# fail")})
		})
	}
	return f
}

func TestRunGateReadsTheReportFromGCSWhateverTheOutcome(t *testing.T) {
	f := gateWorld(t, true, cloudruntest.Running(), cloudruntest.Failed("Task lake-qa-quality-gate-r0001-task0 failed with message: The container exited with an error."))
	f.Attempt(gateJob, &run.GoogleCloudRunV2TaskAttemptResult{ExitCode: 1})
	r, _ := runner(t, f)
	report, res, err := r.RunGate(context.Background(), GateRun{Gate: gateTarget(), RunID: "rel-1", Args: []string{"--commit", "abc"}, Timeout: time.Minute})
	require.NoError(t, err, "a failing gate still reports; the policy judges it")
	assert.JSONEq(t, `{"outcome":"fail"}`, string(report.JSON))
	assert.Equal(t, "# fail", string(report.Markdown))
	assert.Equal(t, int32(1), *res.ExitCode)

	st := f.Started()[0]
	o := st.Request.Overrides.ContainerOverrides[0]
	require.Len(t, o.Env, 1)
	assert.Equal(t, "GATE_RUN_ID", o.Env[0].Name)
	assert.Equal(t, "rel-1", o.Env[0].Value)
	assert.Equal(t, []string{"--commit", "abc"}, o.Args, "the job has no args of its own: the override is the gate's arguments")
	assert.Equal(t, []string{"/bin/sh", "-c", gateScript, "quality-gate", "--commit", "abc"}, st.Argv,
		`the container runs gate.sh with $0 = quality-gate and "$@" = the gate's arguments`)
	assert.Equal(t, "gs://"+bucket+"/quality", st.Env["GATE_REPORT_URI"], "the job's own environment stays")
}

func TestRunGateWithoutAReportSaysWhy(t *testing.T) {
	f := gateWorld(t, false, cloudruntest.Failed("Task lake-qa-quality-gate-r0001-task0 failed with message: The container exited with an error."))
	f.Attempt(gateJob, &run.GoogleCloudRunV2TaskAttemptResult{ExitCode: 3})
	f.Logs(gateJob, "quality gate: cannot upload the report to gs://lake-qa-lakehouse/quality/rel-1")
	r, _ := runner(t, f)
	_, _, err := r.RunGate(context.Background(), GateRun{Gate: gateTarget(), RunID: "rel-1", Timeout: time.Minute})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no gate report at gs://lake-qa-lakehouse/quality/rel-1/gate.json (the object does not exist)")
	assert.Contains(t, err.Error(), "exited with 3")
	assert.Contains(t, err.Error(), "cannot upload the report")
}

func TestRunGateRefusesABadRunID(t *testing.T) {
	f := gateWorld(t, true, cloudruntest.Succeeded())
	r, _ := runner(t, f)
	_, _, err := r.RunGate(context.Background(), GateRun{Gate: gateTarget(), RunID: "../other", Timeout: time.Minute})
	require.Error(t, err)
	assert.Empty(t, f.Started(), "nothing starts")
}
