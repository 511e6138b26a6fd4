package infra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
)

// A deploy rehearsal on the emulator: after the apply, cmd/envrun (the
// binary deploy runs in the environment) follows the Dagster services and
// starts the smoke and gate tasks the applied root defines, with the
// outputs deploy hands it, against the same emulator. No container runs
// there: the test plays the gate's container (emulator_tasks_test.go) as
// dagster/deploy/gate.sh does, with the task role ECS would give it, and
// moto checks that role's S3 permissions. Afterwards the test compares
// what ECS recorded of each task with what the root created: task
// definition, container, roles, log group, subnets, security groups and
// the report's location. A name, an output shape or a permission on which
// the root and envrun disagree fails here.

// rehearsalRunID is the gate run's id (the pipeline uses the release's).
const rehearsalRunID = "zzrehearsal-1"

// buildEnvrun builds cmd/envrun as the pipeline does (goTool "envrun").
func buildEnvrun(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go tool runs these tests: it must be on PATH")
	out := filepath.Join(t.TempDir(), "envrun")
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/envrun")
	cmd.Dir = repoRoot(t)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/envrun:\n%s", msg)
	return out
}

// pipelineIdentity creates the IAM user envrun runs as, with
// AdministratorAccess (deploy's role has PowerUserAccess and PassRole on
// the environment's roles, ci-identity/), and returns its keys.
func (e *emulatedEnv) pipelineIdentity() aws.Credentials {
	t, ctx := e.t, context.Background()
	c := iam.NewFromConfig(e.cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(e.moto.URL) })
	name := aws.String("zzrehearsal-pipeline")
	_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: name})
	require.NoError(t, err)
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	require.NoError(t, err)
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name})
	require.NoError(t, err)
	return aws.Credentials{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}
}

// envrun runs the envrun binary as deploy does (credentials in the
// environment, the outputs in a file) against the emulator, and returns
// its exit code, stdout and stderr.
func (e *emulatedEnv) envrun(bin string, creds aws.Credentials, args ...string) (int, string, string) {
	e.t.Helper()
	home := e.t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	verb, rest := args[0], args[1:]
	cmd := exec.CommandContext(ctx, bin, append([]string{verb, "--endpoint", e.moto.URL}, rest...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "HTTP_PROXY=" + hosttest.DeadProxy, "HTTPS_PROXY=" + hosttest.DeadProxy, "NO_PROXY="}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	require.NoError(e.t, err)
	return 0, stdout.String(), stderr.String()
}

// rehearse runs deploy's verification inside the applied environment.
func (e *emulatedEnv) rehearse(bin string) {
	t, o := e.t, e.outputs
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	require.NoError(t, os.WriteFile(outputs, e.rawOut, 0o644))
	pipeline := e.pipelineIdentity()
	restorePolicies := e.suspendBucketPolicies()
	tasks := e.playTasks(pipeline)
	require.NoError(t, e.iam.set(true))
	defer func() { require.NoError(t, e.iam.set(false)) }()

	if o.HasServices() {
		code, stdout, stderr := e.envrun(bin, pipeline, "services", "--outputs", outputs, "--timeout", "2m")
		require.Equal(t, 0, code, "envrun services:\n%s\nmoto's log:\n%s", stderr, e.moto.Tail(20))
		assert.Contains(t, stdout, "3 services run the release")
	}
	if o.HasSmoke() {
		code, stdout, stderr := e.envrun(bin, pipeline, "smoke", "--outputs", outputs, "--started-by", "zzrehearsal", "--timeout", "3m")
		require.Equal(t, 0, code, "envrun smoke:\n%s\nmoto's log:\n%s", stderr, e.moto.Tail(20))
		assert.Contains(t, stdout, "every asset materialized")
	}
	var report []byte
	if o.HasGate() {
		dir := t.TempDir()
		code, _, stderr := e.envrun(bin, pipeline, "gate", "--outputs", outputs, "--run-id", rehearsalRunID, "--out", dir,
			"--started-by", "zzrehearsal", "--timeout", "3m", "--", "--commit", "zzrehearsal")
		require.Equal(t, 0, code, "envrun gate:\n%s\nwhat the gate's container met: %v\nmoto's log:\n%s", stderr, tasks.errors(), e.moto.Tail(20))
		var err error
		report, err = os.ReadFile(filepath.Join(dir, "gate.json"))
		require.NoError(t, err)
	}
	started := tasks.stop()
	require.NoError(t, e.iam.set(false))
	restorePolicies()
	require.Empty(t, tasks.errors(), "the tasks' containers, played on the emulator")

	if o.HasSmoke() {
		smoke := started.of(o.Smoke.TaskDefinition)
		require.NotNil(t, smoke, "envrun smoke started no task of %s", o.Smoke.TaskDefinition)
		e.checkTask("smoke_run", smoke, o.Smoke.Container, o.Smoke.Subnets, o.Smoke.SecurityGroups)
		e.checkSmokeIsADagsterRun(smoke)
	}
	if o.HasGate() {
		gate := started.of(o.Gate.TaskDefinition)
		require.NotNil(t, gate, "envrun gate started no task of %s", o.Gate.TaskDefinition)
		e.checkTask("quality_gate", gate, o.Gate.Container, o.Gate.Subnets, o.Gate.SecurityGroups)
		assert.Equal(t, o.GateReportURI(rehearsalRunID), gate.reportURI, "the gate container writes its report where envrun reads it")
		var written, read map[string]any
		require.NoError(t, json.Unmarshal(gate.report, &written))
		require.NoError(t, json.Unmarshal(report, &read))
		assert.Equal(t, written, read, "envrun returns the report the gate's container wrote")
	}
}

// suspendBucketPolicies is the adjustment of emulatorGaps for
// aws_s3_bucket_policy: it removes the policy of every bucket of the
// environment while the tasks write and envrun reads the gate's report, and
// while the teardown empties the buckets (moto would refuse every object
// request), and returns the function that puts each policy back exactly as
// the apply left it, for the destroy to find.
func (e *emulatedEnv) suspendBucketPolicies() func() {
	t, ctx := e.t, context.Background()
	client := e.s3(e.cfg)
	state := readBackend(t, "aws")["bucket"].AsString()
	buckets, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	saved := map[string]string{}
	for _, b := range buckets.Buckets {
		name := aws.ToString(b.Name)
		if name == state {
			continue
		}
		p, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b.Name})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchBucketPolicy" {
			continue
		}
		require.NoError(t, err, "the policy of bucket %s", name)
		saved[name] = aws.ToString(p.Policy)
		_, err = client.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b.Name})
		require.NoError(t, err)
	}
	require.NotEmpty(t, saved, "the root puts a policy on its buckets")
	return func() {
		for name, policy := range saved {
			_, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(policy)})
			require.NoError(t, err, "put back the policy of bucket %s", name)
		}
	}
}

