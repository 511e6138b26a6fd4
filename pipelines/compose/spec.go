package compose

import "time"

// Spec is an environment's compose stack as plain service specs: what the
// Dagger module starts as services. It is derived from the merged compose
// project (Translate), so nothing about the stack is written twice.
type Spec struct {
	// Project is the compose project name, e.g. "lakehouse-<env>"; every
	// name that must not collide between environments derives from it.
	Project string
	// Services in dependency order: every service comes after the services
	// it depends on. Services outside the active profiles are left out.
	Services []Service
	// Volumes are the named volumes, as project-scoped names
	// ("<project>-<volume>", the cache volume keys of the stack).
	Volumes []string
}

// Service is one compose service.
type Service struct {
	// Name is the compose service name: the host name other services use.
	Name string
	// Image is the image reference from the compose file ("" never).
	Image string
	// ProjectImage is true when Image is the Dagster image (the compose
	// value of LAKEHOUSE_IMAGE): the pipeline runs its own build instead.
	ProjectImage bool
	// Entrypoint and Command as compose gives them (nil: the image's).
	Entrypoint []string
	Command    []string
	// Environment after interpolation, sorted by name. Values that carry a
	// secret are in SecretEnvironment instead.
	Environment []EnvVar
	// SecretEnvironment are variables whose value is a secret the caller
	// supplies (the compose value interpolated a variable named in
	// TranslateOptions.Secrets).
	SecretEnvironment []SecretEnvVar
	// Ports are the container ports the service listens on (compose
	// ports' targets and expose), sorted.
	Ports []int
	// Published maps host ports to container ports (compose ports with a
	// published port), for forwarding with `up`.
	Published []PortForward
	// Healthcheck is nil when the service has none.
	Healthcheck *Healthcheck
	// DependsOn sorted by service name (compose keeps no order). An entry
	// with Required false may name a service that is not in Spec.Services
	// (its profile is not active): skip it.
	DependsOn []Dependency
	// OneShot services run to completion (restart "no" and a dependent
	// waits for service_completed_successfully): a job, not a service.
	OneShot bool
	// Mounts are named volumes and bind mounts.
	Mounts []Mount
	// Limits are the deploy.resources.limits (zero: none).
	Limits Limits
	// User is the compose user ("" for the image's).
	User string
	// WorkingDir is the compose working_dir ("" for the image's).
	WorkingDir string
}

// EnvVar is one plain environment variable.
type EnvVar struct{ Name, Value string }

// SecretEnvVar is an environment variable whose value is the secret named
// Secret (a key of TranslateOptions.Secrets).
type SecretEnvVar struct{ Name, Secret string }

// PortForward is a published port.
type PortForward struct{ Host, Container int }

// Healthcheck is a compose healthcheck (Docker's HEALTHCHECK).
type Healthcheck struct {
	// Test is the command; Shell is true for CMD-SHELL (run by /bin/sh -c).
	Test  []string
	Shell bool
	// Zero durations mean Docker's defaults.
	Interval, Timeout, StartPeriod, StartInterval time.Duration
	// Retries is 0 for Docker's default (3).
	Retries int
}

// Condition is what a dependent waits for.
type Condition string

// The depends_on conditions.
const (
	Started   Condition = "service_started"
	Healthy   Condition = "service_healthy"
	Completed Condition = "service_completed_successfully"
)

// Dependency is one depends_on entry.
type Dependency struct {
	Service   string
	Condition Condition
	// Required is false for `required: false` (skip when not running).
	Required bool
}

// MountKind says what a mount's source is.
type MountKind string

// The mount kinds the stack uses.
const (
	// NamedVolume: Source is the project-scoped volume name.
	NamedVolume MountKind = "volume"
	// Bind: Source is a path relative to the compose project directory.
	Bind MountKind = "bind"
)

// Mount is a volume or bind mount.
type Mount struct {
	Kind     MountKind
	Source   string
	Target   string
	ReadOnly bool
}

// Limits are a service's resource limits.
type Limits struct {
	// NanoCPUs is CPUs × 1e9 (0: none).
	NanoCPUs int64
	// MemoryBytes (0: none).
	MemoryBytes int64
}

// TranslateOptions configures Translate.
type TranslateOptions struct {
	// Secrets are the names of variables whose values are secrets supplied
	// by the caller, mapped to the placeholder value Load was given for
	// them; any environment value equal to a placeholder becomes a
	// SecretEnvVar. A placeholder inside a longer value, in a command or
	// anywhere else is refused: it would put the secret in plain text.
	Secrets map[string]string
	// ProjectImage is the compose image reference of the Dagster image
	// (e.g. the env file's LAKEHOUSE_IMAGE).
	ProjectImage string
}
