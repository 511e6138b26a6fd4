package envrun

import (
	"fmt"
	"regexp"
	"sort"
)

// Services are long-running ECS services that must run the release.
type Services struct {
	Launcher string `json:"launcher"`
	Cluster  string `json:"cluster"`
	// Services maps a role to its service and the task definition the
	// apply gave it (the release's).
	Services map[string]Service `json:"services"`
}

// Service is one long-running ECS service.
type Service struct {
	Name           string `json:"name"`
	TaskDefinition string `json:"task_definition"`
}

// Task is a one-off ECS task definition and where it runs.
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

var (
	ecsARN    = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:(cluster|task-definition)/[A-Za-z0-9_:/.-]+$`)
	awsIDLike = regexp.MustCompile(`^(subnet|sg)-[0-9a-f]{8,17}$`)
	s3URI     = regexp.MustCompile(`^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()/-]*)?$`)
)

// launcherOK guards direct users of the structs; ParseOutputs has chosen
// the struct by launcher already.
func launcherOK(l string) error {
	if l != LauncherECS {
		return fmt.Errorf("launcher %q: an ECS target needs launcher %q", l, LauncherECS)
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
func (s Services) Roles() []string { return sortedRoles(s.Services) }

func sortedRoles[V any](m map[string]V) []string {
	roles := make([]string, 0, len(m))
	for r := range m {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// ReportKey is where a gate run's report is: bucket and key of
// <report_uri>/<run id>/gate.json.
func (g GateTask) ReportKey(runID string) (bucket, key string) {
	return reportKey(g.ReportURI, runID)
}
