package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// Release is a published release: its images by digest and the record that
// promotes it from environment to environment without a rebuild.
type Release struct {
	// The release ID: a hash of the commit and both image digests. (Not
	// "id": the engine reserves that field name.)
	ReleaseID string
	// The commit the images were built from.
	Commit string
	// Whether the build inputs had uncommitted changes.
	Dirty bool
	// The runtime image, pinned by digest (repository@sha256:…).
	RuntimeImage string
	// The gate image, pinned by digest.
	GateImage string
	// The release record (JSON): what deploy and promote take.
	Record string
}

// RecordFile is the release record as a file, e.g.
// `… publish … record-file export --path release.json`.
func (r *Release) RecordFile() *dagger.File {
	return dag.Directory().WithNewFile("release.json", r.Record).File("release.json")
}

// WithRegistryAuth returns the module with credentials for a registry that
// publish pushes to, e.g. --address ghcr.io --username bot --secret
// env://GHCR_TOKEN. The secret reaches only the registry client.
func (m *Lakehouse) WithRegistryAuth(
	// The registry host, e.g. ghcr.io or 123456789012.dkr.ecr.us-east-1.amazonaws.com.
	address string,
	// The registry user name.
	username string,
	// The password or token.
	secret *dagger.Secret,
) *Lakehouse {
	c := *m
	c.RegistryHost, c.RegistryUsername, c.RegistryPassword = address, username, secret
	return &c
}

// Publish builds the runtime and gate images and pushes them to ADDRESS
// (REGISTRY/REPOSITORY[:TAG]; the gate image gets the tag suffix -gate).
// It returns the release: both images by digest and the release record.
// A tree with uncommitted changes is refused unless --allow-dirty.
// +cache="never"
func (m *Lakehouse) Publish(
	ctx context.Context,
	// Where to push: REGISTRY/REPOSITORY[:TAG]; the tag defaults to the
	// commit's short hash.
	address string,
	// Publish even though the source has uncommitted changes (the record
	// says so, and promotion can refuse it).
	// +optional
	allowDirty bool,
	// The repository's git metadata (release identity).
	// +defaultPath="/"
	// +optional
	git *dagger.GitRepository,
	// The commit the source is at, for checkouts without git history.
	// +optional
	revision string,
	// The commit's time (RFC 3339), with --revision when git is unavailable.
	// +optional
	revisionTime string,
) (_ *Release, rerr error) {
	defer surfaceTo(&rerr)
	id, err := m.identity(ctx, git, revision, revisionTime)
	if err != nil {
		return nil, err
	}
	addr, err := release.ParseAddress(address, id.Version())
	if err != nil {
		return nil, err
	}
	if id.Dirty && !allowDirty {
		return nil, fmt.Errorf("publish: the source has uncommitted changes; commit them, or pass --allow-dirty to publish a release marked dirty")
	}
	if err := m.checkDependencies(ctx); err != nil {
		return nil, err
	}
	var runtimeRef, gateRef string
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		runtimeRef, err = m.push(gctx, m.runtimeImage(id), addr.Runtime())
		return err
	})
	g.Go(func() (err error) {
		gateRef, err = m.push(gctx, m.gateImage(id), addr.Gate())
		return err
	})
	locks := make([]release.LockDigest, 0, 2)
	for _, lock := range []string{runtimeLock, gateLock} {
		path := "dagster/" + lock
		contents, err := m.Source.File(path).Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("publish: read %s: %w", path, err)
		}
		locks = append(locks, release.DigestLock(path, []byte(contents)))
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	record, err := release.NewRecord(id, runtimeRef, gateRef, locks, time.Now())
	if err != nil {
		return nil, err
	}
	raw, err := record.JSON()
	if err != nil {
		return nil, err
	}
	return &Release{
		ReleaseID:    record.ID,
		Commit:       record.Commit,
		Dirty:        record.Dirty,
		RuntimeImage: record.RuntimeImage,
		GateImage:    record.GateImage,
		Record:       string(raw),
	}, nil
}

// push publishes ctr to ref and returns the pinned reference
// (repository@sha256:…).
func (m *Lakehouse) push(ctx context.Context, ctr *dagger.Container, ref string) (string, error) {
	if m.RegistryPassword != nil {
		ctr = ctr.WithRegistryAuth(m.RegistryHost, m.RegistryUsername, m.RegistryPassword)
	}
	published, err := ctr.Publish(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", ref, err)
	}
	pinned, err := release.ParseDigestRef(published)
	if err != nil {
		return "", fmt.Errorf("publish %s: the registry answered %q: %w", ref, published, err)
	}
	return pinned.Pinned(), nil
}
