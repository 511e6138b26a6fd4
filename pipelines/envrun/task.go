package envrun

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Logs is the part of the CloudWatch Logs API this package calls.
type Logs interface {
	GetLogEvents(context.Context, *cloudwatchlogs.GetLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// Run is one start of a one-off task.
type Run struct {
	// Name says what the task is, for messages ("smoke", "gate").
	Name string
	Task Task
	// Env is added to (or overrides) the container's environment.
	Env map[string]string
	// Args replace the container's command when non-empty (after
	// Task.Command, which they extend).
	Args []string
	// Command, when non-empty, replaces Task.Command (Args still follow):
	// another program of the same image, e.g. lakehouse.wap in the smoke
	// task's runtime image.
	Command []string
	// LogLines is how many of the container's last log lines to read even
	// when it exits 0 (a command whose answer is in its log).
	LogLines int32
	// StartedBy tags the task (ECS's startedBy, at most 36 characters).
	StartedBy string
	Timeout   time.Duration
}

// Result is how a task (ECS) or job execution (Cloud Run) ended.
type Result struct {
	// TaskARN is the ECS task's ARN or the Cloud Run execution's name.
	TaskARN string
	// ExitCode is nil when the container never ran.
	ExitCode *int32
	// Reason is the platform's reason for stopping (why it did not run,
	// when it did not).
	Reason string
	// LogTail is the end of the container's log, for failures.
	LogTail []string
}

// Overrides builds RunTask's input for a run: Fargate in the task's
// subnets, the container's environment extended in a stable order.
func (run Run) Input() *ecs.RunTaskInput {
	keys := make([]string, 0, len(run.Env))
	for k := range run.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	override := types.ContainerOverride{Name: aws.String(run.Task.Container)}
	for _, k := range keys {
		override.Environment = append(override.Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(run.Env[k])})
	}
	base := run.Task.Command
	if len(run.Command) > 0 {
		base = run.Command
	}
	if cmd := append(append([]string{}, base...), run.Args...); len(cmd) > 0 {
		override.Command = cmd
	}
	public := types.AssignPublicIpDisabled
	if run.Task.AssignPublicIP {
		public = types.AssignPublicIpEnabled
	}
	in := &ecs.RunTaskInput{
		Cluster:        aws.String(run.Task.Cluster),
		TaskDefinition: aws.String(run.Task.TaskDefinition),
		LaunchType:     types.LaunchTypeFargate,
		Count:          aws.Int32(1),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: run.Task.Subnets, SecurityGroups: run.Task.SecurityGroups, AssignPublicIp: public,
		}},
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{override}},
	}
	if run.StartedBy != "" {
		in.StartedBy = aws.String(truncate(run.StartedBy, 36))
	}
	return in
}

