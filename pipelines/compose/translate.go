package compose

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// Translate turns a merged, interpolated compose project (as Load returns
// it) into plain service specs. Every key set in the project is mapped,
// ignored on purpose or refused, as keyTable says; a refused key, or a value
// a mapped key cannot carry (a udp port, a bind mount outside the project
// directory, a secret inside a longer value), fails with the service, the
// key and the reason, all of them in one error.
func Translate(p *types.Project, opts TranslateOptions) (*Spec, error) {
	if err := checkSecretOptions(opts); err != nil {
		return nil, fmt.Errorf("%s: %w", describe(p), err)
	}
	errs := []error{refuseUnsupported(p)}
	errs = append(errs, checkProjectResources(p)...)
	services := make(map[string]Service, len(p.Services))
	volumes := map[string]bool{}
	projectImageUsed := false
	for _, name := range p.ServiceNames() {
		svc, err := translateService(p, p.Services[name], opts)
		if err != nil {
			errs = append(errs, eachWith(fmt.Sprintf("%s: service %q", describe(p), name), err)...)
			continue
		}
		for _, m := range svc.Mounts {
			if m.Kind == NamedVolume {
				volumes[m.Source] = true
			}
		}
		projectImageUsed = projectImageUsed || svc.ProjectImage
		services[name] = svc
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.ProjectImage != "" && !projectImageUsed {
		return nil, fmt.Errorf("%s: no service runs the project image %q (TranslateOptions.ProjectImage); set the env file's image variable to the reference the Dagster services use", describe(p), opts.ProjectImage)
	}
	if err := markOneShots(p, services); err != nil {
		return nil, errors.Join(eachWith(describe(p), err)...)
	}
	ordered, err := dependencyOrder(services)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", describe(p), err)
	}
	spec := &Spec{Project: p.Name, Services: ordered}
	for v := range volumes {
		spec.Volumes = append(spec.Volumes, v)
	}
	sort.Strings(spec.Volumes)
	return spec, nil
}

// checkProjectResources refuses top-level volumes and networks whose values
// would make two projects share them (keyTable maps or ignores the keys).
func checkProjectResources(p *types.Project) []error {
	var errs []error
	for _, key := range sortedNames(p.Volumes) {
		if want := p.Name + "_" + key; !p.Volumes[key].External && p.Volumes[key].Name != want {
			errs = append(errs, fmt.Errorf("%s: volumes.%s.name is %q: a fixed name is one volume shared by every project (environments side by side); remove name: so it is %q", describe(p), key, p.Volumes[key].Name, want))
		}
	}
	for _, key := range sortedNames(p.Networks) {
		if key != "default" {
			errs = append(errs, fmt.Errorf("%s: networks.%s: only the default network is supported (services reach each other by name); remove the network", describe(p), key))
		}
	}
	return errs
}

// eachWith prefixes every error of a joined error, so each line of the
// message says where it comes from.
func eachWith(prefix string, err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, eachWith(prefix, e)...)
		}
		return out
	}
	return []error{fmt.Errorf("%s: %w", prefix, err)}
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func translateService(p *types.Project, s types.ServiceConfig, opts TranslateOptions) (Service, error) {
	out := Service{
		Name:         s.Name,
		Image:        s.Image,
		ProjectImage: opts.ProjectImage != "" && s.Image == opts.ProjectImage,
		Entrypoint:   copyCommand(s.Entrypoint),
		Command:      copyCommand(s.Command),
		User:         s.User,
		WorkingDir:   s.WorkingDir,
	}
	var errs []error
	if s.Image == "" {
		errs = append(errs, errors.New("image is not set: every service needs an image reference (the project image is built by `dagger call build`)"))
	}
	for net := range s.Networks {
		if net != "default" {
			errs = append(errs, fmt.Errorf("networks.%s: only the default network is supported (services reach each other by name); remove it", net))
		}
	}
	var err error
	if out.Environment, out.SecretEnvironment, err = envVars(s, opts.Secrets); err != nil {
		errs = append(errs, err)
	}
	if out.Ports, out.Published, err = ports(s); err != nil {
		errs = append(errs, err)
	}
	if out.Healthcheck, err = healthcheck(s.HealthCheck); err != nil {
		errs = append(errs, err)
	}
	if out.DependsOn, err = dependencies(p, s); err != nil {
		errs = append(errs, err)
	}
	if out.Mounts, err = mounts(p, s); err != nil {
		errs = append(errs, err)
	}
	if err := refuseSelfAddress(out); err != nil {
		errs = append(errs, err)
	}
	out.Limits = limits(s.Deploy)
	return out, errors.Join(errs...)
}

