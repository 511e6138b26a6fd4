package checklist

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// Go packages whose tests read the repository's environments (tfvars, env
// files, compose stacks). Host tests start real processes for one fixed
// environment and read none of the added files: they run in make test once.
// So does the emulator apply of aws/ (minutes per environment), which adds
// an environment of its own.
var (
	goPackages = []string{"./tests/infra/...", "./pipelines/environment/...", "./pipelines/compose/...", "./pipelines/terraform/...", "./pipelines/ledger/..."}
	goSkip     = `^TestHost|AgainstRealProcesses|AgainstARealServer|ToTheEmulator`
	// The Python tests that read every dagster/.env.<env> file and every
	// Soda configuration.<env>.yaml.
	pythonTests = []string{"tests/test_definitions.py", "tests/test_deploy_files.py", "tests/test_soda_cli.py"}
)

// The README's example name is one a user picks, so the test picks another
// every run (CHECKLIST_ENV pins one to reproduce a failure).
func randomName(root string) string {
	if name := os.Getenv("CHECKLIST_ENV"); name != "" {
		return name
	}
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	for {
		b := []byte{byte('a' + rand.IntN(26))}
		for range 6 {
			b = append(b, chars[rand.IntN(len(chars))])
		}
		if _, err := os.Stat(filepath.Join(root, "environments", string(b)+".tfvars")); os.IsNotExist(err) {
			return string(b)
		}
	}
}

func TestTheReadmeChecklistAddsAnEnvironmentEverySuiteAccepts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the checklist runs the environment suites on a copy of the repository")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	list, err := Parse(string(readme))
	require.NoError(t, err)

	repo := copyRepository(t, root)
	choices := choose(t, repo, list)
	name := choices[list.Choices[0].Variable]
	t.Logf("the README's checklist with %v, in %s", choices, repo)
	run(t, repo, nil, "sh", "-eu", "-c", list.Script(choices))
	for _, f := range []string{"environments/" + name + ".tfvars", "dagster/.env." + name, "dagster/lakehouse/quality/configuration." + name + ".yaml"} {
		require.FileExists(t, filepath.Join(repo, f), "the checklist creates %s", f)
	}

	// The suites are independent: they run side by side (two at a time on
	// two cores), and the parent's copy outlives them.
	t.Run("go", func(t *testing.T) {
		t.Parallel()
		run(t, repo, nil, "go", append([]string{"test", "-count=1", "-skip", goSkip}, goPackages...)...)
	})
	t.Run("module", func(t *testing.T) {
		t.Parallel()
		run(t, repo, nil, "go", "run", "./tools/modharness", "test", "-count=1")
	})
	t.Run("python", func(t *testing.T) {
		t.Parallel()
		// This checkout's virtualenvs (their lock files are the copy's), run
		// from the copy's dagster/, whose code comes first on the path: the
		// copy holds only the repository's files and the checklist's.
		python, soda := filepath.Join(root, "dagster", ".venv", "bin", "python"), filepath.Join(root, "dagster", ".venv-soda", "bin", "python")
		for _, bin := range []string{python, soda} {
			if _, err := os.Stat(bin); err != nil {
				if os.Getenv("LAKEHOUSE_REQUIRE_HOST_TOOLS") == "1" {
					t.Fatalf("%s is missing: run make test-python first", bin)
				}
				t.Skipf("%s is missing (make test-python creates it)", bin)
			}
		}
		env := []string{"LAKEHOUSE_SODA_PYTHON=" + soda, "LAKEHOUSE_REQUIRE_SODA=1"}
		run(t, filepath.Join(repo, "dagster"), env, python, append([]string{"-m", "pytest", "-p", "no:cacheprovider", "-q"}, pythonTests...)...)
	})
}

// choose makes the reader's choices: a random name and, for each host
// port, the README's value or the next one no env file of the copy uses
// (a user who followed the checklist before holds the README's ports).
func choose(t *testing.T, repo string, list Checklist) map[string]string {
	t.Helper()
	used := map[int]bool{}
	files, err := filepath.Glob(filepath.Join(repo, "dagster", ".env.*"))
	require.NoError(t, err)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		vars, err := environment.ParseDotenv(f, raw)
		require.NoError(t, err)
		for k, v := range vars {
			if port, err := strconv.Atoi(v); err == nil && strings.HasSuffix(k, "_PORT") {
				used[port] = true
			}
		}
	}
	out := map[string]string{list.Choices[0].Variable: randomName(repo)}
	for _, c := range list.Choices[1:] {
		if !c.Port() {
			continue
		}
		port, err := strconv.Atoi(c.Example)
		require.NoError(t, err)
		for used[port] {
			port++
		}
		used[port] = true
		out[c.Variable] = strconv.Itoa(port)
	}
	return out
}

// copyRepository copies the files git knows (tracked, and new ones not
// ignored) to a temporary directory: what a fresh clone holds, with the
// working tree's edits.
func copyRepository(t *testing.T, root string) string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout (git ls-files: %v): the checklist copies the files git tracks", err)
	}
	dst := t.TempDir()
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		info, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		require.NoError(t, err)
		target := filepath.Join(dst, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(target), 0o755))
		if info.Mode()&os.ModeSymlink != 0 {
			link, err := os.Readlink(src)
			require.NoError(t, err)
			require.NoError(t, os.Symlink(link, target))
			continue
		}
		require.NoError(t, copyFile(src, target, info.Mode().Perm()))
	}
	return dst
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// run runs a command in dir and fails the test with its output's tail.
func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	start := time.Now()
	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		// Stop short of go test's -timeout, which would kill this binary
		// and leave the suites it started running.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	// A suite leaves no process behind when the test ends early (timeout,
	// failure): the command and everything it started form one group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	command := name + " " + strings.Join(args, " ")
	if strings.Contains(command, "\n") {
		command = name + " " + args[0] + " <the README's checklist>"
	}
	t.Logf("%s: %s", command, time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("%s in the copy failed: %v\n%s", command, err, failures(out.String()))
	}
}

var noise = regexp.MustCompile(`(?m)^(ok|\?)\s.*\n`)

// failures drops the lines of passing packages and keeps the last 200 lines.
func failures(out string) string {
	lines := strings.Split(noise.ReplaceAllString(out, ""), "\n")
	if len(lines) > 200 {
		lines = append([]string{fmt.Sprintf("… %d lines before", len(lines)-200)}, lines[len(lines)-200:]...)
	}
	return strings.Join(lines, "\n")
}