// RunTask starts the task, waits until it stops and says how it ended. A
// task still running at the timeout (or when ctx ends) is stopped, so no
// verification outlives its pipeline.
func (r *Runner) RunTask(ctx context.Context, run Run) (Result, error) {
	out, err := r.ECS.RunTask(ctx, run.Input())
	if err != nil {
		return Result{}, fmt.Errorf("start the %s task: %w", run.Name, err)
	}
	if len(out.Failures) > 0 || len(out.Tasks) == 0 {
		var why []string
		for _, f := range out.Failures {
			why = append(why, strings.TrimSpace(aws.ToString(f.Reason)+" "+aws.ToString(f.Detail)))
		}
		return Result{}, fmt.Errorf("%w: ECS could not place the %s task: %s", ErrNotStarted, run.Name, strings.Join(why, "; "))
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	r.say("%s task %s started", run.Name, shortARN(arn))
	waitCtx, cancel := context.WithTimeout(ctx, run.Timeout)
	defer cancel()
	lastStatus, failures := "", 0
	for {
		if err := r.wait(waitCtx); err != nil {
			return r.abandon(ctx, run, arn, err)
		}
		desc, err := r.ECS.DescribeTasks(waitCtx, &ecs.DescribeTasksInput{Cluster: aws.String(run.Task.Cluster), Tasks: []string{arn}})
		if err != nil {
			if waitCtx.Err() != nil {
				return r.abandon(ctx, run, arn, waitCtx.Err())
			}
			// A passing API error must not fail a verification that runs
			// for many minutes; several in a row mean it cannot be followed.
			if failures++; failures < MaxPollFailures {
				r.say("%s task %s: cannot read its status (%v); retrying", run.Name, shortARN(arn), err)
				continue
			}
			return r.abandon(ctx, run, arn, fmt.Errorf("%d status reads in a row failed, the last: %w", failures, err))
		}
		failures = 0
		if len(desc.Tasks) == 0 {
			return Result{TaskARN: arn}, fmt.Errorf("the %s task %s vanished: ECS describes it no more", run.Name, shortARN(arn))
		}
		task := desc.Tasks[0]
		if s := aws.ToString(task.LastStatus); s != lastStatus {
			r.say("%s task %s: %s", run.Name, shortARN(arn), strings.ToLower(s))
			lastStatus = s
		}
		if aws.ToString(task.LastStatus) != "STOPPED" {
			continue
		}
		res := Outcome(task, run.Task.Container)
		if res.ExitCode == nil || *res.ExitCode != 0 || run.LogLines > 0 {
			res.LogTail = r.logTail(ctx, run, arn, max(40, run.LogLines))
		}
		return res, nil
	}
}

// abandon stops a task the pipeline no longer waits for.
func (r *Runner) abandon(ctx context.Context, run Run, arn string, cause error) (Result, error) {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, stopErr := r.ECS.StopTask(stopCtx, &ecs.StopTaskInput{Cluster: aws.String(run.Task.Cluster), Task: aws.String(arn), Reason: aws.String("lakehouse pipeline stopped waiting")})
	why := "it was stopped"
	if stopErr != nil {
		why = "stopping it failed too (" + stopErr.Error() + "); stop it by hand: aws ecs stop-task --cluster " + run.Task.Cluster + " --task " + arn
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		return Result{TaskARN: arn}, fmt.Errorf("the %s task %s did not finish within %s; %s", run.Name, shortARN(arn), run.Timeout, why)
	}
	return Result{TaskARN: arn}, fmt.Errorf("the %s task %s was abandoned (%v); %s", run.Name, shortARN(arn), cause, why)
}

// Outcome reads a stopped task: the exit code of its container, or why it
// never ran (image pull, secrets, capacity …).
func Outcome(task types.Task, container string) Result {
	res := Result{TaskARN: aws.ToString(task.TaskArn)}
	reasons := []string{}
	if s := aws.ToString(task.StoppedReason); s != "" {
		reasons = append(reasons, s)
	}
	for _, c := range task.Containers {
		if aws.ToString(c.Name) != container {
			continue
		}
		res.ExitCode = c.ExitCode
		if s := aws.ToString(c.Reason); s != "" {
			reasons = append(reasons, s)
		}
	}
	if res.ExitCode == nil && task.StopCode != "" {
		reasons = append([]string{string(task.StopCode)}, reasons...)
	}
	res.Reason = strings.Join(reasons, ": ")
	return res
}

// Failure explains a result that is not a clean exit, or nil.
func (res Result) Failure(name string) error {
	tail := ""
	if len(res.LogTail) > 0 {
		tail = "\nlast lines of its log:\n" + strings.Join(res.LogTail, "\n")
	}
	switch {
	case res.ExitCode == nil:
		return fmt.Errorf("the %s task %s stopped before its container ran: %s%s", name, shortARN(res.TaskARN), orUnknown(res.Reason), tail)
	case *res.ExitCode != 0:
		return fmt.Errorf("the %s task %s exited with %d%s%s", name, shortARN(res.TaskARN), *res.ExitCode, reasonSuffix(res.Reason), tail)
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "the platform gave no reason"
	}
	return s
}

func reasonSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// logTail reads the last lines the task's container logged, from the
// awslogs settings of its task definition. Best effort: a failure to read
// logs says so in the tail instead of hiding the task's own failure.
func (r *Runner) logTail(ctx context.Context, run Run, taskARN string, n int32) []string {
	if r.Logs == nil {
		return nil
	}
	def, err := r.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(run.Task.TaskDefinition)})
	if err != nil || def.TaskDefinition == nil {
		return []string{fmt.Sprintf("(no log: describe the task definition: %v)", err)}
	}
	group, stream, ok := LogStream(*def.TaskDefinition, run.Task.Container, taskARN)
	if !ok {
		return []string{"(no log: the container does not log to CloudWatch with awslogs)"}
	}
	out, err := r.Logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), Limit: aws.Int32(n), StartFromHead: aws.Bool(false)})
	if err != nil {
		return []string{fmt.Sprintf("(no log: read %s %s: %v)", group, stream, err)}
	}
	lines := make([]string, 0, len(out.Events))
	for _, e := range out.Events {
		lines = append(lines, strings.TrimRight(aws.ToString(e.Message), "\n"))
	}
	return lines
}

// LogStream is where awslogs writes a task's container output:
// <group>, <stream-prefix>/<container>/<task id>.
func LogStream(def types.TaskDefinition, container, taskARN string) (group, stream string, ok bool) {
	for _, c := range def.ContainerDefinitions {
		if aws.ToString(c.Name) != container || c.LogConfiguration == nil || c.LogConfiguration.LogDriver != types.LogDriverAwslogs {
			continue
		}
		opts := c.LogConfiguration.Options
		group, prefix := opts["awslogs-group"], opts["awslogs-stream-prefix"]
		if group == "" || prefix == "" {
			return "", "", false
		}
		return group, prefix + "/" + container + "/" + shortARN(taskARN), true
	}
	return "", "", false
}
