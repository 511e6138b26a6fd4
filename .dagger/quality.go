package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/quality"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// GateReport is a quality gate's report: the schema'd JSON the gate image
// wrote and its verdict under the environment's policy.
type GateReport struct {
	// The environment the gate scanned.
	Env string
	// pass, warn, fail or error.
	Outcome string
	// The report as written by the gate (JSON, gate_report.schema.json).
	Json *dagger.File
	// The report as markdown (fits a GitHub job summary).
	Markdown string

	// The report's JSON.
	// +private
	Report string
	// Whether the environment's policy refuses warnings.
	// +private
	WarningsBlock bool
	// The release the gate judged ("" when it ran outside a release).
	// +private
	Commit string
	// +private
	RuntimeImage string
	// +private
	GateImageRef string
}

// RequirePass returns an error unless the report is a valid report of this
// environment whose outcome the environment's policy allows (pass, or warn
// where warnings do not block), for the release it was run for.
func (g *GateReport) RequirePass() error {
	want := quality.Expectation{
		Environment:   g.Env,
		Commit:        g.Commit,
		RuntimeImage:  g.RuntimeImage,
		GateImage:     g.GateImageRef,
		WarningsBlock: g.WarningsBlock,
		AnyRelease:    g.Commit == "",
	}
	if _, err := quality.Decide([]byte(g.Report), want); err != nil {
		return fmt.Errorf("quality %s: %w", g.Env, err)
	}
	return nil
}

// parsed is the report read through pipelines/quality.
func (g *GateReport) parsed() (*quality.Report, error) {
	return quality.Parse([]byte(g.Report))
}

// gateRelease reads the optional release record a gate run is bound to.
func gateRelease(ctx context.Context, record *dagger.File) (*release.Record, error) {
	if record == nil {
		return nil, nil
	}
	name, err := record.Name(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the release record: %w", err)
	}
	raw, err := record.Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the release record %s: %w", name, err)
	}
	rec, err := release.ParseRecordFile(name, []byte(raw))
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

const (
	gateOut      = "/tmp/gate"
	gateJSONPath = gateOut + "/gate.json"
	gateMDPath   = gateOut + "/gate.md"
)

