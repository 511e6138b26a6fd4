package envrun

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// fakeECS plays a task's life: each DescribeTasks advances it one status;
// the last one is its stopped form. Services answer from a script of polls.
type fakeECS struct {
	mu        sync.Mutex
	runInputs []*ecs.RunTaskInput
	failures  []types.Failure
	lifecycle []types.Task // what successive DescribeTasks return
	polls     int
	stopped   []string
	services  [][]types.Service // one answer per DescribeServices
	svcPolls  int
	taskDef   types.TaskDefinition
	// failReads makes the first reads (DescribeTasks, DescribeServices) fail.
	failReads int
}

const testTaskARN = "arn:aws:ecs:eu-west-1:123456789012:task/lake/0123456789abcdef"

func (f *fakeECS) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runInputs = append(f.runInputs, in)
	if len(f.failures) > 0 {
		return &ecs.RunTaskOutput{Failures: f.failures}, nil
	}
	return &ecs.RunTaskOutput{Tasks: []types.Task{{TaskArn: aws.String(testTaskARN), LastStatus: aws.String("PROVISIONING")}}}, nil
}

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failReads > 0 {
		f.failReads--
		return nil, fmt.Errorf("ThrottlingException: Rate exceeded")
	}
	if len(in.Tasks) != 1 || in.Tasks[0] != testTaskARN {
		return nil, fmt.Errorf("unexpected tasks %v", in.Tasks)
	}
	i := min(f.polls, len(f.lifecycle)-1)
	f.polls++
	t := f.lifecycle[i]
	t.TaskArn = aws.String(testTaskARN)
	return &ecs.DescribeTasksOutput{Tasks: []types.Task{t}}, nil
}

func (f *fakeECS) StopTask(_ context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, aws.ToString(in.Task))
	return &ecs.StopTaskOutput{}, nil
}

func (f *fakeECS) DescribeServices(_ context.Context, _ *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failReads > 0 {
		f.failReads--
		return nil, fmt.Errorf("ThrottlingException: Rate exceeded")
	}
	i := min(f.svcPolls, len(f.services)-1)
	f.svcPolls++
	return &ecs.DescribeServicesOutput{Services: f.services[i]}, nil
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, _ *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &f.taskDef}, nil
}

// fakeLogs answers one stream.
type fakeLogs struct {
	group, stream string
	lines         []string
	asked         []string
}

func (l *fakeLogs) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	l.asked = append(l.asked, aws.ToString(in.LogGroupName)+" "+aws.ToString(in.LogStreamName))
	if aws.ToString(in.LogGroupName) != l.group || aws.ToString(in.LogStreamName) != l.stream {
		return nil, fmt.Errorf("ResourceNotFoundException: no stream %s", aws.ToString(in.LogStreamName))
	}
	out := &cloudwatchlogs.GetLogEventsOutput{}
	for _, s := range l.lines {
		out.Events = append(out.Events, cwtypes.OutputLogEvent{Message: aws.String(s)})
	}
	return out, nil
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func stoppedTask(container string, code *int32, reason string) types.Task {
	c := types.Container{Name: aws.String(container), ExitCode: code}
	if reason != "" {
		c.Reason = aws.String(reason)
	}
	return types.Task{LastStatus: aws.String("STOPPED"), StopCode: types.TaskStopCodeEssentialContainerExited, Containers: []types.Container{c}}
}

func running() types.Task { return types.Task{LastStatus: aws.String("RUNNING")} }
