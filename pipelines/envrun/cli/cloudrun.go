package cli

import (
	"context"
	"time"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun"
)

// gcpConnectFunc builds the Cloud Run runner (optionally for one endpoint).
type gcpConnectFunc func(ctx context.Context, endpoint string) (*cloudrun.Runner, error)

// gcpRunner resolves Application Default Credentials once, up front, and
// builds the clients with them; --endpoint (local test servers) sends every
// call there unauthenticated instead.
func gcpRunner(ctx context.Context, endpoint string) (*cloudrun.Runner, error) {
	if endpoint != "" {
		return cloudrun.Connect(ctx, cloudrun.Options{Endpoint: endpoint})
	}
	creds, err := cloudrun.DefaultCredentials(ctx)
	if err != nil {
		return nil, err
	}
	return cloudrun.Connect(ctx, cloudrun.Options{Credentials: creds})
}

// cloudRunVerifier runs the verbs as Cloud Run jobs (gcp/). Executions take
// no tag, so --started-by is not used here.
type cloudRunVerifier struct {
	r *cloudrun.Runner
}

func (v cloudRunVerifier) services(ctx context.Context, outs envrun.Outputs, timeout time.Duration) (int, error) {
	return len(outs.CloudRunServices.Services), v.r.WaitServices(ctx, *outs.CloudRunServices, outs.DagsterImage, timeout)
}

func (v cloudRunVerifier) smoke(ctx context.Context, outs envrun.Outputs, o options) (envrun.Result, error) {
	return v.r.RunJob(ctx, cloudrun.Run{Name: "smoke", Job: *outs.SmokeJob, Args: o.args, Timeout: o.timeout})
}

func (v cloudRunVerifier) gate(ctx context.Context, outs envrun.Outputs, o options) (envrun.Report, envrun.Result, error) {
	return v.r.RunGate(ctx, cloudrun.GateRun{Gate: *outs.GateJob, RunID: o.runID, Args: o.args, Timeout: o.timeout})
}

func (v cloudRunVerifier) wap(ctx context.Context, outs envrun.Outputs, o options) (envrun.Result, error) {
	return v.r.RunJob(ctx, cloudrun.Run{Name: "lakehouse.wap", Job: *outs.SmokeJob, Command: envrun.WapCommand(), Args: o.args,
		LogLines: envrun.WapLogLines, Timeout: o.timeout})
}

func (v cloudRunVerifier) close() { _ = v.r.Close() }
