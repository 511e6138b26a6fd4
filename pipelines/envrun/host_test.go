package envrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
)

// Host tests: the real AWS SDK calls of envrun against moto's server (an
// independent implementation of the ECS, S3 and CloudWatch Logs APIs) on
// 127.0.0.1, from the Python test venv (dagster/.venv, requirements-dev.lock,
// created by `make test-python`). moto never runs containers: its tasks stay
// RUNNING until stopped, which is what the timeout path needs.

func motoServer(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", "dagster", ".venv", "bin", "moto_server")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("LAKEHOUSE_REQUIRE_HOST_TOOLS") == "1" {
			t.Fatalf("moto_server not found at %s: run `make test-python` first (it creates dagster/.venv)", bin)
		}
		t.Skipf("moto_server not found at %s: run `make test-python` to create dagster/.venv", bin)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	// moto reads AWS settings too: give it none of the test's.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=moto", "AWS_SECRET_ACCESS_KEY=moto"}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("moto_server output:\n%s", tailOf(logs.String(), 40))
		}
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not listen: %s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hermetic(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDHOSTTEST", "AWS_SECRET_ACCESS_KEY": "host-test-secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
	}
}

type world struct {
	ecs            *ecs.Client
	s3             *s3.Client
	logs           *cloudwatchlogs.Client
	cluster        string
	taskDef        string
	subnet, sgroup string
}

var ec2ID = regexp.MustCompile(`<(vpcId|subnetId|groupId)>([^<]+)</`)

// ec2 calls moto's EC2 Query API (moto validates the subnets and security
// groups of a task); unsigned, with the region in the credential scope.
func ec2(t *testing.T, endpoint string, params url.Values) string {
	t.Helper()
	params.Set("Version", "2016-11-15")
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(params.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=moto/20261202/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", params.Get("Action"), body)
	if m := ec2ID.FindStringSubmatch(string(body)); m != nil {
		return m[2]
	}
	return ""
}

// newWorld creates a cluster, a Fargate task definition logging to
// CloudWatch, a report bucket and a service on moto.
func newWorld(t *testing.T, endpoint string) world {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	require.NoError(t, err)
	w := world{
		ecs:  ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		s3:   s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint); o.UsePathStyle = true }),
		logs: cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(endpoint) }),
	}
	cl, err := w.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("lake")})
	require.NoError(t, err)
	w.cluster = aws.ToString(cl.Cluster.ClusterArn)
	def, err := w.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("lake-quality-gate"), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu: aws.String("1024"), Memory: aws.String("2048"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("gate"), Image: aws.String("registry.example/lake@sha256:" + strings.Repeat("b", 64)), Essential: aws.Bool(true), Memory: aws.Int32(2048), Cpu: 1024, // moto sizes tasks by their containers
			LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/ecs/lake-quality-gate", "awslogs-stream-prefix": "gate", "awslogs-region": "eu-west-1"}}}},
	})
	require.NoError(t, err)
	w.taskDef = aws.ToString(def.TaskDefinition.TaskDefinitionArn)
	vpc := ec2(t, endpoint, url.Values{"Action": {"CreateVpc"}, "CidrBlock": {"10.0.0.0/16"}})
	// As the aws root's VPC; moto's task ENIs also need it.
	ec2(t, endpoint, url.Values{"Action": {"ModifyVpcAttribute"}, "VpcId": {vpc}, "EnableDnsHostnames.Value": {"true"}})
	w.subnet = ec2(t, endpoint, url.Values{"Action": {"CreateSubnet"}, "VpcId": {vpc}, "CidrBlock": {"10.0.1.0/24"}})
	w.sgroup = ec2(t, endpoint, url.Values{"Action": {"CreateSecurityGroup"}, "VpcId": {vpc}, "GroupName": {"gate"}, "GroupDescription": {"gate"}})
	return w
}

func (w world) gate() envrun.GateTask {
	return envrun.GateTask{Task: envrun.Task{Launcher: "ecs", Cluster: w.cluster, TaskDefinition: w.taskDef, Container: "gate",
		Subnets: []string{w.subnet}, SecurityGroups: []string{w.sgroup}},
		RunIDVariable: "GATE_RUN_ID", ReportURI: "s3://lake-qa-bucket/quality"}
}

