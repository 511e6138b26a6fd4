// Package envrun verifies a release inside a deployed environment, where its
// catalog and data are reachable and a CI runner's are not: it waits until
// the environment's Dagster services run the release, runs one-off tasks of
// the release's images there (the smoke materialization and the quality
// gate), awaits them, and fetches the gate's report from the environment's
// bucket. What to start comes from the environment's Terraform outputs
// (dagster_services, smoke_run, quality_gate), so nothing here names an
// environment. On AWS the tasks are ECS tasks; the cmd/envrun tool runs
// this package in a container with the environment's credentials.
package envrun

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Outputs are the Terraform outputs of an applied environment that say
// how to verify it.
type Outputs struct {
	Environment  string
	Region       string
	DagsterImage string
	GateImage    string
	// Services is nil when the environment runs no Dagster.
	Services *Services
	// Smoke is nil when the environment runs no Dagster.
	Smoke *Task
	// Gate is nil when the environment has no gate image.
	Gate *GateTask
}

// Services are long-running services that must run the release.
type Services struct {
	Launcher string `json:"launcher"`
	Cluster  string `json:"cluster"`
	// Services maps a role to its service and the task definition the
	// apply gave it (the release's).
	Services map[string]Service `json:"services"`
}

// Service is one long-running service.
type Service struct {
	Name           string `json:"name"`
	TaskDefinition string `json:"task_definition"`
}

// Task is a one-off task definition and where it runs.
type Task struct {
	Launcher       string   `json:"launcher"`
	Cluster        string   `json:"cluster"`
	TaskDefinition string   `json:"task_definition"`
	Container      string   `json:"container"`
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"security_groups"`
	AssignPublicIP bool     `json:"assign_public_ip"`
	// Command overrides the container's command; empty keeps it.
	Command []string `json:"command"`
}

// GateTask is the quality gate's task: its report lands under ReportURI.
type GateTask struct {
	Task
	RunIDVariable string `json:"run_id_variable"`
	ReportURI     string `json:"report_uri"`
}

// LauncherECS is the only launcher this package starts; Cloud Run jobs
// (gcp/) are refused with a clear message.
const LauncherECS = "ecs"

// Output names, shared by aws/ and gcp/.
const (
	ServicesOutput = "dagster_services"
	SmokeOutput    = "smoke_run"
	GateOutput     = "quality_gate"
)

var (
	ecsARN    = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:(cluster|task-definition)/[A-Za-z0-9_:/.-]+$`)
	awsIDLike = regexp.MustCompile(`^(subnet|sg)-[0-9a-f]{8,17}$`)
	s3URI     = regexp.MustCompile(`^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()/-]*)?$`)
	runIDVar  = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

