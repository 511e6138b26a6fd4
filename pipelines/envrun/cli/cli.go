// Package cli is the envrun command (cmd/envrun): it verifies a release
// inside a deployed environment. The pipeline runs it in a container with the
// environment's credentials as secret variables (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or any other source of the AWS
// SDK's default chain; no flag takes a secret.
//
//	envrun services --outputs OUT.json [--timeout 20m]
//	envrun smoke    --outputs OUT.json [--timeout 1h] [--started-by ID] [-- ARGS]
//	envrun gate     --outputs OUT.json --run-id ID [--out DIR] [--timeout 1h] [--started-by ID] [-- GATE ARGS]
//
// OUT.json is `terraform output -json` of the applied environment. Progress
// goes to stderr; gate writes the report to DIR/gate.json and DIR/gate.md
// (without --out it prints gate.json on stdout), services and smoke print a
// one-line summary. Exit status 0 when the work finished (for gate:
// a report was read, whatever its outcome), 1 otherwise, 2 on a usage error.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/cliexit"
)

const usage = `usage:
  envrun services --outputs OUT.json [--timeout 20m]
  envrun smoke    --outputs OUT.json [--timeout 1h] [--started-by ID] [-- ARGS]
  envrun gate     --outputs OUT.json --run-id ID [--out DIR] [--timeout 1h] [--started-by ID] [-- GATE ARGS]

  OUT.json is "terraform output -json" of the applied environment.
  --endpoint URL sends every AWS call to one S3/ECS-compatible endpoint
  (local test servers). Credentials come from the environment
  (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or the AWS
  SDK's default chain, never from flags.
`

type options struct {
	outputs, runID, startedBy, endpoint, out string
	timeout                                  time.Duration
	args                                     []string
}

func parse(verb string, argv []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("envrun "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.outputs, "outputs", "", "")
	fs.StringVar(&o.runID, "run-id", "", "")
	fs.StringVar(&o.startedBy, "started-by", "lakehouse-pipeline", "")
	fs.StringVar(&o.endpoint, "endpoint", "", "")
	fs.StringVar(&o.out, "out", "", "")
	def := time.Hour
	if verb == "services" {
		def = 20 * time.Minute
	}
	fs.DurationVar(&o.timeout, "timeout", def, "")
	if err := fs.Parse(argv); err != nil {
		return o, cliexit.UsageError{Msg: err.Error()}
	}
	o.args = fs.Args()
	switch {
	case o.outputs == "":
		return o, cliexit.UsageError{Msg: "--outputs is required: the file of `terraform output -json`"}
	case o.timeout <= 0:
		return o, cliexit.UsageError{Msg: "--timeout must be positive"}
	case verb == "gate" && o.runID == "":
		return o, cliexit.UsageError{Msg: "--run-id is required: the report lands under <report_uri>/<run id>/"}
	case verb != "gate" && (o.runID != "" || o.out != ""):
		return o, cliexit.UsageError{Msg: "--run-id and --out apply to gate only"}
	case verb == "services" && len(o.args) > 0:
		return o, cliexit.UsageError{Msg: "services takes no arguments"}
	}
	return o, nil
}

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

// Run runs the command with the real AWS clients.
func Run(ctx context.Context, argv []string, stdout, stderr io.Writer) int {
	return run(ctx, argv, stdout, stderr, awsClients, nil)
}

func run(ctx context.Context, argv []string, stdout, stderr io.Writer, connect connectFunc, tune func(*envrun.Runner)) int {
	if len(argv) == 0 || (argv[0] != "services" && argv[0] != "smoke" && argv[0] != "gate") {
		fmt.Fprint(stderr, usage)
		return cliexit.Usage
	}
	verb := argv[0]
	o, err := parse(verb, argv[1:])
	if err != nil {
		fmt.Fprintf(stderr, "envrun %s: %v\n%s", verb, err, usage)
		return cliexit.Usage
	}
	if err := execute(ctx, verb, o, stdout, stderr, connect, tune); err != nil {
		fmt.Fprintf(stderr, "envrun %s: %v\n", verb, err)
		return cliexit.Failure
	}
	return cliexit.OK
}

func execute(ctx context.Context, verb string, o options, stdout, stderr io.Writer, connect connectFunc, tune func(*envrun.Runner)) error {
	raw, err := os.ReadFile(o.outputs)
	if err != nil {
		return fmt.Errorf("read the outputs: %w", err)
	}
	outs, err := envrun.ParseOutputs(raw)
	if err != nil {
		return err
	}
	if outs.Region == "" {
		return errors.New("terraform output region is empty")
	}
	c, err := connect(ctx, outs.Region, o.endpoint)
	if err != nil {
		return err
	}
	r := &envrun.Runner{ECS: c.ECS, Logs: c.Logs, Progress: func(s string) { fmt.Fprintln(stderr, s) }}
	if tune != nil {
		tune(r)
	}
	switch verb {
	case "services":
		if outs.Services == nil {
			return summary(stdout, "no Dagster services in this environment (dagster_services is null)")
		}
		if err := r.WaitServices(ctx, *outs.Services, o.timeout); err != nil {
			return err
		}
		return summary(stdout, fmt.Sprintf("%d services run the release", len(outs.Services.Services)))
	case "smoke":
		if outs.Smoke == nil {
			return errors.New("this environment defines no smoke task (smoke_run is null): enable Dagster (enable_dagster) to verify a release in it")
		}
		res, err := r.RunTask(ctx, envrun.Run{Name: "smoke", Task: *outs.Smoke, Args: o.args, StartedBy: o.startedBy, Timeout: o.timeout})
		if err != nil {
			return err
		}
		if err := res.Failure("smoke"); err != nil {
			return err
		}
		return summary(stdout, "every asset materialized (task "+res.TaskARN+")")
	default:
		if outs.Gate == nil {
			return errors.New("this environment has no quality-gate task (quality_gate is null): set gate_image, which `deploy` does from the release")
		}
		report, res, err := r.RunGate(ctx, c.Objects, envrun.GateRun{Gate: *outs.Gate, RunID: o.runID, Args: o.args, StartedBy: o.startedBy, Timeout: o.timeout})
		if err != nil {
			return err
		}
		if res.ExitCode != nil {
			fmt.Fprintf(stderr, "quality gate task exited with %d\n", *res.ExitCode)
		}
		if o.out == "" {
			_, err = stdout.Write(report.JSON)
			return err
		}
		if err := os.WriteFile(filepath.Join(o.out, "gate.json"), report.JSON, 0o644); err != nil {
			return err
		}
		if report.Markdown != nil {
			if err := os.WriteFile(filepath.Join(o.out, "gate.md"), report.Markdown, 0o644); err != nil {
				return err
			}
		}
		return summary(stdout, "report in "+o.out)
	}
}

func summary(w io.Writer, msg string) error {
	return json.NewEncoder(w).Encode(map[string]string{"summary": msg})
}
