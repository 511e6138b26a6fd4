package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/cliexit"
)

const outputs = `{
 "environment": {"sensitive": false, "value": "zzfixture"},
 "region": {"sensitive": false, "value": "eu-west-1"},
 "dagster_image": {"sensitive": false, "value": null},
 "gate_image": {"sensitive": false, "value": "r@sha256:bb"},
 "dagster_services": {"sensitive": false, "value": null},
 "smoke_run": {"sensitive": false, "value": null},
 "quality_gate": {"sensitive": false, "value": {"launcher": "ecs",
   "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/lake",
   "task_definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/lake-gate:1",
   "container": "gate", "subnets": ["subnet-0123456789abcdef0"], "security_groups": [],
   "assign_public_ip": false, "run_id_variable": "GATE_RUN_ID", "report_uri": "s3://lake-qa/quality"}}
}`

// oneTask is an ECS whose only task exits with code at once.
type oneTask struct {
	envrun.ECS
	code int32
	in   *ecs.RunTaskInput
}

const arn = "arn:aws:ecs:eu-west-1:123456789012:task/lake/abc"

func (e *oneTask) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	e.in = in
	return &ecs.RunTaskOutput{Tasks: []types.Task{{TaskArn: aws.String(arn)}}}, nil
}

func (e *oneTask) DescribeTasks(context.Context, *ecs.DescribeTasksInput, ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return &ecs.DescribeTasksOutput{Tasks: []types.Task{{TaskArn: aws.String(arn), LastStatus: aws.String("STOPPED"),
		Containers: []types.Container{{Name: aws.String("gate"), ExitCode: aws.Int32(e.code)}}}}}, nil
}

type reports map[string]string

func (r reports) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(r[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]))}, nil
}

func invoke(t *testing.T, ecsAPI envrun.ECS, objects envrun.Objects, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var region string
	connected := false
	connect := func(_ context.Context, r, _ string) (clients, error) {
		region, connected = r, true
		return clients{ECS: ecsAPI, Objects: objects}, nil
	}
	noGCP := func(context.Context, string) (*cloudrun.Runner, error) {
		t.Fatal("AWS outputs must not reach for Google Cloud")
		return nil, nil
	}
	code := run(context.Background(), args, &stdout, &stderr, deps{aws: connect, gcp: noGCP, tune: func(r *envrun.Runner) { r.Poll = time.Millisecond }})
	if code == cliexit.OK && connected {
		assert.Equal(t, "eu-west-1", region, "the region comes from the outputs")
	}
	return code, stdout.String(), stderr.String()
}

func writeOutputs(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "out.json")
	require.NoError(t, os.WriteFile(p, []byte(outputs), 0o600))
	return p
}

func TestGatePrintsTheReport(t *testing.T) {
	e := &oneTask{code: 2}
	code, out, errOut := invoke(t, e, reports{"lake-qa/quality/rel-1/gate.json": `{"outcome":"warn"}`},
		"gate", "--outputs", writeOutputs(t), "--run-id", "rel-1", "--", "--commit", "abc")
	require.Equal(t, cliexit.OK, code, errOut)
	assert.JSONEq(t, `{"outcome":"warn"}`, out)
	assert.Contains(t, errOut, "exited with 2")
	assert.Equal(t, []string{"--commit", "abc"}, e.in.Overrides.ContainerOverrides[0].Command)

	dir := t.TempDir()
	code, _, errOut = invoke(t, e, reports{"lake-qa/quality/rel-1/gate.json": `{"outcome":"warn"}`, "lake-qa/quality/rel-1/gate.md": "# warn"},
		"gate", "--outputs", writeOutputs(t), "--run-id", "rel-1", "--out", dir)
	require.Equal(t, cliexit.OK, code, errOut)
	md, err := os.ReadFile(filepath.Join(dir, "gate.md"))
	require.NoError(t, err)
	assert.Equal(t, "# warn", string(md))
}

func TestWhatTheEnvironmentLacks(t *testing.T) {
	code, _, errOut := invoke(t, &oneTask{}, reports{}, "smoke", "--outputs", writeOutputs(t))
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "no smoke task (smoke_run is null)")
	code, out, _ := invoke(t, &oneTask{}, reports{}, "services", "--outputs", writeOutputs(t))
	assert.Equal(t, cliexit.OK, code, "no Dagster: nothing to wait for")
	assert.Contains(t, out, "no Dagster services")
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{}, {"deploy"}, {"gate", "--outputs", "x"}, {"smoke"}, {"services", "--outputs", "x", "extra"},
		{"smoke", "--outputs", "x", "--run-id", "r"}, {"gate", "--outputs", "x", "--run-id", "r", "--timeout", "0s"},
	} {
		code, _, errOut := invoke(t, &oneTask{}, reports{}, args...)
		assert.Equal(t, cliexit.Usage, code, "%v: %s", args, errOut)
		assert.Contains(t, errOut, "usage:")
	}
	code, _, errOut := invoke(t, &oneTask{}, reports{}, "gate", "--outputs", filepath.Join(t.TempDir(), "none.json"), "--run-id", "r")
	assert.Equal(t, cliexit.Failure, code)
	assert.Contains(t, errOut, "read the outputs")
}
