package envrun

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECS is the part of the ECS API this package calls (*ecs.Client).
type ECS interface {
	RunTask(context.Context, *ecs.RunTaskInput, ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(context.Context, *ecs.DescribeTasksInput, ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(context.Context, *ecs.StopTaskInput, ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

// Runner starts and awaits work in one environment.
type Runner struct {
	ECS  ECS
	Logs Logs
	// Poll is the wait between two status reads (default 6 s).
	Poll time.Duration
	// Progress receives one line per state change (may be nil).
	Progress func(string)
	// sleep is time.Sleep honouring ctx; tests replace it.
	sleep func(context.Context, time.Duration) error
}

func (r *Runner) wait(ctx context.Context) error { return Pause(ctx, PollInterval(r.Poll), r.sleep) }

func (r *Runner) say(format string, a ...any) {
	if r.Progress != nil {
		r.Progress(fmt.Sprintf(format, a...))
	}
}

// ServiceState is what one poll says of a service.
type ServiceState int

const (
	// ServiceSettling: the release's deployment is still rolling out.
	ServiceSettling ServiceState = iota
	// ServiceReady: only the release's deployment, completed, all tasks running.
	ServiceReady
	// ServiceFailed: the release's deployment failed or was replaced.
	ServiceFailed
)

// JudgeService decides from one DescribeServices answer whether a service
// runs wantTaskDef: the primary deployment must be the release's task
// definition, completed, with every desired task running, and no older
// deployment left. A primary that is another task definition means ECS
// rolled back (the circuit breaker) or someone deployed over the release.
func JudgeService(svc types.Service, wantTaskDef string) (ServiceState, string) {
	name := aws.ToString(svc.ServiceName)
	if s := aws.ToString(svc.Status); s != "ACTIVE" {
		return ServiceFailed, fmt.Sprintf("service %s is %s", name, s)
	}
	var primary *types.Deployment
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Status) == "PRIMARY" {
			primary = &svc.Deployments[i]
		}
	}
	if primary == nil {
		return ServiceSettling, fmt.Sprintf("service %s has no primary deployment yet", name)
	}
	if got := aws.ToString(primary.TaskDefinition); got != wantTaskDef {
		return ServiceFailed, fmt.Sprintf("service %s runs %s, not the release's %s: ECS rolled the deployment back (circuit breaker) or another deploy replaced it", name, shortARN(got), shortARN(wantTaskDef))
	}
	switch primary.RolloutState {
	case types.DeploymentRolloutStateFailed:
		return ServiceFailed, fmt.Sprintf("service %s: the release's deployment failed: %s", name, aws.ToString(primary.RolloutStateReason))
	case types.DeploymentRolloutStateCompleted:
	default:
		return ServiceSettling, fmt.Sprintf("service %s: rollout %s, %d/%d tasks running", name, strings.ToLower(string(primary.RolloutState)), primary.RunningCount, primary.DesiredCount)
	}
	if len(svc.Deployments) > 1 {
		return ServiceSettling, fmt.Sprintf("service %s: %d deployments still active", name, len(svc.Deployments))
	}
	if primary.DesiredCount == 0 || primary.RunningCount < primary.DesiredCount {
		return ServiceSettling, fmt.Sprintf("service %s: %d/%d tasks running", name, primary.RunningCount, primary.DesiredCount)
	}
	return ServiceReady, fmt.Sprintf("service %s: %d/%d tasks of %s running", name, primary.RunningCount, primary.DesiredCount, shortARN(wantTaskDef))
}

// WaitServices waits until every service runs its release task definition,
// fails as soon as one's deployment failed, and gives up after timeout with
// what each unfinished service was doing and its latest events.
func (r *Runner) WaitServices(ctx context.Context, s Services, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	names := make([]string, 0, len(s.Services))
	want := map[string]string{}
	for _, role := range s.Roles() {
		svc := s.Services[role]
		names = append(names, svc.Name)
		want[svc.Name] = svc.TaskDefinition
	}
	last := map[string]string{}
	failures := 0
	for {
		out, err := r.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.Cluster), Services: names})
		if err != nil {
			if ctx.Err() != nil {
				return r.servicesTimeout(timeout, last)
			}
			if failures++; failures >= MaxPollFailures {
				return fmt.Errorf("describe services: %d reads in a row failed, the last: %w", failures, err)
			}
			r.say("cannot read the services (%v); retrying", err)
			if err := r.wait(ctx); err != nil {
				return r.servicesTimeout(timeout, last)
			}
			continue
		}
		failures = 0
		for _, f := range out.Failures {
			return fmt.Errorf("service %s: %s %s", shortARN(aws.ToString(f.Arn)), aws.ToString(f.Reason), aws.ToString(f.Detail))
		}
		ready := 0
		for _, svc := range out.Services {
			name := aws.ToString(svc.ServiceName)
			state, why := JudgeService(svc, want[name])
			if state == ServiceFailed {
				return fmt.Errorf("%s%s", why, recentEvents(svc, 5))
			}
			if last[name] != why {
				r.say("%s", why)
			}
			last[name] = why
			if state == ServiceReady {
				ready++
			}
		}
		if ready == len(names) && len(out.Services) == len(names) {
			return nil
		}
		if err := r.wait(ctx); err != nil {
			return r.servicesTimeout(timeout, last)
		}
	}
}

func (r *Runner) servicesTimeout(timeout time.Duration, last map[string]string) error {
	var lines []string
	for _, why := range last {
		lines = append(lines, "  "+why)
	}
	return fmt.Errorf("the services did not all run the release within %s:\n%s", timeout, strings.Join(lines, "\n"))
}

func recentEvents(svc types.Service, n int) string {
	if len(svc.Events) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nlatest service events:")
	for i, e := range svc.Events {
		if i == n {
			break
		}
		b.WriteString("\n  " + aws.ToString(e.Message))
	}
	return b.String()
}

func shortARN(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// ErrNotStarted marks a task ECS refused to place.
var ErrNotStarted = errors.New("the task did not start")
