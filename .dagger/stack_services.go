package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/compose"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/redact"
)

// stackBuilder turns specs into Dagger services. Compose puts every service
// on one network; Dagger resolves only the names a container binds, so a
// container binds what it depends on and every service its environment or
// command names (e.g. the object store the Dagster code writes to).
type stackBuilder struct {
	stack  *Stack
	spec   *compose.Spec
	byName map[string]compose.Service
	built  map[string]*dagger.Service
	ran    map[string]*dagger.File
}

func (s *Stack) builder() (*stackBuilder, error) {
	spec, err := s.spec()
	if err != nil {
		return nil, err
	}
	b := &stackBuilder{stack: s, spec: spec, byName: map[string]compose.Service{}, built: map[string]*dagger.Service{}, ran: map[string]*dagger.File{}}
	for _, svc := range spec.Services {
		b.byName[svc.Name] = svc
	}
	return b, nil
}

// service returns the named long-running service.
func (b *stackBuilder) service(name string) (*dagger.Service, error) {
	if svc, ok := b.built[name]; ok {
		return svc, nil
	}
	spec, ok := b.byName[name]
	if !ok {
		return nil, fmt.Errorf("stack %s has no service %s (services: %s)", b.stack.Env, name, strings.Join(b.names(), ", "))
	}
	if spec.OneShot {
		return nil, fmt.Errorf("stack %s: %s runs to completion; it is not a service", b.stack.Env, name)
	}
	ctr, err := b.container(spec)
	if err != nil {
		return nil, err
	}
	svc := ctr.AsService(serviceArgs(spec))
	b.built[name] = svc
	return svc, nil
}

// completed returns a file that exists once the one-shot service ran to
// completion: binding it orders the dependent after the job.
func (b *stackBuilder) completed(name string) (*dagger.File, error) {
	if f, ok := b.ran[name]; ok {
		return f, nil
	}
	spec := b.byName[name]
	ctr, err := b.container(spec)
	if err != nil {
		return nil, err
	}
	args := serviceArgs(spec)
	marker := "/tmp/lakehouse-" + name + ".done"
	f := ctr.
		WithEnvVariable("LAKEHOUSE_RUN_ID", b.stack.RunID).
		WithExec(args.Args, dagger.ContainerWithExecOpts{UseEntrypoint: args.UseEntrypoint}).
		WithNewFile(marker, name+" completed\n").
		File(marker)
	b.ran[name] = f
	return f, nil
}

// serviceArgs is how compose starts the container: its entrypoint and
// command when set, the image's otherwise.
func serviceArgs(spec compose.Service) dagger.ContainerAsServiceOpts {
	if len(spec.Entrypoint) > 0 {
		return dagger.ContainerAsServiceOpts{Args: append(slices.Clone(spec.Entrypoint), spec.Command...)}
	}
	return dagger.ContainerAsServiceOpts{Args: spec.Command, UseEntrypoint: true}
}

// container is the service's container with its settings, mounts, secrets,
// health check and bindings; it is also the base of one-shot jobs and of
// runs against the stack (materialize, quality).
func (b *stackBuilder) container(spec compose.Service) (*dagger.Container, error) {
	return b.containerFrom(spec, nil)
}

// containerFrom is container with base replacing the Dagster image of a
// ProjectImage service (e.g. the gate image for a gate run).
func (b *stackBuilder) containerFrom(spec compose.Service, base *dagger.Container) (*dagger.Container, error) {
	var ctr *dagger.Container
	owner := ""
	if spec.ProjectImage {
		ctr, owner = b.stack.Image, appOwner
		if base != nil {
			ctr = base
		}
	} else {
		ctr = dag.Container().From(spec.Image)
	}
	// Equal definitions are one service per session: the project keeps two
	// environments' stacks apart.
	ctr = ctr.WithEnvVariable("LAKEHOUSE_STACK", b.stack.Project)
	if spec.User != "" {
		ctr = ctr.WithUser(spec.User)
	}
	if spec.WorkingDir != "" {
		ctr = ctr.WithWorkdir(spec.WorkingDir)
	}
	for _, v := range spec.Environment {
		ctr = ctr.WithEnvVariable(v.Name, v.Value)
	}
	for _, v := range spec.SecretEnvironment {
		secret := b.stack.secret(v.Secret)
		if secret == nil {
			return nil, fmt.Errorf("stack %s: service %s needs the secret %s: pass it to stack", b.stack.Env, spec.Name, v.Secret)
		}
		ctr = ctr.WithSecretVariable(v.Name, secret)
	}
	for _, mnt := range spec.Mounts {
		switch mnt.Kind {
		case compose.NamedVolume:
			ctr = ctr.WithMountedCache(mnt.Target, dag.CacheVolume(mnt.Source), dagger.ContainerWithMountedCacheOpts{Owner: owner})
		case compose.Bind:
			ctr = ctr.WithMountedDirectory(mnt.Target, b.stack.Source.Directory(composeDir+"/"+mnt.Source), dagger.ContainerWithMountedDirectoryOpts{Owner: owner})
		default:
			return nil, fmt.Errorf("stack %s: service %s: mount kind %q is not supported", b.stack.Env, spec.Name, mnt.Kind)
		}
	}
	bound := map[string]bool{}
	for _, dep := range spec.DependsOn {
		if _, ok := b.byName[dep.Service]; !ok {
			if dep.Required {
				return nil, fmt.Errorf("stack %s: service %s depends on %s, which is not in the stack (check COMPOSE_PROFILES)", b.stack.Env, spec.Name, dep.Service)
			}
			continue
		}
		if dep.Condition == compose.Completed || b.byName[dep.Service].OneShot {
			done, err := b.completed(dep.Service)
			if err != nil {
				return nil, err
			}
			ctr = ctr.WithMountedFile("/run/lakehouse/"+dep.Service+".done", done)
			continue
		}
		svc, err := b.service(dep.Service)
		if err != nil {
			return nil, err
		}
		ctr = ctr.WithServiceBinding(dep.Service, svc)
		bound[dep.Service] = true
	}
	for _, name := range b.referenced(spec) {
		if bound[name] || b.dependsOn(name, spec.Name) {
			continue
		}
		svc, err := b.service(name)
		if err != nil {
			return nil, err
		}
		ctr = ctr.WithServiceBinding(name, svc)
	}
	for _, port := range spec.Ports {
		ctr = ctr.WithExposedPort(port)
	}
	if hc := spec.Healthcheck; hc != nil {
		ctr = ctr.WithDockerHealthcheck(hc.Test, dagger.ContainerWithDockerHealthcheckOpts{
			Shell:         hc.Shell,
			Interval:      duration(hc.Interval),
			Timeout:       duration(hc.Timeout),
			StartPeriod:   duration(hc.StartPeriod),
			StartInterval: duration(hc.StartInterval),
			Retries:       hc.Retries,
		})
	}
	return ctr, nil
}

