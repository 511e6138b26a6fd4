package envrun

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeObjects holds objects by bucket/key.
type fakeObjects map[string][]byte

func (o fakeObjects) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	body, ok := o[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(body))}, nil
}

func gateTask() GateTask {
	return GateTask{Task: Task{Launcher: "ecs", Cluster: cluster, TaskDefinition: gateDef, Container: "gate", Subnets: []string{"subnet-0123456789abcdef0"}},
		RunIDVariable: "GATE_RUN_ID", ReportURI: "s3://lake-qa-bucket/quality/"}
}

func TestRunGateReadsTheReportWhateverTheOutcome(t *testing.T) {
	one := int32(1)
	f := &fakeECS{lifecycle: []types.Task{stoppedTask("gate", &one, "")}}
	objects := fakeObjects{"lake-qa-bucket/quality/rel-1/gate.json": []byte(`{"outcome":"fail"}`), "lake-qa-bucket/quality/rel-1/gate.md": []byte("# fail")}
	report, res, err := (&Runner{ECS: f, sleep: noSleep}).RunGate(context.Background(), objects,
		GateRun{Gate: gateTask(), RunID: "rel-1", Args: []string{"--commit", "abc"}, Timeout: time.Minute})
	require.NoError(t, err, "a failing gate still reports; the policy judges it")
	assert.JSONEq(t, `{"outcome":"fail"}`, string(report.JSON))
	assert.Equal(t, "# fail", string(report.Markdown))
	assert.Equal(t, int32(1), *res.ExitCode)
	o := f.runInputs[0].Overrides.ContainerOverrides[0]
	assert.Equal(t, "GATE_RUN_ID", aws.ToString(o.Environment[0].Name))
	assert.Equal(t, "rel-1", aws.ToString(o.Environment[0].Value))
	assert.Equal(t, []string{"--commit", "abc"}, o.Command)
}

func TestRunGateWithoutAReportSaysWhy(t *testing.T) {
	three := int32(3)
	f := &fakeECS{lifecycle: []types.Task{stoppedTask("gate", &three, "")}, taskDef: types.TaskDefinition{ContainerDefinitions: []types.ContainerDefinition{{
		Name: aws.String("gate"), LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/ecs/g", "awslogs-stream-prefix": "gate"}}}}}}
	logs := &fakeLogs{group: "/ecs/g", stream: "gate/gate/0123456789abcdef", lines: []string{"quality gate: cannot upload the report"}}
	_, _, err := (&Runner{ECS: f, Logs: logs, sleep: noSleep}).RunGate(context.Background(), fakeObjects{},
		GateRun{Gate: gateTask(), RunID: "rel-1", Timeout: time.Minute})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no gate report at s3://lake-qa-bucket/quality/rel-1/gate.json (the object does not exist)")
	assert.Contains(t, err.Error(), "exited with 3")
	assert.Contains(t, err.Error(), "cannot upload the report")
}

func TestRunGateRefusesABadRunID(t *testing.T) {
	f := &fakeECS{}
	_, _, err := (&Runner{ECS: f}).RunGate(context.Background(), fakeObjects{}, GateRun{Gate: gateTask(), RunID: "../other", Timeout: time.Minute})
	require.Error(t, err)
	assert.Empty(t, f.runInputs, "nothing starts")
}