// checkSmokeIsADagsterRun: the smoke task must run the task definition the
// Dagster daemon launches runs from (EcsRunLauncher's
// DAGSTER_ECS_RUN_TASK_DEFINITION, by family), so the smoke materializes as
// a run of the deployment would.
func (e *emulatedEnv) checkSmokeIsADagsterRun(smoke *startedTask) {
	t := e.t
	daemon, ok := e.outputs.Services.Services["daemon"]
	require.True(t, ok, "dagster_services names no daemon")
	def := e.describeTaskDefinition(daemon.TaskDefinition)
	var launched string
	for _, c := range def.ContainerDefinitions {
		for _, kv := range c.Environment {
			if aws.ToString(kv.Name) == "DAGSTER_ECS_RUN_TASK_DEFINITION" {
				launched = aws.ToString(kv.Value)
			}
		}
	}
	require.NotEmpty(t, launched, "the daemon's container sets no DAGSTER_ECS_RUN_TASK_DEFINITION")
	assert.Equal(t, launched, aws.ToString(smoke.definition.Family),
		"smoke_run starts task definition family %q, but the Dagster daemon launches runs from %q", aws.ToString(smoke.definition.Family), launched)
	if strings.Contains(launched, ":") {
		t.Errorf("DAGSTER_ECS_RUN_TASK_DEFINITION %q pins a revision: runs would not follow the release", launched)
	}
}

// iamChecks switches moto's IAM checks, from the test and from the task
// player alike.
type iamChecks struct {
	mu   sync.Mutex
	moto *hosttest.Moto
	on   bool
}

func (c *iamChecks) set(on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = on
	return c.moto.SetIAMChecks(on)
}

// without runs f with the checks off.
func (c *iamChecks) without(f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		if err := c.moto.SetIAMChecks(false); err != nil {
			return err
		}
		defer func() { _ = c.moto.SetIAMChecks(true) }()
	}
	return f()
}

// roleCredentials stands for ECS handing a task its role: moto's STS
// checks the role's trust policy (the ECS tasks service), which no test
// identity passes, so the role is assumed with IAM checks off for the call.
func (e *emulatedEnv) roleCredentials(ctx context.Context, roleARN string) (aws.CredentialsProvider, error) {
	var out *sts.AssumeRoleOutput
	err := e.iam.without(func() error {
		var err error
		out, err = sts.NewFromConfig(e.cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.moto.URL) }).
			AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("zzrehearsal-task")})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("assume the task role %s: %w", roleARN, err)
	}
	c := out.Credentials
	return credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), nil
}
