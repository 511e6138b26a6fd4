package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/compose"
)

// Services starts the whole stack and returns one service that forwards the
// ports the compose files publish (the env file's DAGSTER_WEBSERVER_PORT,
// NESSIE_PORT, S3_PORT …), so `dagger call stack --env dev services up`
// serves the same host ports as `docker compose up`, and two environments
// run side by side. An environment whose compose files publish nothing (the
// production overlay) has nothing to forward.
// +cache="never"
func (s *Stack) Services(ctx context.Context) (_ *dagger.Service, rerr error) {
	defer surfaceTo(&rerr)
	b, err := s.builder()
	if err != nil {
		return nil, err
	}
	if err := b.startAll(ctx); err != nil {
		return nil, err
	}
	proxy := dag.Container().
		From(s.ProxyImage).
		WithEnvVariable("LAKEHOUSE_STACK", s.Project).
		WithNewFile("/opt/proxy.py", portProxy)
	var routes []string
	for _, spec := range b.spec.Services {
		for _, p := range spec.Published {
			svc, err := b.service(spec.Name)
			if err != nil {
				return nil, err
			}
			proxy = proxy.WithServiceBinding(spec.Name, svc).WithExposedPort(p.Host, dagger.ContainerWithExposedPortOpts{Description: fmt.Sprintf("%s:%d", spec.Name, p.Container)})
			routes = append(routes, fmt.Sprintf("%d=%s:%d", p.Host, spec.Name, p.Container))
		}
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("stack %s publishes no ports (its compose files, like the production overlay, reset them): reach it through `stack … service --name NAME` bindings instead", s.Env)
	}
	return proxy.AsService(dagger.ContainerAsServiceOpts{Args: append([]string{"python", "/opt/proxy.py"}, routes...)}), nil
}

// Service returns one service of the stack by its compose name, with its
// dependencies, for other functions to bind.
func (s *Stack) Service(
	// The compose service name, e.g. postgres.
	name string,
) (*dagger.Service, error) {
	b, err := s.builder()
	if err != nil {
		return nil, err
	}
	return b.service(name)
}

// Catalog is the stack's Iceberg catalog service: the host of the env
// file's ICEBERG_CATALOG_URI.
func (s *Stack) Catalog() (*dagger.Service, error) {
	if s.CatalogHost == "" {
		return nil, fmt.Errorf("stack %s: ICEBERG_CATALOG_URI names no host in the stack (a SQL catalog file?)", s.Env)
	}
	return s.Service(s.CatalogHost)
}

// ObjectStore is the stack's S3-compatible object store: the host of the
// env file's S3_ENDPOINT_URL.
func (s *Stack) ObjectStore() (*dagger.Service, error) {
	if s.ObjectStoreHost == "" {
		return nil, fmt.Errorf("stack %s: S3_ENDPOINT_URL names no host in the stack", s.Env)
	}
	return s.Service(s.ObjectStoreHost)
}

// Endpoints lists what runs where: each service, its image, the ports it
// listens on inside the stack and the host ports `services up` forwards.
func (s *Stack) Endpoints() (string, error) {
	spec, err := s.spec()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s (project %s)\n\n| service | kind | image | ports | host ports |\n|---|---|---|---|---|\n", s.Env, s.Project)
	for _, svc := range spec.Services {
		kind := "service"
		if svc.OneShot {
			kind = "job"
		}
		image := svc.Image
		if svc.ProjectImage {
			image = "(the Dagster image from build)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", svc.Name, kind, image, joinPorts(svc.Ports), published(svc.Published))
	}
	return b.String(), nil
}

func joinPorts(ports []int) string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = strconv.Itoa(p)
	}
	return strings.Join(out, ", ")
}

func published(ports []compose.PortForward) string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("localhost:%d → %d", p.Host, p.Container)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Run is the outcome of a run against the stack.
type Run struct {
	// pass or fail.
	Status string
	// The exit code of the run.
	ExitCode int
	// The run's output (stdout and stderr).
	Log string
}

// Materialize runs every Dagster asset once against the stack
// (`python -m lakehouse.smoke`: unpartitioned assets, then the latest
// complete day of the partitioned ones) in the Dagster image, with the
// environment and bindings of the stack's code server. It returns the log
// and the status; a failed run is a status, not an error.
// +cache="never"
func (s *Stack) Materialize(
	ctx context.Context,
	// The day of the partitioned assets (YYYY-MM-DD). Default: yesterday (UTC).
	// +optional
	partition string,
) (_ *Run, rerr error) {
	defer surfaceTo(&rerr)
	if partition == "" {
		partition = time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	}
	b, err := s.builder()
	if err != nil {
		return nil, err
	}
	ctr, err := b.runner(nil)
	if err != nil {
		return nil, err
	}
	code, out, err := smokeRun(ctx, ctr, "--partition", partition)
	if err != nil {
		return nil, fmt.Errorf("materialize %s: %w", s.Env, err)
	}
	status := "pass"
	if code != 0 {
		status = "fail"
	}
	return &Run{Status: status, ExitCode: code, Log: out}, nil
}

// runner is a container of base (nil: the stack's Dagster image) set up
// like the stack's code server (environment, secrets, bindings) for
// one-off runs such as materialize and the gate.
func (b *stackBuilder) runner(base *dagger.Container) (*dagger.Container, error) {
	for _, spec := range b.spec.Services {
		if spec.ProjectImage && !spec.OneShot {
			run := spec
			run.Name = "lakehouse-run"
			run.Ports, run.Published, run.Healthcheck = nil, nil, nil
			return b.containerFrom(run, base)
		}
	}
	return nil, fmt.Errorf("stack %s has no service running the Dagster image (LAKEHOUSE_IMAGE)", b.stack.Env)
}

// portProxy forwards TCP ports to services by name: the stack's single
// entry point for `up`. Arguments: HOSTPORT=NAME:PORT …
const portProxy = `import asyncio, sys

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()

def forward(host, port):
    async def handle(reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            print(f"proxy: {host}:{port}: {exc}", flush=True)
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
    return handle

async def main():
    servers = []
    for route in sys.argv[1:]:
        listen, target = route.split("=")
        host, port = target.rsplit(":", 1)
        servers.append(await asyncio.start_server(forward(host, int(port)), "0.0.0.0", int(listen)))
        print(f"proxy: :{listen} -> {target}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))

asyncio.run(main())
`

// smokeRun runs the smoke materialization in ctr (python directly: no
// shell needed in the image) and returns its exit code and its output,
// stdout then stderr, where Dagster logs and Python tracebacks go. An exec
// that never started (no python in the image) says so on stderr too.
func smokeRun(ctx context.Context, ctr *dagger.Container, args ...string) (int, string, error) {
	ctr = ctr.
		WithEnvVariable("LAKEHOUSE_RUN_ID", runID()).
		WithExec(append([]string{"python", "-m", "lakehouse.smoke"}, args...), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	code, err := ctr.ExitCode(ctx)
	if err != nil {
		return 0, "", err
	}
	stdout, err := ctr.Stdout(ctx)
	if err != nil {
		return 0, "", err
	}
	stderr, err := ctr.Stderr(ctx)
	if err != nil {
		return 0, "", err
	}
	log := strings.TrimRight(stdout, "\n")
	if e := strings.TrimRight(stderr, "\n"); e != "" {
		if log != "" {
			log += "\n"
		}
		log += e
	}
	if log == "" && code != 0 {
		log = fmt.Sprintf("(the smoke run printed nothing before exiting with %d)", code)
	}
	return code, log, nil
}
