// Package envrun verifies a release inside a deployed environment, where its
// catalog and data are reachable and a CI runner's are not: it waits until
// the environment's Dagster services run the release, runs one-off tasks of
// the release's images there (the smoke materialization and the quality
// gate), awaits them, and fetches the gate's report from the environment's
// bucket. What to start comes from the environment's Terraform outputs
// (dagster_services, smoke_run, quality_gate), so nothing here names an
// environment. On AWS the tasks are ECS tasks, run by this package; on GCP
// they are Cloud Run jobs, run by envrun/cloudrun (kept apart so that
// importers of this package never compile Google's API clients). The
// cmd/envrun tool runs either in a container with the environment's
// credentials.
package envrun

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Outputs are the Terraform outputs of an applied environment that say
// how to verify it. Exactly one cloud's targets are set (or none, when the
// environment has neither Dagster nor a gate); the accessors (HasServices,
// HasSmoke, HasGate, GateReportURI, Platform) answer for either.
type Outputs struct {
	Environment  string
	Region       string
	DagsterImage string
	GateImage    string

	// AWS (launcher "ecs").
	// Services is nil when the environment runs no Dagster.
	Services *Services
	// Smoke is nil when the environment runs no Dagster.
	Smoke *Task
	// Gate is nil when the environment has no gate image.
	Gate *GateTask

	// GCP (launchers "cloud-run" and "cloud-run-job"), nil under the same
	// conditions as their AWS counterparts.
	CloudRunServices *CloudRunServices
	SmokeJob         *CloudRunJob
	GateJob          *CloudRunGate
}

// Platform is where an environment's verification runs.
type Platform string

const (
	// PlatformNone: the outputs name nothing to start (no Dagster, no gate).
	PlatformNone Platform = ""
	// PlatformECS: ECS services and Fargate tasks (aws/).
	PlatformECS Platform = "ecs"
	// PlatformCloudRun: Cloud Run services and jobs (gcp/).
	PlatformCloudRun Platform = "cloud-run"
)

// Launchers, the `launcher` key of each target output.
const (
	LauncherECS         = "ecs"
	LauncherCloudRun    = "cloud-run"     // dagster_services on GCP
	LauncherCloudRunJob = "cloud-run-job" // smoke_run and quality_gate on GCP
)

// Output names, shared by aws/ and gcp/.
const (
	ServicesOutput = "dagster_services"
	SmokeOutput    = "smoke_run"
	GateOutput     = "quality_gate"
)

var runIDVar = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

type rawOutput struct {
	Sensitive bool            `json:"sensitive"`
	Value     json.RawMessage `json:"value"`
}

// ParseOutputs reads `terraform output -json` of an applied environment.
// Every output this package relies on is checked for shape, so a root that
// drifted from this package fails here, before any task starts. Each target
// output's `launcher` chooses its shape; all of them must name one cloud.
func ParseOutputs(outputJSON []byte) (Outputs, error) {
	var raw map[string]rawOutput
	if err := json.Unmarshal(outputJSON, &raw); err != nil {
		return Outputs{}, fmt.Errorf("terraform outputs: not the JSON of `terraform output -json`: %w", err)
	}
	var out Outputs
	for name, into := range map[string]*string{"environment": &out.Environment, "region": &out.Region, "dagster_image": &out.DagsterImage, "gate_image": &out.GateImage} {
		s, err := stringOutput(raw, name)
		if err != nil {
			return Outputs{}, err
		}
		*into = s
	}
	launchers := map[string]string{}
	for _, name := range []string{ServicesOutput, SmokeOutput, GateOutput} {
		value, err := objectOutput(raw, name)
		if err != nil {
			return Outputs{}, err
		}
		if value == nil {
			continue
		}
		var head struct {
			Launcher string `json:"launcher"`
		}
		if err := json.Unmarshal(value, &head); err != nil {
			return Outputs{}, fmt.Errorf("terraform output %s has an unexpected shape: %w", name, err)
		}
		launchers[name] = head.Launcher
		if err := out.decode(name, head.Launcher, value); err != nil {
			return Outputs{}, err
		}
	}
	if err := samePlatform(launchers); err != nil {
		return Outputs{}, err
	}
	return out, nil
}

// decode sets the target of one output from its launcher.
func (out *Outputs) decode(name, launcher string, value json.RawMessage) error {
	var err error
	switch {
	case name == ServicesOutput && launcher == LauncherECS:
		out.Services, err = target[Services](name, value)
	case name == ServicesOutput && launcher == LauncherCloudRun:
		out.CloudRunServices, err = target[CloudRunServices](name, value)
	case name == SmokeOutput && launcher == LauncherECS:
		out.Smoke, err = target[Task](name, value)
	case name == SmokeOutput && launcher == LauncherCloudRunJob:
		out.SmokeJob, err = target[CloudRunJob](name, value)
	case name == GateOutput && launcher == LauncherECS:
		out.Gate, err = target[GateTask](name, value)
	case name == GateOutput && launcher == LauncherCloudRunJob:
		out.GateJob, err = target[CloudRunGate](name, value)
	default:
		want := LauncherCloudRunJob
		if name == ServicesOutput {
			want = LauncherCloudRun
		}
		return fmt.Errorf("terraform output %s: launcher %q: this pipeline starts %q (aws/) or %q (gcp/) here; apply the environment with this repository's root", name, launcher, LauncherECS, want)
	}
	return err
}

