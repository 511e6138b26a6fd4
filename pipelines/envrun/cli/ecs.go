package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
)

// clients is how the command reaches AWS; tests give their own.
type clients struct {
	ECS     envrun.ECS
	Logs    envrun.Logs
	Objects envrun.Objects
}

// connectFunc builds the AWS clients for a region (and optional endpoint).
type connectFunc func(ctx context.Context, region, endpoint string) (clients, error)

func awsClients(ctx context.Context, region, endpoint string) (clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return clients{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return clients{}, errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return clients{}, fmt.Errorf("no usable AWS credentials: %w", err)
	}
	var ep *string
	if endpoint != "" {
		ep = aws.String(endpoint)
	}
	return clients{
		ECS:     ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = ep }),
		Logs:    cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = ep }),
		Objects: s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = ep; o.UsePathStyle = endpoint != "" }),
	}, nil
}

// ecsVerifier runs the verbs as ECS tasks (aws/).
type ecsVerifier struct {
	r       *envrun.Runner
	objects envrun.Objects
}

func (v ecsVerifier) services(ctx context.Context, outs envrun.Outputs, timeout time.Duration) (int, error) {
	return len(outs.Services.Services), v.r.WaitServices(ctx, *outs.Services, timeout)
}

func (v ecsVerifier) smoke(ctx context.Context, outs envrun.Outputs, o options) (envrun.Result, error) {
	return v.r.RunTask(ctx, envrun.Run{Name: "smoke", Task: *outs.Smoke, Args: o.args, StartedBy: o.startedBy, Timeout: o.timeout})
}

func (v ecsVerifier) gate(ctx context.Context, outs envrun.Outputs, o options) (envrun.Report, envrun.Result, error) {
	return v.r.RunGate(ctx, v.objects, envrun.GateRun{Gate: *outs.Gate, RunID: o.runID, Args: o.args, StartedBy: o.startedBy, Timeout: o.timeout})
}

func (v ecsVerifier) wap(ctx context.Context, outs envrun.Outputs, o options) (envrun.Result, error) {
	return v.r.RunTask(ctx, envrun.Run{Name: "lakehouse.wap", Task: *outs.Smoke, Command: envrun.WapCommand(), Args: o.args,
		LogLines: envrun.WapLogLines, StartedBy: o.startedBy, Timeout: o.timeout})
}

func (ecsVerifier) close() {}
