package infra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// The aws root applied, not only planned: for every environments/*.tfvars
// (and one added by copying dev.tfvars), the real AWS provider applies the
// root against moto's server on 127.0.0.1, driven by the pipeline's own
// argv (pipelines/terraform: init with the S3 backend, plan, the guard,
// apply of the saved plan, output -json); envrun then reads the outputs
// as deploy does and rehearses deploy's verification against the same
// emulator (emulator_rehearsal_test.go); last, the environment is torn
// down through the guard and the emulator is checked empty of what the
// root created (emulator_destroy_test.go). What the test alone adds: a
// provider override file pointing every AWS API at the emulator (never
// committed), backend settings for the emulator's S3, a certificate in
// the emulator's ACM for environments with HTTPS, and -target of every
// address but the types the emulator cannot serve (emulator_gaps_test.go).

// motoSettings configure every emulator of these tests.
var motoSettings = []string{
	// The root attaches AWS-managed policies (AmazonECSTaskExecutionRolePolicy),
	// which moto knows only when told to load them.
	"MOTO_IAM_LOAD_MANAGED_POLICIES=true",
	// moto runs no container: it reports each ECS service's deployment with
	// this many tasks running (the Dagster services' desired count), so a
	// rollout completes as it does on AWS once the tasks are healthy.
	"MOTO_ECS_SERVICE_RUNNING=1",
}

// emulatedServices are the provider's endpoints the override points at the
// emulator: every AWS API the root calls. A service missing here is called
// on AWS itself, which the dead proxy refuses (see terraformEnv).
var emulatedServices = []string{"acm", "appautoscaling", "cloudtrail", "cloudwatch", "dynamodb", "ec2", "ecs", "elbv2", "iam", "kms", "logs", "rds", "s3", "secretsmanager", "servicediscovery", "sns", "sts"}

// releaseImages stand for a release's digests, passed with -var as deploy does.
var releaseImages = map[string]string{
	"dagster_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse@sha256:" + strings.Repeat("1", 64),
	"gate_image":    "123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse@sha256:" + strings.Repeat("2", 64),
}

// emulatorAddedEnv is the environment the test adds from dev.tfvars.
const emulatorAddedEnv = "zzapply"

func TestAwsRootAppliesToTheEmulatorForEveryEnvironment(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		requireOrSkip(t, "terraform binary not on PATH: install Terraform >= 1.10 to apply the aws root to the emulator")
	}
	checkEmulatorGaps(t)
	envrunBin := buildEnvrun(t)
	committed, err := loadTfvars(repoRoot(t))
	require.NoError(t, err)
	files, err := loadTfvars(tempTree(t, func(tree string) { addEnvironmentFromDev(t, tree, emulatorAddedEnv) }))
	require.NoError(t, err)
	require.Len(t, files, len(committed)+1, "the repository's environments and %s", emulatorAddedEnv)
	// Every environment at once, each on its own emulator: most of the time
	// goes to the provider's waits (load balancers, the database), and
	// go test would run only GOMAXPROCS parallel subtests at a time.
	start := time.Now()
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(f.Env, func(t *testing.T) {
				e := newEmulatedEnv(t, bin, f.Env)
				e.stage("apply", e.apply)
				e.stage("rehearsal", func() { e.rehearse(envrunBin) })
				e.stage("destroy", e.destroy)
				report(t, "emulator apply of aws/ for %s: %s", f.Env, e.timings())
			})
		}()
	}
	wg.Wait()
	report(t, "emulator apply of aws/: %d environments applied, rehearsed and destroyed concurrently in %s", len(files), time.Since(start).Round(time.Second))
}

// emulatedEnv is one environment applied to its own emulator.
type emulatedEnv struct {
	t      *testing.T
	bin    string
	tree   string // a copy of the repository's Terraform tree
	moto   *hosttest.Moto
	target terraform.Target
	tfvars *tfvarsFile
	cfg    aws.Config // the account's administrator (the state bucket, setup and checks)
	// vars are the -var values of every plan: the release's images and,
	// where the environment serves HTTPS, the emulator's certificate.
	vars map[string]string
	// targets are the -target flags: every planned address but those of
	// the left-out types.
	targets []string
	outputs envrun.Outputs
	rawOut  []byte // `terraform output -json`, redacted as deploy does
	iam     *iamChecks
	took    []string
}

