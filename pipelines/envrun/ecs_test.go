package envrun

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const oldDef = "arn:aws:ecs:eu-west-1:123456789012:task-definition/lake-dagster-webserver:6"

func service(deps ...types.Deployment) types.Service {
	return types.Service{ServiceName: aws.String("lake-dagster-webserver"), Status: aws.String("ACTIVE"), Deployments: deps,
		Events: []types.ServiceEvent{{Message: aws.String("(service lake-dagster-webserver) deployment failed: tasks failed to start.")}}}
}

func deployment(status, def string, rollout types.DeploymentRolloutState, running, desired int32) types.Deployment {
	return types.Deployment{Status: aws.String(status), TaskDefinition: aws.String(def), RolloutState: rollout, RunningCount: running, DesiredCount: desired}
}

func TestJudgeService(t *testing.T) {
	cases := map[string]struct {
		svc   types.Service
		state ServiceState
		why   string
	}{
		"ready": {service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateCompleted, 1, 1)), ServiceReady, "1/1 tasks"},
		"rolling out": {service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateInProgress, 0, 1), deployment("ACTIVE", oldDef, types.DeploymentRolloutStateCompleted, 1, 1)),
			ServiceSettling, "rollout in_progress"},
		"old deployment draining": {service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateCompleted, 1, 1), deployment("ACTIVE", oldDef, types.DeploymentRolloutStateCompleted, 1, 1)),
			ServiceSettling, "2 deployments"},
		"tasks missing": {service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateCompleted, 0, 1)), ServiceSettling, "0/1 tasks"},
		"rolled back":   {service(deployment("PRIMARY", oldDef, types.DeploymentRolloutStateInProgress, 0, 1)), ServiceFailed, "rolled the deployment back"},
		"failed": {service(func() types.Deployment {
			d := deployment("PRIMARY", webDef, types.DeploymentRolloutStateFailed, 0, 1)
			d.RolloutStateReason = aws.String("circuit breaker tripped")
			return d
		}()), ServiceFailed, "circuit breaker tripped"},
		"draining service": {func() types.Service { s := service(); s.Status = aws.String("DRAINING"); return s }(), ServiceFailed, "is DRAINING"},
		"no deployment":    {service(), ServiceSettling, "no primary deployment"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			state, why := JudgeService(tc.svc, webDef)
			assert.Equal(t, tc.state, state, why)
			assert.Contains(t, why, tc.why)
		})
	}
}

func webServices() Services {
	return Services{Launcher: "ecs", Cluster: cluster, Services: map[string]Service{"webserver": {Name: "lake-dagster-webserver", TaskDefinition: webDef}}}
}

func TestWaitServicesUntilTheReleaseRuns(t *testing.T) {
	f := &fakeECS{services: [][]types.Service{
		{service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateInProgress, 0, 1), deployment("ACTIVE", oldDef, types.DeploymentRolloutStateCompleted, 1, 1))},
		{service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateCompleted, 1, 1))},
	}}
	var progress []string
	r := &Runner{ECS: f, sleep: noSleep, Progress: func(s string) { progress = append(progress, s) }}
	require.NoError(t, r.WaitServices(context.Background(), webServices(), time.Minute))
	assert.Equal(t, 2, f.svcPolls)
	assert.Len(t, progress, 2)
}

func TestWaitServicesFailsFastOnARollback(t *testing.T) {
	f := &fakeECS{services: [][]types.Service{
		{service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateInProgress, 0, 1))},
		{service(deployment("PRIMARY", oldDef, types.DeploymentRolloutStateInProgress, 0, 1), deployment("ACTIVE", webDef, types.DeploymentRolloutStateFailed, 0, 1))},
		{service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateCompleted, 1, 1))},
	}}
	r := &Runner{ECS: f, sleep: noSleep}
	err := r.WaitServices(context.Background(), webServices(), time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lake-dagster-webserver:6, not the release's lake-dagster-webserver:7")
	assert.Contains(t, err.Error(), "tasks failed to start", "the service's own events explain the rollback")
	assert.Equal(t, 2, f.svcPolls)
}

func TestWaitServicesTimesOutWithWhatEachWasDoing(t *testing.T) {
	f := &fakeECS{services: [][]types.Service{{service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateInProgress, 0, 1))}}}
	r := &Runner{ECS: f, Poll: time.Millisecond}
	err := r.WaitServices(context.Background(), webServices(), 20*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not all run the release within 20ms")
	assert.Contains(t, err.Error(), "0/1 tasks running")
}

func smokeRun() Run {
	return Run{Name: "smoke", Task: Task{Launcher: "ecs", Cluster: cluster, TaskDefinition: runDef, Container: "run",
		Subnets: []string{"subnet-0123456789abcdef0"}, SecurityGroups: []string{"sg-0123456789abcdef0"}, Command: []string{"python", "-m", "lakehouse.smoke"}},
		Env: map[string]string{"B": "2", "A": "1"}, Args: []string{"--partition", "2026-12-01"}, StartedBy: strings.Repeat("x", 50), Timeout: time.Minute}
}

func TestRunTaskInput(t *testing.T) {
	in := smokeRun().Input()
	assert.Equal(t, types.LaunchTypeFargate, in.LaunchType)
	assert.Equal(t, types.AssignPublicIpDisabled, in.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp)
	o := in.Overrides.ContainerOverrides[0]
	assert.Equal(t, "run", aws.ToString(o.Name))
	assert.Equal(t, []string{"python", "-m", "lakehouse.smoke", "--partition", "2026-12-01"}, o.Command)
	assert.Equal(t, "A", aws.ToString(o.Environment[0].Name), "stable order")
	assert.Len(t, aws.ToString(in.StartedBy), 36, "ECS refuses a longer startedBy")
}

