package infra

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The emulator runs no container. taskPlayer watches the cluster and, for
// each task envrun starts, does what its container would do there: the
// gate's container (dagster/deploy/gate.sh) writes gate.json and gate.md to
// $GATE_REPORT_URI/$GATE_RUN_ID/ with the task's role; moto, with IAM
// checks on, refuses the write unless that role may make it. moto itself
// reports every container it starts as exited with 0, under the name the
// task definition gives it.

// gateRunIDVariable is the variable dagster/deploy/gate.sh reads the run id
// from (without it the report goes under the start time).
const gateRunIDVariable = "GATE_RUN_ID"

// startedTask is one task envrun started, as ECS recorded it.
type startedTask struct {
	task       ecstypes.Task
	definition ecstypes.TaskDefinition
	// reportURI and report: where the gate's container wrote, and what.
	reportURI string
	report    []byte
}

type startedTasks []*startedTask

// of is the task started from a task definition ARN, nil if none.
func (s startedTasks) of(taskDefinition string) *startedTask {
	for _, st := range s {
		if aws.ToString(st.task.TaskDefinitionArn) == taskDefinition {
			return st
		}
	}
	return nil
}

type taskPlayer struct {
	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	tasks    startedTasks
	errs     []error
}

func (p *taskPlayer) fail(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *taskPlayer) errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

// stop ends the watch and returns the tasks seen.
func (p *taskPlayer) stop() startedTasks {
	p.stopOnce.Do(func() { close(p.quit) })
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tasks
}

// playTasks watches the environment's cluster with the pipeline's identity.
func (e *emulatedEnv) playTasks(creds aws.Credentials) *taskPlayer {
	p := &taskPlayer{quit: make(chan struct{}), done: make(chan struct{})}
	cluster := ""
	switch {
	case e.outputs.Smoke != nil:
		cluster = e.outputs.Smoke.Cluster
	case e.outputs.Gate != nil:
		cluster = e.outputs.Gate.Cluster
	default:
		close(p.done)
		return p
	}
	cfg := e.awsConfig(credentials.StaticCredentialsProvider{Value: creds})
	client := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(e.moto.URL) })
	go func() {
		defer close(p.done)
		ctx := context.Background()
		seen := map[string]bool{}
		for {
			select {
			case <-p.quit:
				return
			case <-time.After(100 * time.Millisecond):
			}
			list, err := client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster)})
			if err != nil {
				continue // envrun's own reads say what is wrong
			}
			for _, arn := range list.TaskArns {
				if !seen[arn] {
					seen[arn] = true
					e.playTask(ctx, p, client, cluster, arn)
				}
			}
		}
	}()
	return p
}

// playTask records a new task and acts as its container.
func (e *emulatedEnv) playTask(ctx context.Context, p *taskPlayer, client *ecs.Client, cluster, arn string) {
	desc, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
	if err != nil || len(desc.Tasks) != 1 {
		p.fail("describe the started task %s: %v", arn, err)
		return
	}
	def, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: desc.Tasks[0].TaskDefinitionArn})
	if err != nil {
		p.fail("describe the task definition of %s: %v", arn, err)
		return
	}
	st := &startedTask{task: desc.Tasks[0], definition: *def.TaskDefinition}
	defer func() { p.mu.Lock(); p.tasks = append(p.tasks, st); p.mu.Unlock() }()
	reportURI := ""
	for _, c := range st.definition.ContainerDefinitions {
		for _, kv := range c.Environment {
			if aws.ToString(kv.Name) == "GATE_REPORT_URI" {
				reportURI = aws.ToString(kv.Value)
			}
		}
	}
	if reportURI == "" {
		return // not the gate: moto's container exits 0
	}
	runID := time.Now().UTC().Format("20060102T150405Z")
	for _, o := range st.task.Overrides.ContainerOverrides {
		for _, kv := range o.Environment {
			if aws.ToString(kv.Name) == gateRunIDVariable {
				runID = aws.ToString(kv.Value)
			}
		}
	}
	st.reportURI = strings.TrimSuffix(reportURI, "/") + "/" + runID + "/gate.json"
	st.report = []byte(fmt.Sprintf(`{"environment": %q, "run_id": %q, "outcome": "pass"}`, e.target.Env().Name(), runID))
	role, err := e.roleCredentials(ctx, aws.ToString(st.definition.TaskRoleArn))
	if err != nil {
		p.fail("the gate's container: %v", err)
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(st.reportURI, "s3://"), "/")
	objects := e.s3(e.awsConfig(role))
	for name, body := range map[string][]byte{key: st.report, strings.TrimSuffix(key, ".json") + ".md": []byte("# quality gate\n")} {
		if _, err := objects.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(name), Body: strings.NewReader(string(body))}); err != nil {
			p.fail("the gate's container, as task role %s, cannot write s3://%s/%s: %v", aws.ToString(st.definition.TaskRoleArn), bucket, name, err)
		}
	}
}

