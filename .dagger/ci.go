package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/runreport"
)

// ciRegistryHost is where ci publishes the release: a localhost address
// (registries there are spoken to over plain HTTP) that the engine routes
// to the ephemeral registry service.
const ciRegistryHost = "localhost:5000"

// CiResult is the outcome of a ci run: the run report as markdown and JSON.
type CiResult struct {
	// The environment the local stack ran.
	Env string
	// ok or failed.
	Verdict string
	// The run report as markdown.
	Markdown string
	// The run report as JSON.
	// +private
	ReportJSON string
	// The steps that failed, in order, and the command that reruns the first.
	// +private
	FailedSteps []string
	// +private
	Rerun string
}

// Report is the run report as a markdown file.
func (r *CiResult) Report() *dagger.File {
	return dag.Directory().WithNewFile("ci.md", r.Markdown).File("ci.md")
}

// Json is the run report as a JSON file.
func (r *CiResult) Json() *dagger.File {
	return dag.Directory().WithNewFile("ci.json", r.ReportJSON).File("ci.json")
}

// Ci runs the whole pipeline on a local stack, with no cloud account: the
// checks (lint, test, validate) beside the release path (build the images,
// publish them to an ephemeral registry, start the environment's stack
// from its compose files, materialize every asset, run the quality gate,
// and deploy the release into the stack's own ledger with the promotion
// code deploy uses). It prints the run report and fails unless every step
// passed; a failure names the step, its reason and how to rerun it.
// `ci-result` returns the same run as files.
// +cache="never"
func (m *Lakehouse) Ci(
	ctx context.Context,
	// The environment whose files describe the local stack. Default: the
	// first environment of the promotion order.
	// +optional
	env string,
	// Skip lint, test and validate: a fast data-only loop.
	// +optional
	skipChecks bool,
	// Say how to keep working with the stack after the run.
	// +optional
	keep bool,
	// A registry service to publish the release to (default: an ephemeral
	// one from the registry image).
	// +optional
	publishTo *dagger.Service,
	// Replace a stack service's image: NAME=REFERENCE (as stack does).
	// +optional
	serviceImage []string,
	// DAGSTER_POSTGRES_PASSWORD, where the environment's compose files
	// require it (as stack does).
	// +optional
	postgresPassword *dagger.Secret,
	// The repository's git metadata (release identity; a dirty tree is
	// allowed and flagged).
	// +defaultPath="/"
	// +optional
	git *dagger.GitRepository,
) (string, error) {
	r, err := m.CiResult(ctx, env, skipChecks, keep, publishTo, serviceImage, postgresPassword, git)
	if err != nil {
		return "", err
	}
	if r.Verdict != string(runreport.OK) {
		// The CLI prints a failed function's error twice (under its span
		// and at the end): the report goes to the function's log once, the
		// error only names what failed.
		fmt.Fprintln(ciLog, r.Markdown)
		return "", errors.New(r.failure())
	}
	return r.Markdown, nil
}

// ciLog is where a failed ci writes its run report: the function's own
// output, which the CLI shows once under the call.
var ciLog io.Writer = os.Stderr

// failure is the one-line error of a failed run.
func (r *CiResult) failure() string {
	msg := fmt.Sprintf("ci %s FAILED at %s (the run report above says why", r.Env, strings.Join(r.FailedSteps, ", "))
	if r.Rerun != "" {
		msg += "; rerun only that step: `" + r.Rerun + "`"
	}
	return msg + "; `dagger call ci-result … markdown` returns the report)"
}

// CiResult is ci that returns the run (report and JSON files) instead of
// failing on a failed step, e.g. `dagger call ci-result json export --path ci.json`.
// +cache="never"
func (m *Lakehouse) CiResult(
	ctx context.Context,
	// The environment whose files describe the local stack. Default: the
	// first environment of the promotion order.
	// +optional
	env string,
	// Skip lint, test and validate.
	// +optional
	skipChecks bool,
	// Say how to keep working with the stack after the run.
	// +optional
	keep bool,
	// A registry service to publish the release to.
	// +optional
	publishTo *dagger.Service,
	// Replace a stack service's image: NAME=REFERENCE (as stack does).
	// +optional
	serviceImage []string,
	// DAGSTER_POSTGRES_PASSWORD, where the compose files require it.
	// +optional
	postgresPassword *dagger.Secret,
	// The repository's git metadata.
	// +defaultPath="/"
	// +optional
	git *dagger.GitRepository,
) (_ *CiResult, rerr error) {
	defer surfaceTo(&rerr)
	if env == "" {
		catalog, err := m.environments(ctx)
		if err != nil {
			return nil, err
		}
		order, err := catalog.PromotionOrder()
		if err != nil {
			return nil, fmt.Errorf("ci: no default environment: %w", err)
		}
		env = order[0].Name()
	}
	// Bad arguments fail here, before any check or build: the environment,
	// its compose files, the secrets they require and the image overrides.
	if _, err := m.planStack(ctx, env, postgresPassword, serviceImage); err != nil {
		return nil, fmt.Errorf("ci: %w", err)
	}
	rec := runreport.New("ci", env, nil)
	var wg sync.WaitGroup
	if skipChecks {
		rec.Skip("checks", "--skip-checks")
	} else {
		for name, check := range map[string]func(context.Context) error{"lint": m.Lint, "test": m.Test, "validate": m.Validate} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = rec.Run(ctx, name, "dagger call "+name, func(ctx context.Context) (string, error) { return "", plain(check(ctx)) })
			}()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.ciRelease(ctx, rec, env, keep, publishTo, serviceImage, postgresPassword, git)
	}()
	wg.Wait()
	report := rec.Finish()
	raw, err := report.JSON()
	if err != nil {
		return nil, err
	}
	res := &CiResult{Env: env, Verdict: string(report.Verdict), Markdown: report.Markdown(), ReportJSON: string(raw)}
	for _, s := range report.Steps {
		if s.Status == runreport.Failed {
			res.FailedSteps = append(res.FailedSteps, s.Name)
		}
	}
	if first := report.FirstFailure(); first != nil {
		res.Rerun = first.Rerun
	}
	return res, nil
}

