package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// The local halves of ci's release path: the ephemeral registry, the
// publish to it, and the deploy into the stack's own ledger.

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
	// A rehearsal in the local stack: the evidence rules, not the
	// environment's soak and freeze (it deploys nothing there).
	decision, err := promotion.Evidence(promotion.Request{Target: target, Release: rel, AllowDirty: true, Now: now}, upstream)
	if err != nil {
		return "", err
	}
	entry := promotion.Entry{
		SchemaVersion: promotion.EntrySchemaVersion,
		Kind:          promotion.DeployEntry,
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