// runGate runs the gate in ctr (the gate image set up to reach the
// catalog) for env and reads its report. The gate's exit code is an
// answer (pass, fail, warn, error), not a failure; a missing or unreadable
// report is.
//
// gateArgs go to the gate after its own (e.g. --branch: judge that
// branch's head, never the published state).
func runGate(ctx context.Context, ctr *dagger.Container, env string, rec *release.Record, warningsBlock bool, gateArgs ...string) (*GateReport, error) {
	if rec != nil {
		ctr = ctr.
			WithEnvVariable("LAKEHOUSE_RELEASE_COMMIT", rec.Commit).
			WithEnvVariable("LAKEHOUSE_RUNTIME_IMAGE", rec.RuntimeImage).
			WithEnvVariable("LAKEHOUSE_GATE_IMAGE", rec.GateImage)
	}
	ctr = ctr.
		WithEnvVariable("LAKEHOUSE_RUN_ID", runID()).
		WithExec([]string{"mkdir", "-p", gateOut}).
		// :memory: keeps no snapshot: nothing reads one from this container, and
		// publishing it would first install DuckDB's extensions (80 MB) into it.
		WithExec(append([]string{"python", "-m", "lakehouse.quality.gate", "--env", env, "--project-dir", appDir,
			"--out", gateJSONPath, "--markdown", gateMDPath, "--duckdb-path", ":memory:"}, gateArgs...), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	code, err := ctr.ExitCode(ctx)
	if err != nil {
		return nil, fmt.Errorf("quality %s: run the gate: %w", env, err)
	}
	report, err := ctr.File(gateJSONPath).Contents(ctx)
	if err != nil {
		return nil, failed(fmt.Sprintf("quality %s: the gate wrote no report", env), code, stderrOf(ctx, ctr))
	}
	md, _ := ctr.File(gateMDPath).Contents(ctx)
	return newGateReport(env, report, md, ctr.File(gateJSONPath), rec, warningsBlock)
}

// newGateReport reads a gate's report (wherever the gate ran) through the
// one validator; a report that does not parse is an error, not an outcome.
func newGateReport(env, report, markdown string, file *dagger.File, rec *release.Record, warningsBlock bool) (*GateReport, error) {
	parsed, err := quality.Parse([]byte(report))
	if err != nil {
		return nil, fmt.Errorf("quality %s: %w", env, err)
	}
	g := &GateReport{
		Env:           env,
		Outcome:       parsed.Outcome,
		Json:          file,
		Markdown:      markdown,
		Report:        report,
		WarningsBlock: warningsBlock,
	}
	if rec != nil {
		g.Commit, g.RuntimeImage, g.GateImageRef = rec.Commit, rec.RuntimeImage, rec.GateImage
	}
	return g, nil
}

// Quality runs the quality gate against the stack's catalog and object
// store: the gate image with the environment and bindings of the stack's
// code server and the environment's env file. With a release record the
// report is bound to that release.
// +cache="never"
func (s *Stack) Quality(
	ctx context.Context,
	// The release record (from publish) the report judges.
	// +optional
	releaseRecord *dagger.File,
) (_ *GateReport, rerr error) {
	defer surfaceTo(&rerr)
	rec, err := gateRelease(ctx, releaseRecord)
	if err != nil {
		return nil, fmt.Errorf("quality %s: %w", s.Env, err)
	}
	return s.quality(ctx, rec)
}

// quality runs the gate against the stack for rec (nil: no release).
func (s *Stack) quality(ctx context.Context, rec *release.Record, gateArgs ...string) (*GateReport, error) {
	b, err := s.builder()
	if err != nil {
		return nil, err
	}
	ctr, err := b.runner(s.GateImage)
	if err != nil {
		return nil, err
	}
	envFile := ".env." + s.Env
	ctr = ctr.WithFile(appDir+"/"+envFile, s.Source.File(composeDir+"/"+envFile), dagger.ContainerWithFileOpts{Owner: appOwner})
	return runGate(ctx, ctr, s.Env, rec, s.WarningsBlock, gateArgs...)
}

// releaseFact renders a release for reports.
func releaseFact(rec *release.Record) string {
	if rec == nil {
		return "(none)"
	}
	return strings.Join([]string{rec.ID, rec.Commit[:12]}, " @ ")
}

// Quality runs the quality gate of a release against a deployed
// environment's catalog and returns its report (outcome, json, markdown,
// require-pass under the environment's policy). The gate runs inside the
// environment: its gate task (output quality_gate) is started and awaited,
// and the report read from the environment's bucket. With --direct it runs
// from this runner instead, which must reach the catalog. For a local stack
// use `stack --env E quality`.
// +cache="never"
func (m *Lakehouse) Quality(
	ctx context.Context,
	// The environment.
	env string,
	// The release the report judges; the environment must run its images.
	// Default: the images the environment runs, bound to no release.
	// +optional
	releaseRecord *dagger.File,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// Run the gate from this runner (the catalog must be reachable).
	// +optional
	direct bool,
) (_ *GateReport, rerr error) {
	defer surfaceTo(&rerr)
	t, err := m.target(ctx, env, cloudProvider)
	if err != nil {
		return nil, err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return nil, fmt.Errorf("quality %s: %w", t, err)
	}
	rel, err := gateRelease(ctx, releaseRecord)
	if err != nil {
		return nil, fmt.Errorf("quality %s: %w", t, err)
	}
	if !direct {
		outputs, targets, err := m.envTargets(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("quality %s: %w", t, err)
		}
		if rel != nil {
			if err := targets.CheckRelease(rel.RuntimeImage, rel.GateImage); err != nil {
				return nil, fmt.Errorf("quality %s: %w", t, err)
			}
		} else if !targets.HasGate() {
			return nil, fmt.Errorf("quality %s: the environment has no quality-gate task (output quality_gate is null): deploy a release to it first, or use --direct", t)
		}
		g, _, err := m.gateInEnvironment(ctx, m.envrunClient(t, outputs), env, rel, t.Env().Promotion().WarningsBlock)
		return g, err
	}
	if rel == nil {
		return nil, fmt.Errorf("quality %s: --direct runs the release's gate image: give --release-record", t)
	}
	vars, err := m.runtimeVars(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("quality %s: %w", t, err)
	}
	return runGate(ctx, m.envRunner(t, vars, rel.GateImage), env, rel, t.Env().Promotion().WarningsBlock)
}