func TestRunTaskEndings(t *testing.T) {
	zero, one := int32(0), int32(1)
	logDef := types.TaskDefinition{ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("run"), LogConfiguration: &types.LogConfiguration{
		LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/ecs/lake-dagster", "awslogs-stream-prefix": "run"}}}}}
	cases := map[string]struct {
		lifecycle []types.Task
		failure   string // "" = clean exit
		logs      bool
	}{
		"exit 0": {[]types.Task{running(), stoppedTask("run", &zero, "")}, "", false},
		"exit 1": {[]types.Task{running(), stoppedTask("run", &one, "")}, "exited with 1", true},
		"never ran": {[]types.Task{func() types.Task {
			t := stoppedTask("run", nil, "CannotPullContainerError: pull access denied")
			t.StopCode = types.TaskStopCodeTaskFailedToStart
			return t
		}()}, "stopped before its container ran: TaskFailedToStart: CannotPullContainerError", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeECS{lifecycle: tc.lifecycle, taskDef: logDef}
			logs := &fakeLogs{group: "/ecs/lake-dagster", stream: "run/run/0123456789abcdef", lines: []string{"Traceback", "ValueError: boom"}}
			r := &Runner{ECS: f, Logs: logs, sleep: noSleep}
			res, err := r.RunTask(context.Background(), smokeRun())
			require.NoError(t, err)
			fail := res.Failure("smoke")
			if tc.failure == "" {
				assert.NoError(t, fail)
				assert.Empty(t, logs.asked, "a clean exit reads no log")
				return
			}
			require.Error(t, fail)
			assert.Contains(t, fail.Error(), tc.failure)
			assert.Contains(t, fail.Error(), "ValueError: boom", "the task's own log reaches the user")
		})
	}
}

func TestRunTaskNotPlaced(t *testing.T) {
	f := &fakeECS{failures: []types.Failure{{Reason: aws.String("RESOURCE:ENI"), Detail: aws.String("no free ENI")}}}
	_, err := (&Runner{ECS: f, sleep: noSleep}).RunTask(context.Background(), smokeRun())
	require.ErrorIs(t, err, ErrNotStarted)
	assert.Contains(t, err.Error(), "RESOURCE:ENI no free ENI")
}

func TestRunTaskStopsWhatItStopsWaitingFor(t *testing.T) {
	f := &fakeECS{lifecycle: []types.Task{running()}}
	run := smokeRun()
	run.Timeout = 20 * time.Millisecond
	_, err := (&Runner{ECS: f, Poll: time.Millisecond}).RunTask(context.Background(), run)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not finish within 20ms; it was stopped")
	assert.Equal(t, []string{testTaskARN}, f.stopped)

	f = &fakeECS{lifecycle: []types.Task{running()}}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{ECS: f, sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }}
	_, err = r.RunTask(ctx, smokeRun())
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "abandoned"), err.Error())
	assert.Equal(t, []string{testTaskARN}, f.stopped, "a cancelled pipeline stops its task")
}

func TestLogStream(t *testing.T) {
	def := types.TaskDefinition{ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("gate"), LogConfiguration: &types.LogConfiguration{
		LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/ecs/lake-quality-gate", "awslogs-stream-prefix": "gate"}}}}}
	g, s, ok := LogStream(def, "gate", testTaskARN)
	require.True(t, ok)
	assert.Equal(t, "/ecs/lake-quality-gate", g)
	assert.Equal(t, "gate/gate/0123456789abcdef", s)
	_, _, ok = LogStream(def, "run", testTaskARN)
	assert.False(t, ok)
}

func TestPassingReadErrorsAreRetriedAndARunOfThemGivesUp(t *testing.T) {
	zero := int32(0)
	f := &fakeECS{lifecycle: []types.Task{running(), stoppedTask("run", &zero, "")}, failReads: MaxPollFailures - 1}
	res, err := (&Runner{ECS: f, sleep: noSleep}).RunTask(context.Background(), smokeRun())
	require.NoError(t, err, "a few failed reads are retried")
	require.NoError(t, res.Failure("smoke"))

	f = &fakeECS{lifecycle: []types.Task{running()}, failReads: MaxPollFailures}
	_, err = (&Runner{ECS: f, sleep: noSleep}).RunTask(context.Background(), smokeRun())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "status reads in a row failed")
	assert.Contains(t, err.Error(), "Rate exceeded")
	assert.Equal(t, []string{testTaskARN}, f.stopped, "a task the runner cannot follow is stopped")

	f = &fakeECS{services: [][]types.Service{{service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateCompleted, 1, 1))}}, failReads: MaxPollFailures - 1}
	require.NoError(t, (&Runner{ECS: f, sleep: noSleep}).WaitServices(context.Background(), webServices(), time.Minute))
	f = &fakeECS{services: [][]types.Service{{service(deployment("PRIMARY", webDef, types.DeploymentRolloutStateCompleted, 1, 1))}}, failReads: MaxPollFailures}
	assert.ErrorContains(t, (&Runner{ECS: f, sleep: noSleep}).WaitServices(context.Background(), webServices(), time.Minute), "reads in a row failed")
}