func TestHostGateTaskAgainstMoto(t *testing.T) {
	hermetic(t)
	endpoint := motoServer(t)
	w := newWorld(t, endpoint)
	ctx := context.Background()
	_, err := w.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake-qa-bucket"), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}})
	require.NoError(t, err)

	// The "task": when it appears, it writes its report and stops, as the
	// gate container does at the end of gate.sh.
	go func() {
		for range 200 {
			list, err := w.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(w.cluster)})
			if err == nil && len(list.TaskArns) > 0 {
				desc, err := w.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.cluster), Tasks: list.TaskArns})
				if err != nil || len(desc.Tasks) == 0 {
					continue
				}
				runID := ""
				for _, o := range desc.Tasks[0].Overrides.ContainerOverrides {
					for _, kv := range o.Environment {
						if aws.ToString(kv.Name) == "GATE_RUN_ID" {
							runID = aws.ToString(kv.Value)
						}
					}
				}
				_, _ = w.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake-qa-bucket"), Key: aws.String("quality/" + runID + "/gate.json"), Body: strings.NewReader(`{"outcome":"pass"}`)})
				_, _ = w.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(w.cluster), Task: aws.String(list.TaskArns[0]), Reason: aws.String("Essential container in task exited")})
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	r := &envrun.Runner{ECS: w.ecs, Logs: w.logs, Poll: 100 * time.Millisecond}
	report, res, err := r.RunGate(ctx, w.s3, envrun.GateRun{Gate: w.gate(), RunID: "rel-abc-1", Args: []string{"--commit", "abc"}, StartedBy: "lakehouse-release-abc", Timeout: time.Minute})
	require.NoError(t, err)
	assert.JSONEq(t, `{"outcome":"pass"}`, string(report.JSON))
	assert.Contains(t, res.TaskARN, ":task/")

	// What ECS recorded of the start: Fargate, the run id, the arguments.
	desc, err := w.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.cluster), Tasks: []string{res.TaskARN}})
	require.NoError(t, err)
	task := desc.Tasks[0]
	assert.Equal(t, "STOPPED", aws.ToString(task.LastStatus))
	assert.Equal(t, "lakehouse-release-abc", aws.ToString(task.StartedBy))
	raw, _ := json.Marshal(task.Overrides)
	assert.Contains(t, string(raw), `"GATE_RUN_ID"`)
	assert.Contains(t, string(raw), `"--commit"`)
}

func TestHostAbandonedTaskIsStoppedOnMoto(t *testing.T) {
	hermetic(t)
	endpoint := motoServer(t)
	w := newWorld(t, endpoint)
	// moto moves a task one status on per DescribeTasks (RUNNING … STOPPED
	// after four); keep this one running, as a hung task would.
	resp, err := http.Post(endpoint+"/moto-api/state-manager/set-transition", "application/json",
		strings.NewReader(`{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 100000}}`))
	require.NoError(t, err)
	resp.Body.Close()
	r := &envrun.Runner{ECS: w.ecs, Logs: w.logs, Poll: 50 * time.Millisecond}
	_, err = r.RunTask(context.Background(), envrun.Run{Name: "smoke", Task: w.gate().Task, Timeout: 500 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not finish within 500ms; it was stopped")
	list, err := w.ecs.ListTasks(context.Background(), &ecs.ListTasksInput{Cluster: aws.String(w.cluster), DesiredStatus: types.DesiredStatusStopped})
	require.NoError(t, err)
	assert.Len(t, list.TaskArns, 1, "the task the pipeline stopped waiting for is stopped in ECS")
}

func tailOf(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestHostServicesOnMoto(t *testing.T) {
	hermetic(t)
	w := newWorld(t, motoServer(t))
	ctx := context.Background()
	_, err := w.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(w.cluster), ServiceName: aws.String("lake-dagster-webserver"),
		TaskDefinition: aws.String(w.taskDef), DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{w.subnet}, SecurityGroups: []string{w.sgroup}}}})
	require.NoError(t, err)
	r := &envrun.Runner{ECS: w.ecs, Poll: 50 * time.Millisecond}
	svcs := envrun.Services{Launcher: "ecs", Cluster: w.cluster, Services: map[string]envrun.Service{"webserver": {Name: "lake-dagster-webserver", TaskDefinition: w.taskDef}}}
	// moto never places a service's tasks: its rollout stays in progress
	// with 0/1 running, so the wait ends at the timeout with that state.
	err = r.WaitServices(ctx, svcs, 2*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not all run the release within 2s")
	assert.Contains(t, err.Error(), "lake-dagster-webserver: rollout in_progress, 0/1 tasks running")

	// A service that runs another revision than the release's fails at once.
	other := svcs
	other.Services = map[string]envrun.Service{"webserver": {Name: "lake-dagster-webserver", TaskDefinition: w.taskDef + "0"}}
	err = r.WaitServices(ctx, other, 2*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not the release's")
}