// checkTask compares what ECS recorded of a started task with the root's
// resources and the output that named it.
func (e *emulatedEnv) checkTask(output string, st *startedTask, container string, subnets, groups []string) {
	t, ctx := e.t, context.Background()
	assert.Equal(t, ecstypes.LaunchTypeFargate, st.task.LaunchType, "%s: launch type", output)

	var c *ecstypes.ContainerDefinition
	for i := range st.definition.ContainerDefinitions {
		if aws.ToString(st.definition.ContainerDefinitions[i].Name) == container {
			c = &st.definition.ContainerDefinitions[i]
		}
	}
	require.NotNil(t, c, "%s names container %q, which task definition %s does not have", output, container, aws.ToString(st.definition.Family))
	require.NotNil(t, c.LogConfiguration, "%s: container %s logs nowhere", output, container)
	group := c.LogConfiguration.Options["awslogs-group"]
	logs := cloudwatchlogs.NewFromConfig(e.cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(e.moto.URL) })
	found, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	require.NoError(t, err)
	exists := false
	for _, g := range found.LogGroups {
		exists = exists || aws.ToString(g.LogGroupName) == group
	}
	assert.True(t, exists, "%s: container %s logs to %q, a log group the root did not create", output, container, group)

	roles := iam.NewFromConfig(e.cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(e.moto.URL) })
	for what, arn := range map[string]*string{"task role": st.definition.TaskRoleArn, "execution role": st.definition.ExecutionRoleArn} {
		name := aws.ToString(arn)[strings.LastIndex(aws.ToString(arn), "/")+1:]
		_, err := roles.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		assert.NoError(t, err, "%s: the %s %s of task definition %s", output, what, aws.ToString(arn), aws.ToString(st.definition.Family))
	}

	// Where the task's network interface is: one of the output's subnets,
	// with exactly its security groups, all in one VPC, with no route to an
	// internet gateway (the tasks run in private subnets).
	var eni, subnet string
	for _, a := range st.task.Attachments {
		for _, d := range a.Details {
			switch aws.ToString(d.Name) {
			case "networkInterfaceId":
				eni = aws.ToString(d.Value)
			case "subnetId":
				subnet = aws.ToString(d.Value)
			}
		}
	}
	assert.Contains(t, subnets, subnet, "%s: the task's subnet", output)
	net := ec2.NewFromConfig(e.cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(e.moto.URL) })
	nis, err := net.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	require.NoError(t, err, "%s: the task's network interface %q", output, eni)
	require.Len(t, nis.NetworkInterfaces, 1)
	var got []string
	for _, g := range nis.NetworkInterfaces[0].Groups {
		got = append(got, aws.ToString(g.GroupId))
	}
	assert.ElementsMatch(t, groups, got, "%s: the task's security groups", output)
	vpc := aws.ToString(nis.NetworkInterfaces[0].VpcId)
	sgs, err := net.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: groups})
	require.NoError(t, err, "%s: security groups %v", output, groups)
	for _, g := range sgs.SecurityGroups {
		assert.Equal(t, vpc, aws.ToString(g.VpcId), "%s: security group %s is in another VPC than the task", output, aws.ToString(g.GroupId))
	}
	for _, s := range subnets {
		tables, err := net.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{s}}}})
		require.NoError(t, err)
		require.NotEmpty(t, tables.RouteTables, "%s: subnet %s has no route table of its own", output, s)
		for _, rt := range tables.RouteTables {
			assert.Equal(t, vpc, aws.ToString(rt.VpcId), "%s: subnet %s", output, s)
			for _, r := range rt.Routes {
				assert.False(t, strings.HasPrefix(aws.ToString(r.GatewayId), "igw-"), "%s: subnet %s routes to the internet gateway: the task would not be private", output, s)
			}
		}
	}
}

// describeTaskDefinition reads a task definition from the emulator.
func (e *emulatedEnv) describeTaskDefinition(arn string) ecstypes.TaskDefinition {
	out, err := ecs.NewFromConfig(e.cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(e.moto.URL) }).
		DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	require.NoError(e.t, err, "task definition %s", arn)
	return *out.TaskDefinition
}
