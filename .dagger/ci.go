package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/runreport"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
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
		return "", errors.New(r.Markdown)
	}
	return r.Markdown, nil
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
	return &CiResult{Env: env, Verdict: string(report.Verdict), Markdown: report.Markdown(), ReportJSON: string(raw)}, nil
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

// ciRegistry is the registry service ci publishes to and pulls from.
func (m *Lakehouse) ciRegistry(publishTo *dagger.Service) *dagger.Service {
	if publishTo != nil {
		return publishTo
	}
	return dag.Container().
		From(m.RegistryImage).
		WithMountedCache("/var/lib/registry", dag.CacheVolume("iceberg-lakehouse-ci-registry")).
		WithExposedPort(5000).
		AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})
}

// publishLocal builds both images and publishes them to the registry
// service reg, returning the release record (dirty trees allowed, and
// flagged).
func (m *Lakehouse) publishLocal(ctx context.Context, reg *dagger.Service, git *dagger.GitRepository) (release.Record, error) {
	id, err := m.identity(ctx, git, "", "")
	if err != nil {
		return release.Record{}, err
	}
	addr, err := release.ParseAddress(ciRegistryHost+"/lakehouse", id.Version())
	if err != nil {
		return release.Record{}, err
	}
	push := func(ctr *dagger.Container, ref string) (string, error) {
		published, err := ctr.Publish(ctx, ref, dagger.ContainerPublishOpts{RegistryService: reg})
		if err != nil {
			return "", fmt.Errorf("publish %s: %w", ref, err)
		}
		d, err := release.ParseDigestRef(published)
		if err != nil {
			return "", err
		}
		return d.Pinned(), nil
	}
	runtime, err := push(m.runtimeImage(id), addr.Runtime())
	if err != nil {
		return release.Record{}, err
	}
	gate, err := push(m.gateImage(id), addr.Gate())
	if err != nil {
		return release.Record{}, err
	}
	var locks []release.LockDigest
	for _, lock := range []string{runtimeLock, gateLock} {
		contents, err := m.Source.File("dagster/" + lock).Contents(ctx)
		if err != nil {
			return release.Record{}, err
		}
		locks = append(locks, release.DigestLock("dagster/"+lock, []byte(contents)))
	}
	return release.NewRecord(id, runtime, gate, locks, time.Now())
}

// ciDeploy runs the promotion decision deploy uses against the stack's own
// object store as the ledger, records the gate's verdict and reads it back.
func (m *Lakehouse) ciDeploy(ctx context.Context, s *Stack, rel release.Record, gate *GateReport) (string, error) {
	catalog, err := m.environments(ctx)
	if err != nil {
		return "", err
	}
	target, err := catalog.Lookup(s.Env)
	if err != nil {
		return "", err
	}
	b, err := s.builder()
	if err != nil {
		return "", err
	}
	ctr, err := b.runner(nil)
	if err != nil {
		return "", err
	}
	at, err := s.localLedger(target.Name())
	if err != nil {
		return "", err
	}
	var upstream []promotion.Recorded
	if up := target.Promotion().Upstream; up != "" {
		upAt := at
		upAt.Prefix = promotion.LedgerPrefix(terraform.StateProject, up)
		raw, err := m.readLedger(ctx, ctr, upAt)
		if err != nil {
			return "", err
		}
		if upstream, err = promotion.ParseEntries(raw); err != nil {
			return "", err
		}
	}
	now := time.Now().UTC()
	decision, err := promotion.Decide(promotion.Request{Target: target, Release: rel, AllowDirty: true, Now: now}, upstream)
	if err != nil {
		return "", err
	}
	entry := promotion.Entry{
		SchemaVersion: promotion.EntrySchemaVersion,
		Environment:   target.Name(),
		Release:       rel,
		Verdict:       promotion.Passed,
		Gate:          &promotion.GateEvidence{Outcome: gate.Outcome, Report: []byte(gate.Report)},
		RecordedAt:    now.Format(time.RFC3339),
	}
	if r, err := gate.parsed(); err == nil {
		entry.Gate.FinishedAt = r.FinishedAt
	}
	if decision.Upstream != nil {
		entry.Upstream = &promotion.UpstreamRef{Environment: decision.Upstream.Entry.Environment, Seq: decision.Upstream.Seq, ReleaseID: rel.ID}
	}
	key, err := m.appendLedger(ctx, ctr, at, entry)
	if err != nil {
		return "", err
	}
	raw, err := m.readLedger(ctx, ctr, at)
	if err != nil {
		return "", err
	}
	entries, err := promotion.ParseEntries(raw)
	if err != nil {
		return "", err
	}
	latest, err := promotion.Latest(entries)
	if err != nil || latest.Entry.Release.ID != rel.ID {
		return "", fmt.Errorf("the ledger does not show release %s as the latest pass after recording it (%v)", rel.ID, err)
	}
	return "recorded " + key, nil
}

func dirtyMark(dirty bool) string {
	if dirty {
		return ", dirty"
	}
	return ""
}

func shortDigest(ref string) string {
	if _, d, ok := strings.Cut(ref, "@sha256:"); ok && len(d) >= 12 {
		return "sha256:" + d[:12]
	}
	return ref
}

// plain keeps only an error's text for the run report: the whole chain
// and, for a failed command, the command and the redacted tail of its
// output (surface), since a real engine's exec error says only "exit code".
func plain(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(errText(surface(err)))
}