// copyCommand keeps nil (the image's) apart from empty (cleared).
func copyCommand(c types.ShellCommand) []string {
	if c == nil {
		return nil
	}
	return append([]string{}, c...)
}

// envVars splits a service's variables into plain and secret ones. A
// variable without a value (declared but unset) is not set in the
// container, as with docker compose.
func envVars(s types.ServiceConfig, secrets map[string]string) ([]EnvVar, []SecretEnvVar, error) {
	bySecret := make(map[string]string, len(secrets))
	for name, placeholder := range secrets {
		bySecret[placeholder] = name
	}
	var plain []EnvVar
	var secret []SecretEnvVar
	for _, name := range sortedNames(s.Environment) {
		v := s.Environment[name]
		if v == nil {
			continue
		}
		if from, ok := bySecret[*v]; ok {
			secret = append(secret, SecretEnvVar{Name: name, Secret: from})
			continue
		}
		plain = append(plain, EnvVar{Name: name, Value: *v})
	}
	return plain, secret, refuseLeakedSecrets(s, secrets)
}

func ports(s types.ServiceConfig) ([]int, []PortForward, error) {
	seen := map[int]bool{}
	var targets []int
	add := func(port int) {
		if !seen[port] {
			seen[port] = true
			targets = append(targets, port)
		}
	}
	var published []PortForward
	var errs []error
	for i, p := range s.Ports {
		if p.Protocol != "" && p.Protocol != "tcp" {
			errs = append(errs, fmt.Errorf("ports[%d].protocol is %q: only tcp is supported (Ports and Published are TCP ports)", i, p.Protocol))
			continue
		}
		if p.Target < 1 || p.Target > 65535 {
			errs = append(errs, fmt.Errorf("ports[%d].target is %d: a container port is 1-65535", i, p.Target))
			continue
		}
		add(int(p.Target))
		if p.Published == "" {
			continue
		}
		host, err := strconv.Atoi(p.Published)
		if err != nil || host < 1 || host > 65535 {
			errs = append(errs, fmt.Errorf("ports[%d].published is %q: one host port (1-65535) is supported, not a range", i, p.Published))
			continue
		}
		published = append(published, PortForward{Host: host, Container: int(p.Target)})
	}
	for i, e := range s.Expose {
		port, err := strconv.Atoi(strings.TrimSuffix(e, "/tcp"))
		if err != nil || port < 1 || port > 65535 {
			errs = append(errs, fmt.Errorf("expose[%d] is %q: one tcp port (1-65535) is supported, not a range or udp", i, e))
			continue
		}
		add(port)
	}
	sort.Ints(targets)
	sort.Slice(published, func(i, j int) bool { return published[i].Host < published[j].Host })
	return targets, published, errors.Join(errs...)
}

func healthcheck(h *types.HealthCheckConfig) (*Healthcheck, error) {
	if h == nil || h.Disable || (len(h.Test) > 0 && h.Test[0] == "NONE") {
		return nil, nil
	}
	if len(h.Test) == 0 {
		return nil, errors.New("healthcheck.test is not set: the image's own HEALTHCHECK would run unseen; write the test, or disable: true")
	}
	out := &Healthcheck{
		Interval:      duration(h.Interval),
		Timeout:       duration(h.Timeout),
		StartPeriod:   duration(h.StartPeriod),
		StartInterval: duration(h.StartInterval),
	}
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	switch kind, args := h.Test[0], h.Test[1:]; {
	case kind == "CMD" && len(args) > 0:
		out.Test = append([]string{}, args...)
	case kind == "CMD-SHELL" && len(args) == 1:
		out.Test, out.Shell = []string{args[0]}, true
	default:
		return nil, fmt.Errorf("healthcheck.test is %q: use [\"CMD\", argv...], [\"CMD-SHELL\", \"one command line\"] or [\"NONE\"]", h.Test)
	}
	return out, nil
}

