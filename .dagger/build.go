package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// The image layout. The module is the only definition of the images (there
// is no Dockerfile to drift from it): people build them with
// `dagger call build export-image --name …`.
const (
	appUID        = "10001"
	appOwner      = appUID + ":" + appUID
	appHome       = "/opt/dagster"
	appDir        = appHome + "/app"
	dagsterHome   = appHome + "/dagster_home"
	runtimeVenv   = "/opt/venv"
	gateVenv      = "/opt/venv-soda"
	runtimeLock   = "requirements.lock"
	gateLock      = "requirements-soda.lock"
	codeServerCmd = "dagster code-server start -h 0.0.0.0 -p 4000 -m lakehouse.definitions --location-name lakehouse"
	// systemPath follows an image's virtualenv on PATH. It is written out,
	// not expanded from the base image's PATH: a base whose config sets
	// none (seen on the engine rig) left PATH=/opt/venv/bin: and no sh.
	systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Build returns the Dagster runtime image: webserver, daemon and code server
// share it (the compose services and the deployed tasks choose the command).
// Dependencies come from the hash-checked lock file in a layer of their own,
// so editing Python code rebuilds only the code layer. Export it with
// `dagger call build export-image --name iceberg-lakehouse/dagster:dev`.
func (m *Lakehouse) Build(
	ctx context.Context,
	// The repository's git metadata: the release identity (commit, dirty
	// flag, commit time) comes from it.
	// +defaultPath="/"
	// +optional
	git *dagger.GitRepository,
	// The commit to label the image with, for checkouts without git history;
	// must be the commit the source is at.
	// +optional
	revision string,
	// The commit's time (RFC 3339), with --revision when git is unavailable.
	// +optional
	revisionTime string,
) (_ *dagger.Container, rerr error) {
	defer surfaceTo(&rerr)
	id, err := m.identity(ctx, git, revision, revisionTime)
	if err != nil {
		return nil, err
	}
	return m.runtimeImage(id), nil
}

// GateImage returns the quality-gate image: Soda Core v3 in its own
// interpreter (it pins DuckDB below 1.1, which the runtime must not have),
// with `python -m lakehouse.quality.gate` as entrypoint.
func (m *Lakehouse) GateImage(
	ctx context.Context,
	// The repository's git metadata (release identity).
	// +defaultPath="/"
	// +optional
	git *dagger.GitRepository,
	// The commit to label the image with, for checkouts without git history.
	// +optional
	revision string,
	// The commit's time (RFC 3339), with --revision when git is unavailable.
	// +optional
	revisionTime string,
) (_ *dagger.Container, rerr error) {
	defer surfaceTo(&rerr)
	id, err := m.identity(ctx, git, revision, revisionTime)
	if err != nil {
		return nil, err
	}
	return m.gateImage(id), nil
}

// dependencies installs one hash-checked lock file into a virtualenv and
// returns it. Its only inputs are the base image and the lock file, so it
// is rebuilt only when one of them changes.
func (m *Lakehouse) dependencies(lockFile, venv string) *dagger.Directory {
	return m.dependencyLayer(lockFile, venv).Directory(venv)
}

// checkDependencies builds both images' dependency layers first, as
// containers of their own: a failed install or dependency check then
// fails there, with pip's own output in the error. On a real engine the
// same failure met inside an image's publish said only "exit code: 1".
// Both layers are cached, so a build that passes pays nothing for this.
func (m *Lakehouse) checkDependencies(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for lock, venv := range map[string]string{runtimeLock: runtimeVenv, gateLock: gateVenv} {
		g.Go(func() error {
			if _, err := m.dependencyLayer(lock, venv).Sync(gctx); err != nil {
				return fmt.Errorf("install dagster/%s: %w", lock, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// dependencyLayer is the container that installs lockFile into venv.
func (m *Lakehouse) dependencyLayer(lockFile, venv string) *dagger.Container {
	lock := "/tmp/locks/" + lockFile
	ctr := dag.Container().
		From(m.PythonImage).
		WithMountedCache("/root/.cache/pip", dag.CacheVolume(pipCacheVolume)).
		WithEnvVariable("PIP_DISABLE_PIP_VERSION_CHECK", "1").
		WithFile(lock, m.Source.File("dagster/"+lockFile)).
		WithExec([]string{"python", "-m", "venv", venv}).
		WithExec([]string{venv + "/bin/pip", "install", "--no-input", "--no-deps", "--require-hashes", "-r", lock})
	return m.withDependencyCheck(ctr, lockFile, venv)
}

// imageBase is the Python base with the non-root user both images run as;
// it adds no compilers or build tools.
func (m *Lakehouse) imageBase() *dagger.Container {
	ctr := dag.Container().
		From(m.PythonImage).
		WithExec([]string{"groupadd", "--system", "--gid", appUID, "dagster"}).
		WithExec([]string{"useradd", "--system", "--uid", appUID, "--gid", "dagster", "--home-dir", appHome, "--no-create-home", "dagster"}).
		WithDirectory(dagsterHome+"/storage", dag.Directory(), dagger.ContainerWithDirectoryOpts{Owner: appOwner}).
		// The project directory is the user's: the gate keeps its snapshot in
		// <project>/.soda (found on a real engine: root-owned, the gate crashed).
		WithDirectory(appDir, dag.Directory(), dagger.ContainerWithDirectoryOpts{Owner: appOwner}).
		WithEnvVariable("HOME", appHome).
		WithEnvVariable("PYTHONDONTWRITEBYTECODE", "1").
		WithEnvVariable("PYTHONUNBUFFERED", "1").
		WithEnvVariable("PYTHONPATH", appDir).
		WithEnvVariable("DAGSTER_HOME", dagsterHome).
		WithWorkdir(appDir)
	return ctr
}

// withLabels adds the release's OCI labels last: image config only, so a
// new commit or the dirty flag never touches a cached layer.
func withLabels(ctr *dagger.Container, id release.Identity) *dagger.Container {
	for _, l := range id.Labels() {
		ctr = ctr.WithLabel(l.Name, l.Value)
	}
	return ctr
}

// withCode adds the Dagster project last: the layer a code change rebuilds.
func (m *Lakehouse) withCode(ctr *dagger.Container) *dagger.Container {
	return ctr.WithDirectory(appDir+"/lakehouse", m.Source.Directory("dagster/lakehouse"), dagger.ContainerWithDirectoryOpts{
		Owner:   appOwner,
		Exclude: []string{"**/__pycache__", "**/*.pyc"},
	})
}

func (m *Lakehouse) runtimeImage(id release.Identity) *dagger.Container {
	ctr := m.imageBase().
		WithDirectory(runtimeVenv, m.dependencies(runtimeLock, runtimeVenv)).
		WithEnvVariable("PATH", runtimeVenv+"/bin:"+systemPath).
		WithFile(dagsterHome+"/dagster.yaml", m.Source.File("dagster/dagster.yaml"), dagger.ContainerWithFileOpts{Owner: appOwner}).
		WithFile(dagsterHome+"/workspace.yaml", m.Source.File("dagster/workspace.yaml"), dagger.ContainerWithFileOpts{Owner: appOwner}).
		WithFile(appDir+"/pyproject.toml", m.Source.File("dagster/pyproject.toml"), dagger.ContainerWithFileOpts{Owner: appOwner})
	// No HEALTHCHECK in the image: the three services need different
	// probes, and Dagger would silently use a baked one for every service.
	return withLabels(m.withCode(ctr).
		WithUser(appOwner).
		WithDefaultArgs(strings.Fields(codeServerCmd)), id)
}

func (m *Lakehouse) gateImage(id release.Identity) *dagger.Container {
	ctr := m.imageBase().
		WithDirectory(gateVenv, m.dependencies(gateLock, gateVenv)).
		WithEnvVariable("PATH", gateVenv+"/bin:"+systemPath).
		// Soda v3 sends anonymous usage statistics by default; a gate must not.
		WithNewFile(appHome+"/.soda/config.yml", "send_anonymous_usage_stats: false\n", dagger.ContainerWithNewFileOpts{Owner: appOwner})
	return withLabels(m.withCode(ctr).
		WithUser(appOwner).
		WithEntrypoint([]string{"python", "-m", "lakehouse.quality.gate"}).
		WithDefaultArgs([]string{"--help"}), id)
}

// identity resolves the release identity: from git (commit, uncommitted
// changes, commit time and remote), or from an explicit revision for
// checkouts without history.
func (m *Lakehouse) identity(ctx context.Context, git *dagger.GitRepository, revision, revisionTime string) (release.Identity, error) {
	revision = strings.TrimSpace(revision)
	if git == nil {
		if revision == "" {
			return release.Identity{}, fmt.Errorf("release identity: no git repository found for the source: pass --revision <commit> --revision-time <RFC 3339 commit time>")
		}
		when, err := time.Parse(time.RFC3339, strings.TrimSpace(revisionTime))
		if err != nil {
			return release.Identity{}, fmt.Errorf("release identity: --revision-time %q: want the commit time in RFC 3339, e.g. 2026-11-30T17:04:05Z (git log -1 --format=%%cI)", revisionTime)
		}
		return release.NewIdentity(revision, false, when, "")
	}
	head := git.Head()
	commit, err := head.Commit(ctx)
	if err != nil {
		return release.Identity{}, fmt.Errorf("release identity: read the repository's HEAD: %w", err)
	}
	if revision != "" && !strings.EqualFold(revision, commit) {
		return release.Identity{}, fmt.Errorf("release identity: --revision %s but the repository is at %s: build from that commit, or leave --revision out", revision, commit)
	}
	clean, err := git.Uncommitted().IsEmpty(ctx)
	if err != nil {
		// Found on a real engine: it loads only the checkout's own .git, so a
		// clone whose objects live in another repository fails here with
		// nothing but git's exit status.
		return release.Identity{}, fmt.Errorf("release identity: look for uncommitted changes: %w (the engine reads only this checkout's .git: a clone made with --shared or --reference keeps its objects in the repository .git/objects/info/alternates names; copy them in with `git repack -a -d`, then delete that file, or clone with --no-local)", err)
	}
	meta, err := dag.Container().
		From(m.GoImage).
		WithMountedDirectory("/repo", head.Tree()).
		WithWorkdir("/repo").
		WithExec([]string{"sh", "-c", "git log -1 --format=%cI HEAD && (git config --get remote.origin.url || true)"}).
		Stdout(ctx)
	if err != nil {
		return release.Identity{}, fmt.Errorf("release identity: read the commit time: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(meta), "\n")
	when, err := time.Parse(time.RFC3339, strings.TrimSpace(lines[0]))
	if err != nil {
		return release.Identity{}, fmt.Errorf("release identity: git printed %q for the commit time", lines[0])
	}
	source := ""
	if len(lines) > 1 {
		source = lines[1]
	}
	return release.NewIdentity(commit, !clean, when, source)
}
