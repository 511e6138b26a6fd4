// Package cli is the envrun command (cmd/envrun): it verifies a release
// inside a deployed environment, on AWS (ECS tasks, envrun) or GCP (Cloud
// Run jobs, envrun/cloudrun) as the environment's outputs say. The pipeline
// runs it in a container with the environment's credentials; no flag takes
// a secret. On AWS they are secret variables (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or any other source of the AWS
// SDK's default chain; on GCP, Application Default Credentials:
// GOOGLE_APPLICATION_CREDENTIALS naming a service account key or an
// external_account file of workload identity federation, gcloud's
// application-default login, or the metadata server. They are resolved once,
// before anything starts.
//
//	envrun services --outputs OUT.json [--timeout 20m]
//	envrun smoke    --outputs OUT.json [--timeout 1h] [--started-by ID] [-- ARGS]
//	envrun gate     --outputs OUT.json --run-id ID [--out DIR] [--timeout 1h] [--started-by ID] [-- GATE ARGS]
//	envrun wap      --outputs OUT.json [--timeout 1h] [--started-by ID] -- WAP ARGS
//
// OUT.json is `terraform output -json` of the applied environment. Progress
// goes to stderr; gate writes the report to DIR/gate.json and DIR/gate.md
// (without --out it prints gate.json on stdout), services and smoke print a
// one-line summary. Exit status 0 when the work finished (for gate:
// a report was read, whatever its outcome), 1 otherwise, 2 on a usage error.
// wap runs `python -m lakehouse.wap WAP ARGS` as a one-off task of the
// smoke task's definition (the runtime image, its command replaced), prints
// the command's JSON document on stdout and exits with the command's own
// code (0 ok, 1 refused, 3 error); 1 with no document when it did not run.
// Verbs, flags, summaries and exit codes are the same on both clouds.
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

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/cliexit"
)

