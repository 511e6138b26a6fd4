package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/cliexit"
)

// smokeTask is an ECS whose smoke task exits with code and logs lines.
type smokeTask struct {
	oneTask
	lines []string
}

func (e *smokeTask) DescribeTasks(context.Context, *ecs.DescribeTasksInput, ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return &ecs.DescribeTasksOutput{Tasks: []types.Task{{TaskArn: aws.String(arn), LastStatus: aws.String("STOPPED"),
		Containers: []types.Container{{Name: aws.String("run"), ExitCode: aws.Int32(e.code)}}}}}, nil
}

func (e *smokeTask) DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &types.TaskDefinition{ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("run"),
		LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/ecs/lake", "awslogs-stream-prefix": "run"}}}}}}, nil
}

func (e *smokeTask) GetLogEvents(context.Context, *cloudwatchlogs.GetLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	out := &cloudwatchlogs.GetLogEventsOutput{}
	for _, l := range e.lines {
		out.Events = append(out.Events, cwtypes.OutputLogEvent{Message: aws.String(l)})
	}
	return out, nil
}

func smokeOutputs(t *testing.T) string {
	withSmoke := strings.Replace(outputs, `"smoke_run": {"sensitive": false, "value": null}`, `"smoke_run": {"sensitive": false, "value": {"launcher": "ecs",
   "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/lake",
   "task_definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/lake-run:1",
   "container": "run", "subnets": ["subnet-0123456789abcdef0"], "security_groups": [],
   "assign_public_ip": false, "command": ["python", "-m", "lakehouse.smoke"]}}`, 1)
	p := filepath.Join(t.TempDir(), "out.json")
	require.NoError(t, os.WriteFile(p, []byte(withSmoke), 0o600))
	return p
}

func invokeWap(t *testing.T, e *smokeTask, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	connect := func(context.Context, string, string) (clients, error) { return clients{ECS: e, Logs: e}, nil }
	code := run(context.Background(), append([]string{"wap", "--outputs", smokeOutputs(t), "--"}, args...), &stdout, &stderr,
		deps{aws: connect, tune: func(r *envrun.Runner) { r.Poll = time.Millisecond }})
	return code, stdout.String(), stderr.String()
}

// wap prints the command's document and exits with the command's own code.
func TestWapPrintsTheDocumentAndExitsWithTheCommandsCode(t *testing.T) {
	e := &smokeTask{oneTask: oneTask{code: 1}, lines: []string{"lakehouse.wap publish: refused: mismatch", envrun.DocumentMarker + `1/1 {"outcome":"refused"}`}}
	code, out, errOut := invokeWap(t, e, "publish", "--branch", "audit-x", "--expect", `{"t":1}`)
	assert.Equal(t, 1, code, errOut)
	assert.JSONEq(t, `{"outcome":"refused"}`, out)
	assert.Equal(t, append(envrun.WapCommand(), "publish", "--branch", "audit-x", "--expect", `{"t":1}`), e.in.Overrides.ContainerOverrides[0].Command)

	e = &smokeTask{oneTask: oneTask{code: 0}, lines: []string{envrun.DocumentMarker + `1/1 {"outcome":"ok"}`}}
	code, out, _ = invokeWap(t, e, "status", "--branch", "audit-x")
	assert.Equal(t, cliexit.OK, code)
	assert.JSONEq(t, `{"outcome":"ok"}`, out)

	// No document: a failure with the task's own log, nothing on stdout.
	e = &smokeTask{oneTask: oneTask{code: 137}, lines: []string{"Killed"}}
	code, out, errOut = invokeWap(t, e, "status", "--branch", "audit-x")
	assert.Equal(t, cliexit.Failure, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "logged no lakehouse.wap document")
	assert.Contains(t, errOut, "exited with 137")
	assert.Contains(t, errOut, "Killed")
}

func TestWapNeedsACommandAndASmokeTask(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, cliexit.Usage, run(context.Background(), []string{"wap", "--outputs", "x"}, &stdout, &stderr, deps{}))
	assert.Contains(t, stderr.String(), "wap needs the lakehouse.wap command after --")
	code, _, errOut := invoke(t, &oneTask{}, reports{}, "wap", "--outputs", writeOutputs(t), "--", "status", "--branch", "b")
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "no smoke task (smoke_run is null)")
}