// platformOf maps a launcher to its cloud.
func platformOf(launcher string) Platform {
	if launcher == LauncherECS {
		return PlatformECS
	}
	return PlatformCloudRun
}

// samePlatform refuses outputs whose targets name different clouds: one
// runner (and one set of credentials) verifies an environment.
func samePlatform(launchers map[string]string) error {
	names := make([]string, 0, len(launchers))
	for n := range launchers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names[min(1, len(names)):] {
		if platformOf(launchers[n]) != platformOf(launchers[names[0]]) {
			return fmt.Errorf("terraform outputs mix launchers: %s is %q but %s is %q; the outputs must come from one root (aws/ or gcp/)", names[0], launchers[names[0]], n, launchers[n])
		}
	}
	return nil
}

func stringOutput(raw map[string]rawOutput, name string) (string, error) {
	o, ok := raw[name]
	if !ok {
		return "", fmt.Errorf("terraform outputs have no %s: apply the environment with this repository's root first", name)
	}
	var s *string
	if err := json.Unmarshal(o.Value, &s); err != nil {
		return "", fmt.Errorf("terraform output %s must be a string: %w", name, err)
	}
	if s == nil {
		return "", nil
	}
	return *s, nil
}

// objectOutput is the value of an object output; nil when it is null.
func objectOutput(raw map[string]rawOutput, name string) (json.RawMessage, error) {
	o, ok := raw[name]
	if !ok {
		return nil, fmt.Errorf("terraform outputs have no %s: apply the environment with this repository's root first", name)
	}
	if o.Sensitive {
		return nil, fmt.Errorf("terraform output %s is marked sensitive: it must hold only names and ARNs", name)
	}
	if string(o.Value) == "null" || len(o.Value) == 0 {
		return nil, nil
	}
	return o.Value, nil
}

// target decodes one object output strictly and validates it.
func target[T any, PT interface {
	*T
	validate() error
}](name string, value json.RawMessage) (*T, error) {
	v := new(T)
	dec := json.NewDecoder(strings.NewReader(string(value)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, fmt.Errorf("terraform output %s has an unexpected shape: %w", name, err)
	}
	if err := PT(v).validate(); err != nil {
		return nil, fmt.Errorf("terraform output %s: %w", name, err)
	}
	return v, nil
}

// Platform is the cloud the outputs' targets run on; PlatformNone when
// they name none.
func (o Outputs) Platform() Platform {
	switch {
	case o.Services != nil || o.Smoke != nil || o.Gate != nil:
		return PlatformECS
	case o.CloudRunServices != nil || o.SmokeJob != nil || o.GateJob != nil:
		return PlatformCloudRun
	}
	return PlatformNone
}

// HasServices says whether the environment runs Dagster services to wait for.
func (o Outputs) HasServices() bool { return o.Services != nil || o.CloudRunServices != nil }

// HasSmoke says whether the environment defines a smoke run.
func (o Outputs) HasSmoke() bool { return o.Smoke != nil || o.SmokeJob != nil }

// HasGate says whether the environment defines a quality-gate task or job.
func (o Outputs) HasGate() bool { return o.Gate != nil || o.GateJob != nil }

// GateReportURI is the full URI of a gate run's report,
// <report_uri>/<run id>/gate.json (s3:// or gs://); "" without a gate.
func (o Outputs) GateReportURI(runID string) string {
	var uri string
	switch {
	case o.Gate != nil:
		uri = o.Gate.ReportURI
	case o.GateJob != nil:
		uri = o.GateJob.ReportURI
	default:
		return ""
	}
	scheme, _, _ := strings.Cut(uri, "://")
	bucket, key := reportKey(uri, runID)
	return scheme + "://" + bucket + "/" + key
}

// reportKey splits <scheme>://bucket/prefix into the bucket and the key of
// <prefix>/<run id>/gate.json.
func reportKey(uri, runID string) (bucket, key string) {
	_, rest, _ := strings.Cut(uri, "://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return bucket, prefix + runID + "/gate.json"
}

// CheckRelease refuses outputs that do not describe the release: after an
// apply of the release's plan, the environment's images are its digests.
func (o Outputs) CheckRelease(runtimeImage, gateImage string) error {
	if o.HasServices() && o.DagsterImage != runtimeImage {
		return fmt.Errorf("the environment runs Dagster image %q, not the release's %q: was the release's plan applied? (`deploy` plans with the release's digests)", o.DagsterImage, runtimeImage)
	}
	if !o.HasGate() {
		return fmt.Errorf("the environment has no quality-gate task (output %s is null): set gate_image, which `deploy` does from the release", GateOutput)
	}
	if o.GateImage != gateImage {
		return fmt.Errorf("the environment's gate task runs %q, not the release's %q: deploy the release first (`deploy --env %s`)", o.GateImage, gateImage, o.Environment)
	}
	return nil
}
