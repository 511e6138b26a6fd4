package terraform

import (
	"fmt"
	"path"
	"time"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// DefaultLockTimeout is how long plan and apply wait for another run's
// state lock before failing. Long enough to queue behind a short run on the
// same environment, short enough that a stale lock surfaces in the job log.
const DefaultLockTimeout = 5 * time.Minute

// Target is one environment of one cloud: the unit of state, plan and apply.
// Obtain it from NewTarget; the zero Target is not usable.
type Target struct {
	env         environment.Env
	cloud       Cloud
	backend     Backend
	lockTimeout time.Duration
}

// NewTarget pairs a validated environment with a cloud.
func NewTarget(env environment.Env, cloud Cloud) (Target, error) {
	b, err := BackendFor(env, cloud)
	if err != nil {
		return Target{}, err
	}
	return Target{env: env, cloud: cloud, backend: b, lockTimeout: DefaultLockTimeout}, nil
}

// Env returns the target's environment.
func (t Target) Env() environment.Env { return t.env }

// Cloud returns the target's cloud.
func (t Target) Cloud() Cloud { return t.cloud }

// Backend returns where the target's state lives.
func (t Target) Backend() Backend { return t.backend }

// String returns "<env>/<cloud>", e.g. "dev/aws".
func (t Target) String() string { return t.env.Name() + "/" + string(t.cloud) }

// WithLockTimeout returns a copy of t whose plan and apply wait d for the
// state lock (0 fails at once).
func (t Target) WithLockTimeout(d time.Duration) Target {
	t.lockTimeout = d
	return t
}

// Workdir is the cloud root relative to the repository root ("aws"); run
// every argv of this target there.
func (t Target) Workdir() string { return string(t.cloud) }

// VarFile is the environment's tfvars file relative to Workdir
// ("../environments/dev.tfvars").
func (t Target) VarFile() string { return path.Join("..", t.env.TfvarsFile()) }

// PlanFile is the conventional saved-plan file name, relative to Workdir
// ("dev.tfplan").
func (t Target) PlanFile() string { return t.env.Name() + ".tfplan" }

// Init returns the argv that initialises the cloud root against the
// target's state. -reconfigure makes init forget any backend settings left
// in .terraform by another environment instead of offering to migrate
// (copy) that state into this key; it never moves state.
// -lockfile=readonly installs exactly the providers of the committed lock
// file (LockFile) and fails when it is missing, lacks a required provider
// or its checksums do not match, instead of recording whatever the
// registry serves today; check for the file first and report
// MissingLockError(t.Cloud()). extraBackendConfig are "name=value"
// settings appended last (e.g. a local endpoint in tests).
func (t Target) Init(extraBackendConfig ...string) []string {
	args := []string{"terraform", "init", "-input=false", "-no-color", "-reconfigure", "-lockfile=readonly"}
	return append(args, t.backend.Args(extraBackendConfig...)...)
}

// Plan returns the argv of a saved plan. Exit code: 0 no changes, 2 changes,
// 1 error (see DetailedExitCode).
func (t Target) Plan(planFile string) []string {
	return []string{"terraform", "plan", "-input=false", "-no-color",
		"-lock-timeout=" + formatDuration(t.lockTimeout),
		"-var-file=" + t.VarFile(),
		"-out=" + planFile,
		"-detailed-exitcode"}
}

// Apply returns the argv that applies exactly the saved plan. A saved plan
// is applied without a confirmation prompt, so no -auto-approve; variables
// are taken from the plan, so no -var-file. Terraform refuses the plan if
// the state changed since it was made ("Saved plan is stale").
func (t Target) Apply(planFile string) []string {
	return applyArgv(t.lockTimeout, planFile)
}

// ApplySaved is Target.Apply with DefaultLockTimeout, for callers that hold
// only the saved plan file (the plan already fixes environment, variables
// and backend; run it in the workdir that made the plan).
func ApplySaved(planFile string) []string {
	return applyArgv(DefaultLockTimeout, planFile)
}

func applyArgv(lockTimeout time.Duration, planFile string) []string {
	return []string{"terraform", "apply", "-input=false", "-no-color",
		"-lock-timeout=" + formatDuration(lockTimeout),
		planFile}
}

// ShowJSON returns the argv that prints a saved plan as JSON (input of
// Summarize).
func (t Target) ShowJSON(planFile string) []string {
	return []string{"terraform", "show", "-json", "-no-color", planFile}
}

// Drift returns the argv of a drift check: a full, unsaved plan that does
// not take the state lock, so it needs only read access and never blocks or
// waits for a deploy. It reports both changes made outside Terraform and
// committed configuration not yet applied. Exit code: 0 no drift, 2 drift,
// 1 error (see DetailedExitCode).
func (t Target) Drift() []string {
	return []string{"terraform", "plan", "-input=false", "-no-color",
		"-lock=false",
		"-var-file=" + t.VarFile(),
		"-detailed-exitcode"}
}

// OutputJSON returns the argv that prints the target's outputs as JSON
// (run after Init).
func (t Target) OutputJSON() []string {
	return []string{"terraform", "output", "-json", "-no-color"}
}

// ForceUnlock returns the argv that removes the target's state lock with
// the given ID, left behind by a cancelled run (the ID is printed in the
// "Error acquiring the state lock" message). Run it after Init, and only
// once the run holding the lock is known to be gone.
func (t Target) ForceUnlock(lockID string) []string {
	return []string{"terraform", "force-unlock", "-force", lockID}
}

// InitWithoutBackend returns the argv that initialises a cloud root for
// validation only: providers and modules, no state access, no credentials.
//
// It deliberately does not pass -lockfile=readonly: validation changes
// nothing, and it must also run on a root whose lock file is not committed
// yet (its providers cannot be locked where the lock is written). A
// committed lock file still binds it: init installs the locked versions
// and refuses packages whose checksums do not match; it may only add
// entries to the working copy, which the pipeline never commits.
func InitWithoutBackend() []string {
	return []string{"terraform", "init", "-input=false", "-no-color", "-backend=false"}
}

// Validate returns the argv that validates a cloud root (after
// InitWithoutBackend).
func Validate() []string {
	return []string{"terraform", "validate", "-no-color"}
}

// DetailedExitCode interprets the exit code of Plan or Drift:
// 0 → no changes, 2 → changes, anything else → an error.
func DetailedExitCode(code int) (changes bool, err error) {
	switch code {
	case 0:
		return false, nil
	case 2:
		return true, nil
	}
	return false, fmt.Errorf("terraform plan failed with exit code %d", code)
}

// EnvVar is one environment variable for the terraform process.
type EnvVar struct {
	Name, Value string
}

// Environ returns the variables every terraform process of the pipeline
// gets, sorted by name: automation mode (no interactive hints), no input
// prompts, no update checks. pluginCacheDir, if not empty, becomes
// TF_PLUGIN_CACHE_DIR; Terraform's plugin cache is not safe for concurrent
// init, so give each concurrently running target its own directory or
// serialise access to a shared one. Credentials are not included: the
// caller passes them as secrets.
func Environ(pluginCacheDir string) []EnvVar {
	vars := []EnvVar{
		{"CHECKPOINT_DISABLE", "1"},
		{"TF_INPUT", "0"},
		{"TF_IN_AUTOMATION", "1"},
	}
	if pluginCacheDir != "" {
		vars = append(vars, EnvVar{"TF_PLUGIN_CACHE_DIR", pluginCacheDir})
	}
	return vars
}

// formatDuration renders d as Terraform's -lock-timeout expects: whole
// minutes as "5m", anything else in whole seconds ("30s", "0s").
func formatDuration(d time.Duration) string {
	s := int(d / time.Second)
	if s > 0 && s%60 == 0 {
		return fmt.Sprintf("%dm", s/60)
	}
	return fmt.Sprintf("%ds", s)
}