// ParseOutputs reads `terraform output -json` of an applied environment.
// Every output this package relies on is checked for shape, so a root that
// drifted from this package fails here, before any task starts.
func ParseOutputs(outputJSON []byte) (Outputs, error) {
	var raw map[string]struct {
		Sensitive bool            `json:"sensitive"`
		Value     json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(outputJSON, &raw); err != nil {
		return Outputs{}, fmt.Errorf("terraform outputs: not the JSON of `terraform output -json`: %w", err)
	}
	str := func(name string) (string, error) {
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
	obj := func(name string, into any) (bool, error) {
		o, ok := raw[name]
		if !ok {
			return false, fmt.Errorf("terraform outputs have no %s: apply the environment with this repository's root first", name)
		}
		if o.Sensitive {
			return false, fmt.Errorf("terraform output %s is marked sensitive: it must hold only names and ARNs", name)
		}
		if string(o.Value) == "null" || len(o.Value) == 0 {
			return false, nil
		}
		dec := json.NewDecoder(strings.NewReader(string(o.Value)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into); err != nil {
			return false, fmt.Errorf("terraform output %s has an unexpected shape: %w", name, err)
		}
		return true, nil
	}
	var out Outputs
	var err error
	for name, into := range map[string]*string{"environment": &out.Environment, "region": &out.Region, "dagster_image": &out.DagsterImage, "gate_image": &out.GateImage} {
		if *into, err = str(name); err != nil {
			return Outputs{}, err
		}
	}
	if out.Services, err = target[Services](obj, ServicesOutput); err != nil {
		return Outputs{}, err
	}
	if out.Smoke, err = target[Task](obj, SmokeOutput); err != nil {
		return Outputs{}, err
	}
	if out.Gate, err = target[GateTask](obj, GateOutput); err != nil {
		return Outputs{}, err
	}
	return out, nil
}

// target decodes and validates one object output; nil when it is null.
func target[T interface{ validate() error }](obj func(string, any) (bool, error), name string) (*T, error) {
	var v T
	ok, err := obj(name, &v)
	if err != nil || !ok {
		return nil, err
	}
	if err := v.validate(); err != nil {
		return nil, fmt.Errorf("terraform output %s: %w", name, err)
	}
	return &v, nil
}

func launcherOK(l string) error {
	if l != LauncherECS {
		return fmt.Errorf("launcher %q: this pipeline starts ECS tasks only (launcher %q); verify with --direct from a runner that reaches the catalog", l, LauncherECS)
	}
	return nil
}

func (s Services) validate() error {
	if err := launcherOK(s.Launcher); err != nil {
		return err
	}
	if !ecsARN.MatchString(s.Cluster) {
		return fmt.Errorf("cluster %q is not an ECS cluster ARN", s.Cluster)
	}
	if len(s.Services) == 0 {
		return fmt.Errorf("no services listed")
	}
	for role, svc := range s.Services {
		if svc.Name == "" || !ecsARN.MatchString(svc.TaskDefinition) {
			return fmt.Errorf("service %s: needs a name and a task definition ARN, got %q and %q", role, svc.Name, svc.TaskDefinition)
		}
	}
	return nil
}

func (t Task) validate() error {
	if err := launcherOK(t.Launcher); err != nil {
		return err
	}
	switch {
	case !ecsARN.MatchString(t.Cluster):
		return fmt.Errorf("cluster %q is not an ECS cluster ARN", t.Cluster)
	case !ecsARN.MatchString(t.TaskDefinition):
		return fmt.Errorf("task_definition %q is not an ECS task definition ARN", t.TaskDefinition)
	case t.Container == "":
		return fmt.Errorf("container is empty: name the task's essential container")
	case len(t.Subnets) == 0:
		return fmt.Errorf("no subnets: a Fargate task needs at least one")
	}
	for _, id := range append(append([]string{}, t.Subnets...), t.SecurityGroups...) {
		if !awsIDLike.MatchString(id) {
			return fmt.Errorf("%q is not a subnet or security group id", id)
		}
	}
	return nil
}

func (g GateTask) validate() error {
	if err := g.Task.validate(); err != nil {
		return err
	}
	if !runIDVar.MatchString(g.RunIDVariable) {
		return fmt.Errorf("run_id_variable %q is not an environment variable name", g.RunIDVariable)
	}
	if !s3URI.MatchString(g.ReportURI) {
		return fmt.Errorf("report_uri %q is not an s3://bucket/prefix URI", g.ReportURI)
	}
	return nil
}

// Roles lists the services' roles in a stable order.
func (s Services) Roles() []string {
	roles := make([]string, 0, len(s.Services))
	for r := range s.Services {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// ReportKey is where a gate run's report is: bucket and key of
// <report_uri>/<run id>/gate.json.
func (g GateTask) ReportKey(runID string) (bucket, key string) {
	rest := strings.TrimPrefix(g.ReportURI, "s3://")
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
	if o.Services != nil && o.DagsterImage != runtimeImage {
		return fmt.Errorf("the environment runs Dagster image %q, not the release's %q: was the release's plan applied? (`deploy` plans with the release's digests)", o.DagsterImage, runtimeImage)
	}
	if o.Gate == nil {
		return fmt.Errorf("the environment has no quality-gate task (output %s is null): set gate_image, which `deploy` does from the release", GateOutput)
	}
	if o.GateImage != gateImage {
		return fmt.Errorf("the environment's gate task runs %q, not the release's %q: deploy the release first (`deploy --env %s`)", o.GateImage, gateImage, o.Environment)
	}
	return nil
}