func newEmulatedEnv(t *testing.T, bin, env string) *emulatedEnv {
	tree := tempTree(t, func(tree string) { addEnvironmentFromDev(t, tree, emulatorAddedEnv) })
	cat, err := environment.Discover(os.DirFS(tree))
	require.NoError(t, err)
	require.NoError(t, cat.Err())
	ev, err := cat.Lookup(env)
	require.NoError(t, err)
	tg, err := terraform.NewTarget(ev, terraform.AWS)
	require.NoError(t, err)
	files, err := loadTfvars(tree)
	require.NoError(t, err)
	e := &emulatedEnv{t: t, bin: bin, tree: tree, target: tg.WithLockTimeout(0), moto: hosttest.StartMoto(t, motoSettings...), vars: map[string]string{}}
	e.iam = &iamChecks{moto: e.moto}
	for _, f := range files {
		if f.Env == env {
			e.tfvars = f
		}
	}
	for k, v := range releaseImages {
		e.vars[k] = v
	}
	e.cfg = e.awsConfig(credentials.NewStaticCredentialsProvider("zzemulator", "zzemulator-secret", ""))

	// The state bucket exists before the first deploy (README): create it
	// where backend.tfbackend says.
	backend := readBackend(t, "aws")
	ctx := context.Background()
	_, err = e.s3(e.cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(backend["bucket"].AsString())})
	require.NoError(t, err)
	if on, _ := e.tfvars.value("enable_https"); on.True() {
		// An environment with HTTPS names its certificate in its tfvars;
		// the committed ones are placeholders (checks.tf flags them).
		cert, err := acm.NewFromConfig(e.cfg, func(o *acm.Options) { o.BaseEndpoint = aws.String(e.moto.URL) }).
			RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String(env + ".zzapply.example")})
		require.NoError(t, err)
		e.vars["aws_certificate_arn"] = aws.ToString(cert.CertificateArn)
	}
	override := "# Written by tests/infra for the emulator apply: every AWS API goes to\n# moto on 127.0.0.1. Never committed.\n" + e.providerBlock("")
	require.NoError(t, os.WriteFile(filepath.Join(e.dir(), "zz_emulator_override.tf"), []byte(override), 0o644))
	e.giveContainersTheTaskMemory()
	return e
}

// giveContainersTheTaskMemory writes the adjustment of emulatorGaps for
// aws_ecs_task_definition: every container definition the root writes,
// unchanged but for a memory limit equal to its task's where it has none.
func (e *emulatedEnv) giveContainersTheTaskMemory() {
	t := e.t
	mods, err := loadModules(e.tree)
	require.NoError(t, err)
	var b strings.Builder
	for _, r := range mods["aws"].Resources {
		if r.Kind != "resource" || r.Type != "aws_ecs_task_definition" {
			continue
		}
		defs, mem := r.Body.Attributes["container_definitions"], r.Body.Attributes["memory"]
		require.NotNil(t, defs, r.addr())
		require.NotNil(t, mem, "%s: a Fargate task definition has a task memory", r.addr())
		fmt.Fprintf(&b, "resource %q %q {\n  container_definitions = jsonencode([for c in jsondecode(%s) : merge({ memory = tonumber(%s) }, c)])\n}\n",
			r.Type, r.Name, exprSource(t, defs.Expr), exprSource(t, mem.Expr))
	}
	require.NoError(t, os.WriteFile(filepath.Join(e.dir(), "zz_emulator_task_memory_override.tf"), []byte(b.String()), 0o644))
}

// providerBlock is a provider "aws" block that sends every call to the
// emulator; extra are more arguments (e.g. the region).
func (e *emulatedEnv) providerBlock(extra string) string {
	var endpoints strings.Builder
	for _, s := range emulatedServices {
		fmt.Fprintf(&endpoints, "    %-16s = %q\n", s, e.moto.URL)
	}
	return "provider \"aws\" {\n" + extra +
		"  s3_use_path_style           = true\n  skip_credentials_validation = true\n  skip_metadata_api_check     = true\n" +
		"  endpoints {\n" + endpoints.String() + "  }\n}\n"
}

func (e *emulatedEnv) dir() string { return filepath.Join(e.tree, e.target.Workdir()) }

func (e *emulatedEnv) awsConfig(creds aws.CredentialsProvider) aws.Config {
	region, _ := e.tfvars.value("aws_region")
	return aws.Config{Region: region.AsString(), Credentials: creds}
}

func (e *emulatedEnv) s3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.moto.URL); o.UsePathStyle = true })
}

// stage runs one stage and records its duration.
func (e *emulatedEnv) stage(name string, run func()) {
	e.t.Helper()
	start := time.Now()
	defer func() { e.took = append(e.took, fmt.Sprintf("%s %s", name, time.Since(start).Round(time.Second))) }()
	run()
}

func (e *emulatedEnv) timings() string { return strings.Join(e.took, ", ") }

// terraformEnv is the environment of every terraform process: the
// pipeline's variables, credentials of the emulator's account, and a proxy
// that refuses every connection (Go never proxies loopback), so a call that
// escaped the override fails instead of reaching AWS.
func (e *emulatedEnv) terraformEnv(offline bool) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.t.TempDir(),
		"AWS_ACCESS_KEY_ID=zzemulator", "AWS_SECRET_ACCESS_KEY=zzemulator-secret", "AWS_EC2_METADATA_DISABLED=true"}
	if cfg := os.Getenv("TF_CLI_CONFIG_FILE"); cfg != "" {
		env = append(env, "TF_CLI_CONFIG_FILE="+cfg)
	}
	for _, v := range terraform.Environ("") {
		env = append(env, v.Name+"="+v.Value)
	}
	if offline {
		env = append(env, "HTTP_PROXY="+hosttest.DeadProxy, "HTTPS_PROXY="+hosttest.DeadProxy, "NO_PROXY=")
	}
	return env
}