// ciRelease is ci's release path: build, publish, stack, materialize,
// gate, local deploy. Each step runs only if the one before passed.
func (m *Lakehouse) ciRelease(ctx context.Context, rec *runreport.Recorder, env string, keep bool, publishTo *dagger.Service, serviceImage []string, postgresPassword *dagger.Secret, git *dagger.GitRepository) {
	// One registry for the whole release path, kept up from publish to the
	// last pull (a registry that keeps manifests in memory would forget them
	// across a restart).
	reg := m.ciRegistry(publishTo)
	if publishTo == nil {
		if started, err := reg.Start(ctx); err == nil {
			reg = started
			defer func() { _, _ = started.Stop(context.WithoutCancel(ctx)) }()
		}
	}
	// The ledger tool of the last step builds beside the rest of the path
	// (cold, with the cloud clients it links, it took 4 minutes on the
	// engine rig after everything else); the last step reuses the build.
	toolCtx, cancelTool := context.WithCancel(ctx)
	defer cancelTool()
	go func() { _, _ = m.goTool("ledger").Sync(toolCtx) }()
	var (
		rel     release.Record
		stack   *Stack
		gate    *GateReport
		skipped string
	)
	step := func(name, rerun string, fn func(context.Context) (string, error)) {
		if skipped != "" {
			rec.Skip(name, "not run: "+skipped+" failed")
			return
		}
		if err := rec.Run(ctx, name, rerun, func(ctx context.Context) (string, error) {
			detail, err := fn(ctx)
			return detail, plain(err)
		}); err != nil {
			skipped = name
		}
	}
	step("build and publish", "dagger call publish --address "+ciRegistryHost+"/lakehouse --allow-dirty", func(ctx context.Context) (string, error) {
		r, err := m.publishLocal(ctx, reg, git)
		if err != nil {
			return "", err
		}
		rel = r
		rec.Fact("release", rel.ID+" (commit "+rel.Commit[:12]+dirtyMark(rel.Dirty)+")")
		return "runtime " + shortDigest(rel.RuntimeImage) + ", gate " + shortDigest(rel.GateImage), nil
	})
	step("stack", "dagger call stack --env "+env+" services up", func(ctx context.Context) (string, error) {
		s, err := m.Stack(ctx, env,
			dag.Container().From(rel.RuntimeImage, dagger.ContainerFromOpts{RegistryService: reg}),
			dag.Container().From(rel.GateImage, dagger.ContainerFromOpts{RegistryService: reg}),
			postgresPassword, serviceImage, nil)
		if err != nil {
			return "", err
		}
		b, err := s.builder()
		if err != nil {
			return "", err
		}
		if err := b.startAll(ctx); err != nil {
			return "", err
		}
		stack = s
		return fmt.Sprintf("%d services healthy (project %s)", len(b.built), s.Project), nil
	})
	step("materialize", "dagger call stack --env "+env+" materialize", func(ctx context.Context) (string, error) {
		run, err := stack.Materialize(ctx, "")
		if err != nil {
			return "", err
		}
		if run.Status != "pass" {
			return "", fmt.Errorf("the smoke run failed (exit %d):\n%s", run.ExitCode, lastLines(run.Log, 30))
		}
		return "every asset materialized", nil
	})
	step("quality gate", "dagger call stack --env "+env+" quality", func(ctx context.Context) (string, error) {
		g, err := stack.quality(ctx, &rel)
		if err != nil {
			return "", err
		}
		gate = g
		if err := g.RequirePass(); err != nil {
			return "", err
		}
		return "outcome " + g.Outcome, nil
	})
	step("deploy to the local ledger", "dagger call ci --env "+env+" --skip-checks", func(ctx context.Context) (string, error) {
		return m.ciDeploy(ctx, stack, rel, gate)
	})
	if keep {
		rec.Fact("keep", "the stack stops with this run; start it again with `dagger call stack --env "+env+" services up` (Dagster UI on the env file's DAGSTER_WEBSERVER_PORT)")
	}
}