func duration(d *types.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(*d)
}

// dependencies lists depends_on sorted by service name. A dependency with
// required: false may name a service outside the active profiles; it is
// kept (Required false) for the caller to skip.
func dependencies(p *types.Project, s types.ServiceConfig) ([]Dependency, error) {
	var deps []Dependency
	var errs []error
	for _, name := range sortedNames(s.DependsOn) {
		d := s.DependsOn[name]
		c := Condition(d.Condition)
		if c == "" {
			c = Started
		}
		if c != Started && c != Healthy && c != Completed {
			errs = append(errs, fmt.Errorf("depends_on.%s.condition is %q: use %s, %s or %s", name, d.Condition, Started, Healthy, Completed))
			continue
		}
		dep, running := p.Services[name]
		switch {
		case !running && d.Required:
			errs = append(errs, fmt.Errorf("depends_on.%s: no such service in this project (is its profile active? set COMPOSE_PROFILES, or required: false)", name))
			continue
		case running && c == Healthy && (dep.HealthCheck == nil || dep.HealthCheck.Disable):
			errs = append(errs, fmt.Errorf("depends_on.%s.condition is service_healthy but %s has no healthcheck: it would never turn healthy; give it one, or wait for service_started", name, name))
			continue
		}
		deps = append(deps, Dependency{Service: name, Condition: c, Required: d.Required})
	}
	return deps, errors.Join(errs...)
}

// mounts translates volumes: named volumes to project-scoped names, bind
// sources to paths relative to the project directory (none may leave it).
func mounts(p *types.Project, s types.ServiceConfig) ([]Mount, error) {
	var out []Mount
	var errs []error
	for i, v := range s.Volumes {
		if !path.IsAbs(v.Target) {
			errs = append(errs, fmt.Errorf("volumes[%d] mounts at %q: give the absolute path in the container, e.g. /%s", i, v.Target, strings.TrimPrefix(v.Target, "./")))
			continue
		}
		switch v.Type {
		case types.VolumeTypeVolume:
			if _, declared := p.Volumes[v.Source]; v.Source == "" || !declared {
				errs = append(errs, fmt.Errorf("volumes[%d] (%s) is an anonymous volume: declare it under the top-level volumes and name it, so its name is scoped to the project", i, v.Target))
				continue
			}
			out = append(out, Mount{Kind: NamedVolume, Source: p.Name + "-" + v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
		case types.VolumeTypeBind:
			rel, err := filepath.Rel(p.WorkingDir, v.Source)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
				errs = append(errs, fmt.Errorf("volumes[%d] binds %s, outside the project directory %s: only paths inside it are mounted (from the source tree); move the files there or use a named volume", i, v.Source, p.WorkingDir))
				continue
			}
			out = append(out, Mount{Kind: Bind, Source: filepath.ToSlash(rel), Target: v.Target, ReadOnly: v.ReadOnly})
		default:
			errs = append(errs, fmt.Errorf("volumes[%d].type is %q: use volume (a named volume) or bind (a path inside the project directory)", i, v.Type))
		}
	}
	return out, errors.Join(errs...)
}

func limits(d *types.DeployConfig) Limits {
	if d == nil || d.Resources.Limits == nil {
		return Limits{}
	}
	l := d.Resources.Limits
	// cpus is a float32: read it back as written ("0.1", not 0.100000001).
	cpus, _ := strconv.ParseFloat(strconv.FormatFloat(float64(l.NanoCPUs), 'f', -1, 32), 64)
	return Limits{NanoCPUs: int64(cpus*1e9 + 0.5), MemoryBytes: int64(l.MemoryBytes)}
}