// run executes a pipeline argv (argv[0] "terraform") in the root and
// returns stdout; exit codes other than codes (default 0) fail the test
// with terraform's own output.
func (e *emulatedEnv) run(argv []string, codes ...int) (string, int) {
	e.t.Helper()
	return e.runIn(e.dir(), argv, codes...)
}

// runIn is run in another directory.
func (e *emulatedEnv) runIn(dir string, argv []string, codes ...int) (string, int) {
	e.t.Helper()
	require.Equal(e.t, "terraform", argv[0])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = e.terraformEnv(argv[1] != "init")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(e.t, err, "run %v", argv)
	}
	if len(codes) == 0 {
		codes = []int{0}
	}
	for _, c := range codes {
		if c == code {
			return stdout.String(), code
		}
	}
	e.t.Fatalf("%s: exit %d\n%s\n%s\nmoto's log:\n%s", strings.Join(argv, " "), code, tailLines(stdout.String(), 20), stderr.String(), e.moto.Tail(20))
	return "", code
}

// backendArgs point the S3 backend at the emulator; they are the only
// additions to the pipeline's init argv.
func (e *emulatedEnv) backendArgs() []string {
	return []string{`endpoints={s3="` + e.moto.URL + `"}`, "use_path_style=true", "skip_credentials_validation=true",
		"skip_requesting_account_id=true", "skip_metadata_api_check=true", "skip_region_validation=true"}
}

// plan saves a plan with the pipeline's argv (plus extra flags) and returns
// its summary.
func (e *emulatedEnv) plan(file string, vars map[string]string, extra ...string) terraform.Summary {
	e.t.Helper()
	argv := append(e.target.PlanWithVars(file, vars), extra...)
	e.run(argv, 0, 2)
	out, _ := e.run(e.target.ShowJSON(file))
	s, err := terraform.Summarize([]byte(out))
	require.NoError(e.t, err)
	return s
}

// apply runs deploy's sequence: init, plan with the release's images, the
// guard, apply of the saved plan, outputs.
func (e *emulatedEnv) apply() {
	t := e.t
	e.run(e.target.Init(e.backendArgs()...))
	full := e.plan(e.target.PlanFile(), e.vars)
	require.NoError(t, terraform.DefaultPolicy().Check(e.target.String(), full, nil), "a first apply only creates")
	gaps := leftOutTypes()
	leftOut := map[string]int{}
	for _, c := range full.Changes {
		if gaps[c.Type] {
			leftOut[c.Type]++
			continue
		}
		e.targets = append(e.targets, "-target="+c.Address)
	}
	sort.Strings(e.targets)
	planned := e.plan(e.target.PlanFile(), e.vars, e.targets...)
	for _, c := range planned.Changes {
		assert.False(t, gaps[c.Type], "%s is planned although its type is left out: a resource the emulator can serve depends on it", c.Address)
	}
	require.Equal(t, len(e.targets), planned.Count(terraform.Create), "the targeted plan creates exactly the targeted addresses")
	require.NoError(t, terraform.DefaultPolicy().Check(e.target.String(), planned, nil))
	e.run(e.target.Apply(e.target.PlanFile()))
	// A targeted apply records only the outputs that depend on a targeted
	// resource (not environment, region, the images …): a refresh-only
	// apply, which changes nothing on the emulator, records them all.
	refresh := []string{"terraform", "apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s", "-var-file=" + e.target.VarFile()}
	for _, k := range sortedKeys(e.vars) {
		refresh = append(refresh, "-var="+k+"="+e.vars[k])
	}
	e.run(refresh)
	report(t, "emulator apply of aws/ for %s: %d resources created; left out: %v", e.target.Env().Name(), len(e.targets), leftOut)

	out, _ := e.run(e.target.OutputJSON())
	redacted, err := terraform.RedactOutputs([]byte(out))
	require.NoError(t, err)
	e.rawOut = redacted
	e.outputs, err = envrun.ParseOutputs(redacted)
	require.NoError(t, err, "deploy reads the applied root's outputs with envrun.ParseOutputs")
	dagster, _ := e.tfvars.value("enable_dagster")
	assert.Equal(t, envrun.PlatformECS, e.outputs.Platform())
	assert.Equal(t, dagster.True(), e.outputs.HasServices() && e.outputs.HasSmoke())
	assert.Equal(t, e.target.Env().Name(), e.outputs.Environment)
	require.NoError(t, e.outputs.CheckRelease(releaseImages["dagster_image"], releaseImages["gate_image"]), "the applied environment runs the release")
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