const usage = `usage:
  envrun services --outputs OUT.json [--timeout 20m]
  envrun smoke    --outputs OUT.json [--timeout 1h] [--started-by ID] [-- ARGS]
  envrun gate     --outputs OUT.json --run-id ID [--out DIR] [--timeout 1h] [--started-by ID] [-- GATE ARGS]
  envrun wap      --outputs OUT.json [--timeout 1h] [--started-by ID] -- WAP ARGS

  OUT.json is "terraform output -json" of the applied environment; its
  launchers say where the work runs: ECS tasks (aws/) or Cloud Run jobs (gcp/).
  Credentials come from the environment, never from flags:
    AWS: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or
         any other source of the AWS SDK's default chain.
    GCP: Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS naming
         a service account key or an external_account file of workload identity
         federation, gcloud's application-default login, or the metadata server.
  --endpoint URL sends every call to one local endpoint (test servers): on AWS
  an ECS/S3/CloudWatch-compatible one with the credentials above; on GCP Cloud
  Run, Cloud Logging and Cloud Storage, unauthenticated.
  --started-by ID tags the ECS task; Cloud Run executions take no tag.
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
	case verb == "wap" && len(o.args) == 0:
		return o, cliexit.UsageError{Msg: "wap needs the lakehouse.wap command after --, e.g. -- status --branch audit-<release id>"}
	}
	return o, nil
}

// deps is how the command reaches each cloud; tests give their own.
type deps struct {
	aws connectFunc
	gcp gcpConnectFunc
	// tune adjusts a runner before use (tests: a fast poll).
	tune    func(*envrun.Runner)
	tuneGCP func(*cloudrun.Runner)
}

// verifier runs the verbs in one cloud.
type verifier interface {
	// services waits for the Dagster services and says how many there are.
	services(ctx context.Context, outs envrun.Outputs, timeout time.Duration) (int, error)
	smoke(ctx context.Context, outs envrun.Outputs, o options) (envrun.Result, error)
	gate(ctx context.Context, outs envrun.Outputs, o options) (envrun.Report, envrun.Result, error)
	// wap runs lakehouse.wap as a task of the smoke definition, reading its log.
	wap(ctx context.Context, outs envrun.Outputs, o options) (envrun.Result, error)
	close()
}

// Run runs the command with the real AWS and Google Cloud clients.
func Run(ctx context.Context, argv []string, stdout, stderr io.Writer) int {
	return run(ctx, argv, stdout, stderr, deps{aws: awsClients, gcp: gcpRunner})
}

func run(ctx context.Context, argv []string, stdout, stderr io.Writer, d deps) int {
	if len(argv) == 0 || (argv[0] != "services" && argv[0] != "smoke" && argv[0] != "gate" && argv[0] != "wap") {
		fmt.Fprint(stderr, usage)
		return cliexit.Usage
	}
	verb := argv[0]
	o, err := parse(verb, argv[1:])
	if err != nil {
		fmt.Fprintf(stderr, "envrun %s: %v\n%s", verb, err, usage)
		return cliexit.Usage
	}
	if verb == "wap" {
		code, err := runWap(ctx, o, stdout, stderr, d)
		if err != nil {
			fmt.Fprintf(stderr, "envrun wap: %v\n", err)
			return cliexit.Failure
		}
		return code
	}
	if err := execute(ctx, verb, o, stdout, stderr, d); err != nil {
		fmt.Fprintf(stderr, "envrun %s: %v\n", verb, err)
		return cliexit.Failure
	}
	return cliexit.OK
}

func execute(ctx context.Context, verb string, o options, stdout, stderr io.Writer, d deps) error {
	raw, err := os.ReadFile(o.outputs)
	if err != nil {
		return fmt.Errorf("read the outputs: %w", err)
	}
	outs, err := envrun.ParseOutputs(raw)
	if err != nil {
		return err
	}
	// What the environment lacks is said before any credentials are needed.
	switch {
	case verb == "services" && !outs.HasServices():
		return summary(stdout, "no Dagster services in this environment (dagster_services is null)")
	case verb == "smoke" && !outs.HasSmoke():
		return errors.New("this environment defines no smoke task (smoke_run is null): enable Dagster (enable_dagster) to verify a release in it")
	case verb == "gate" && !outs.HasGate():
		return errors.New("this environment has no quality-gate task (quality_gate is null): set gate_image, which `deploy` does from the release")
	}
	v, err := d.verifier(ctx, outs, o.endpoint, func(s string) { fmt.Fprintln(stderr, s) })
	if err != nil {
		return err
	}
	defer v.close()
	switch verb {
	case "services":
		n, err := v.services(ctx, outs, o.timeout)
		if err != nil {
			return err
		}
		return summary(stdout, fmt.Sprintf("%d services run the release", n))
	case "smoke":
		res, err := v.smoke(ctx, outs, o)
		if err != nil {
			return err
		}
		if err := res.Failure("smoke"); err != nil {
			return err
		}
		return summary(stdout, "every asset materialized (task "+res.TaskARN+")")
	default:
		report, res, err := v.gate(ctx, outs, o)
		if err != nil {
			return err
		}
		if res.ExitCode != nil {
			fmt.Fprintf(stderr, "quality gate task exited with %d\n", *res.ExitCode)
		}
		return writeReport(stdout, o.out, report)
	}
}

// verifier connects to the cloud the outputs' launchers name.
func (d deps) verifier(ctx context.Context, outs envrun.Outputs, endpoint string, progress func(string)) (verifier, error) {
	switch outs.Platform() {
	case envrun.PlatformECS:
		if outs.Region == "" {
			return nil, errors.New("terraform output region is empty")
		}
		c, err := d.aws(ctx, outs.Region, endpoint)
		if err != nil {
			return nil, err
		}
		r := &envrun.Runner{ECS: c.ECS, Logs: c.Logs, Progress: progress}
		if d.tune != nil {
			d.tune(r)
		}
		return ecsVerifier{r: r, objects: c.Objects}, nil
	case envrun.PlatformCloudRun:
		r, err := d.gcp(ctx, endpoint)
		if err != nil {
			return nil, err
		}
		r.Progress = progress
		if d.tuneGCP != nil {
			d.tuneGCP(r)
		}
		return cloudRunVerifier{r: r}, nil
	}
	return nil, errors.New("the outputs name nothing to run")
}

func writeReport(stdout io.Writer, dir string, report envrun.Report) error {
	if dir == "" {
		_, err := stdout.Write(report.JSON)
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "gate.json"), report.JSON, 0o644); err != nil {
		return err
	}
	if report.Markdown != nil {
		if err := os.WriteFile(filepath.Join(dir, "gate.md"), report.Markdown, 0o644); err != nil {
			return err
		}
	}
	return summary(stdout, "report in "+dir)
}

func summary(w io.Writer, msg string) error {
	return json.NewEncoder(w).Encode(map[string]string{"summary": msg})
}

// runWap runs one lakehouse.wap command inside the environment, prints its
// document and returns its exit code.
func runWap(ctx context.Context, o options, stdout, stderr io.Writer, d deps) (int, error) {
	raw, err := os.ReadFile(o.outputs)
	if err != nil {
		return 0, fmt.Errorf("read the outputs: %w", err)
	}
	outs, err := envrun.ParseOutputs(raw)
	if err != nil {
		return 0, err
	}
	if !outs.HasSmoke() {
		return 0, errors.New("this environment defines no smoke task (smoke_run is null), whose runtime image runs lakehouse.wap: enable Dagster (enable_dagster)")
	}
	v, err := d.verifier(ctx, outs, o.endpoint, func(s string) { fmt.Fprintln(stderr, s) })
	if err != nil {
		return 0, err
	}
	defer v.close()
	res, err := v.wap(ctx, outs, o)
	if err != nil {
		return 0, err
	}
	doc, docErr := envrun.DocumentFromLog(res.LogTail)
	if docErr != nil || res.ExitCode == nil {
		why := res.Failure("lakehouse.wap")
		if why == nil {
			why = errors.New("the lakehouse.wap task exited 0")
		}
		return 0, fmt.Errorf("%v: %w", docErr, why)
	}
	if _, err := stdout.Write(append(doc, '\n')); err != nil {
		return 0, err
	}
	return int(*res.ExitCode), nil
}