// referenced are the long-running services spec names as a host in its
// environment values or command (http://name:port, name:port, or a value
// that is just the name), in stack order.
func (b *stackBuilder) referenced(spec compose.Service) []string {
	text := strings.Join(spec.Command, " ")
	for _, v := range spec.Environment {
		text += " " + v.Value + " \x00" + v.Value + "\x00"
	}
	var out []string
	for _, other := range b.spec.Services {
		if other.Name == spec.Name || other.OneShot {
			continue
		}
		host := regexp.QuoteMeta(other.Name)
		if regexp.MustCompile(`(//|@|\x00|^|\s)` + host + `(:\d+|/|\x00|$)`).MatchString(text) {
			out = append(out, other.Name)
		}
	}
	return out
}

// dependsOn reports whether service a depends, transitively, on b (binding
// a into b would then be a cycle).
func (b *stackBuilder) dependsOn(a, target string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(name string) bool {
		if name == target {
			return true
		}
		if seen[name] {
			return false
		}
		seen[name] = true
		for _, d := range b.byName[name].DependsOn {
			if walk(d.Service) {
				return true
			}
		}
		return false
	}
	return walk(a)
}

func (b *stackBuilder) names() []string {
	out := make([]string, 0, len(b.spec.Services))
	for _, s := range b.spec.Services {
		out = append(out, s.Name)
	}
	return out
}

func (s *Stack) secret(name string) *dagger.Secret {
	for _, sec := range s.Secrets {
		if sec.Name == name {
			return sec.Value
		}
	}
	return nil
}

// duration renders a healthcheck duration as Docker does ("" for unset).
func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// startAll starts every long-running service and runs every one-shot job
// in dependency order, so one that never turns healthy, or a job that
// fails, is named itself (not the service that waits for it).
func (b *stackBuilder) startAll(ctx context.Context) error {
	for _, spec := range b.spec.Services {
		if spec.OneShot {
			done, err := b.completed(spec.Name)
			if err != nil {
				return err
			}
			if _, err := done.Sync(ctx); err != nil {
				return fmt.Errorf("stack %s: one-shot job %s failed: %s", b.stack.Env, spec.Name, errText(surface(err)))
			}
			continue
		}
		svc, err := b.service(spec.Name)
		if err != nil {
			return err
		}
		if _, err := svc.Start(ctx); err != nil {
			msg := fmt.Sprintf("stack %s: service %s did not start or never turned healthy: %s", b.stack.Env, spec.Name, errText(surface(err)))
			if logs := b.lastLogs(ctx, spec); logs != "" {
				msg += "\nits last log lines:\n" + logs
			}
			return errors.New(msg)
		}
	}
	return nil
}

// lastLogs runs the service's process again for a few seconds and returns
// the end of what it printed: why a service never turned healthy is in its
// own output, which the engine does not return with the error. Best effort
// ("" when the image has no shell or timeout).
func (b *stackBuilder) lastLogs(ctx context.Context, spec compose.Service) string {
	run := spec
	run.Healthcheck = nil
	ctr, err := b.container(run)
	if err != nil {
		return ""
	}
	opts := serviceArgs(spec)
	argv := opts.Args
	if opts.UseEntrypoint {
		entrypoint, _ := ctr.Entrypoint(ctx)
		if len(argv) == 0 {
			argv, _ = ctr.DefaultArgs(ctx)
		}
		argv = append(entrypoint, argv...)
	}
	if len(argv) == 0 {
		return ""
	}
	out, err := ctr.
		WithEnvVariable("LAKEHOUSE_RUN_ID", runID()).
		WithExec(append([]string{"sh", "-c", `timeout 20 "$@" 2>&1 | tail -n 40`, "sh"}, argv...), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny}).
		Stdout(ctx)
	if err != nil {
		return ""
	}
	return redact.Tail(out, tailLines, tailBytes)
}
