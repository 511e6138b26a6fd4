package cloudrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"cloud.google.com/go/storage"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
)

// GateRun is one run of the environment's gate job.
type GateRun struct {
	Gate  envrun.CloudRunGate
	RunID string
	// Args go to the gate (e.g. --commit, --runtime-image, --gate-image).
	Args    []string
	Timeout time.Duration
}

// RunGate executes the gate job with its run id, awaits it and returns the
// report it wrote to <report_uri>/<run id>/gate.json (and gate.md). The
// gate's verdict is the report's, judged by the caller's policy; its exit
// code (1 fail, 2 warn, 3 error) is only a cross-check. No report is an
// error that carries the execution's own reason and log.
func (r *Runner) RunGate(ctx context.Context, g GateRun) (envrun.Report, envrun.Result, error) {
	if err := envrun.ValidRunID(g.RunID); err != nil {
		return envrun.Report{}, envrun.Result{}, err
	}
	res, err := r.RunJob(ctx, Run{
		Name:    "quality gate",
		Job:     g.Gate.CloudRunJob,
		Env:     map[string]string{g.Gate.RunIDVariable: g.RunID},
		Args:    g.Args,
		Timeout: g.Timeout,
	})
	if err != nil {
		return envrun.Report{}, res, err
	}
	bucket, object := g.Gate.ReportObject(g.RunID)
	body, readErr := r.readObject(ctx, bucket, object)
	if readErr != nil {
		why := res.Failure("quality gate")
		if why == nil {
			why = errors.New("the quality gate job exited 0")
		}
		return envrun.Report{}, res, fmt.Errorf("no gate report at gs://%s/%s (%v); %w", bucket, object, readErr, why)
	}
	md, _ := r.readObject(ctx, bucket, strings.TrimSuffix(object, ".json")+".md")
	return envrun.Report{JSON: body, Markdown: md}, res, nil
}

func (r *Runner) readObject(ctx context.Context, bucket, object string) ([]byte, error) {
	rd, err := r.Storage.Bucket(bucket).Object(object).NewReader(ctx)
	if err != nil {
		if errors.Is(err, storage.ErrObjectNotExist) {
			return nil, errors.New("the object does not exist")
		}
		return nil, err
	}
	defer rd.Close()
	body, err := io.ReadAll(io.LimitReader(rd, envrun.MaxReport+1))
	if err != nil {
		return nil, err
	}
	if len(body) > envrun.MaxReport {
		return nil, fmt.Errorf("the report is larger than %d bytes", envrun.MaxReport)
	}
	return body, nil
}
