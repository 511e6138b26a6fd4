package terraform

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/s3test"
)

// Host tests run the argv built by this package with the real terraform
// binary against testdata/repo (built-in resources only) and an S3 backend
// served in-process on 127.0.0.1.

const stateBucket = "lakehouse-tfstate" // as in testdata/repo/aws/backend.tfbackend

func terraformBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TERRAFORM"); p != "" {
		return p
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not found on PATH (install Terraform >= 1.10, or set TERRAFORM=/path/to/terraform): skipping host test")
	}
	return p
}

// checkout is one copy of the fixture repository, as a CI job would have.
type checkout struct {
	t      *testing.T
	root   string
	bin    string
	s3     *s3test.Server
	target Target
	// cliConfig is the TF_CLI_CONFIG_FILE of every run; "" means an empty
	// one (built-in providers only). See providerMirror.
	cliConfig string
}

// newCheckout copies testdata/repo into a temp dir, adds extra files
// (relative path → content), discovers its environments with the real
// catalog and targets env on aws.
func newCheckout(t *testing.T, s3 *s3test.Server, env string, extra map[string]string) *checkout {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, os.DirFS("testdata/repo")))
	for name, content := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(content), 0o644))
	}
	cat, err := environment.Discover(os.DirFS(root))
	require.NoError(t, err)
	e, err := cat.Lookup(env)
	require.NoError(t, err)
	tg, err := NewTarget(e, AWS)
	require.NoError(t, err)
	return &checkout{t: t, root: root, bin: terraformBinary(t), s3: s3, target: tg.WithLockTimeout(0)}
}

// setVars sets tfvars attributes ("name = value" lines) in this checkout's
// environment file, replacing earlier settings, as a reviewer's commit would.
func (c *checkout) setVars(settings ...string) {
	c.t.Helper()
	p := filepath.Join(c.root, c.target.Env().TfvarsFile())
	b, err := os.ReadFile(p)
	require.NoError(c.t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, set := range settings {
		name, _, _ := strings.Cut(set, "=")
		name = strings.TrimSpace(name)
		kept := lines[:0]
		for _, l := range lines {
			if n, _, _ := strings.Cut(l, "="); strings.TrimSpace(n) != name {
				kept = append(kept, l)
			}
		}
		lines = append(kept, set)
	}
	require.NoError(c.t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

// result of one terraform run.
type result struct {
	argv           []string
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return strings.Join(r.argv, " ") + "\nexit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// run executes argv exactly as built (argv[0] must be "terraform") in the
// target's workdir, with Environ(""), dummy credentials and the local S3
// endpoint, plus extraEnv.
func (c *checkout) run(argv []string, extraEnv ...string) result {
	c.t.Helper()
	require.Equal(c.t, "terraform", argv[0])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, argv[1:]...)
	cmd.Dir = filepath.Join(c.root, c.target.Workdir())
	home := c.t.TempDir()
	cliConfig := c.cliConfig
	if cliConfig == "" {
		cliConfig = filepath.Join(home, "terraformrc")
		require.NoError(c.t, os.WriteFile(cliConfig, nil, 0o644))
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TF_CLI_CONFIG_FILE=" + cliConfig,
		"AWS_ACCESS_KEY_ID=fixture",
		"AWS_SECRET_ACCESS_KEY=fixture-secret",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	for _, v := range Environ("") {
		env = append(env, v.Name+"="+v.Value)
	}
	cmd.Env = append(env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run %v: %v", argv, err)
	}
	return result{argv: argv, code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// must runs argv and fails the test unless it exits with one of codes
// (0 when none given).
func (c *checkout) must(argv []string, codes ...int) result {
	c.t.Helper()
	r := c.run(argv)
	if len(codes) == 0 {
		codes = []int{0}
	}
	for _, want := range codes {
		if r.code == want {
			return r
		}
	}
	c.t.Fatalf("unexpected exit code:\n%s", r)
	return r
}

// backendArgs are the settings that point the s3 backend at the local
// server; they are the only additions to the argv the pipeline builds.
func (c *checkout) backendArgs() []string {
	return []string{
		`endpoints={s3="` + c.s3.URL + `"}`,
		"use_path_style=true",
		"skip_credentials_validation=true",
		"skip_requesting_account_id=true",
		"skip_metadata_api_check=true",
		"skip_region_validation=true",
	}
}

func (c *checkout) init() result { c.t.Helper(); return c.must(c.target.Init(c.backendArgs()...)) }

// planSaved runs Plan into file and returns whether it has changes.
func (c *checkout) planSaved(file string) bool {
	c.t.Helper()
	r := c.must(c.target.Plan(file), 0, 2)
	changes, err := DetailedExitCode(r.code)
	require.NoError(c.t, err)
	return changes
}

func (c *checkout) showJSON(file string) []byte {
	c.t.Helper()
	return []byte(c.must(c.target.ShowJSON(file)).stdout)
}

// state returns the target's state object in the local S3.
func (c *checkout) state() ([]byte, bool) {
	return c.s3.Object(stateBucket, c.target.Backend().StateObject())
}

func mustLookup(t *testing.T, root, name string) environment.Env {
	t.Helper()
	cat, err := environment.Discover(os.DirFS(root))
	require.NoError(t, err)
	e, err := cat.Lookup(name)
	require.NoError(t, err)
	return e
}

// providerMirror returns a CLI config that installs hashicorp/aws from the
// provider mirror (TF_PLUGIN_MIRROR, found by hosttest.FindMirror), or
// skips the test when the mirror has none: these tests never download.
func providerMirror(t *testing.T) string {
	t.Helper()
	m := hosttest.FindMirror()
	if !m.Has(hosttest.AWSProvider) {
		t.Skipf("no provider mirror with %s (%s; providers cannot be downloaded here): set %s to a filesystem mirror holding it", hosttest.AWSProvider, m, hosttest.MirrorEnv)
	}
	cfg := filepath.Join(t.TempDir(), "mirror.tfrc")
	require.NoError(t, os.WriteFile(cfg, []byte(m.CLIConfig()), 0o644))
	return cfg
}
