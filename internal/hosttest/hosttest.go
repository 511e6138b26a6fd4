// Package hosttest runs real programs on the host for tests: long-running
// processes that never outlive the test, and a Postgres server from
// Debian's packages (postgres.go).
//
// A test that needs a tool the machine lacks is skipped with what to
// install, unless LAKEHOUSE_REQUIRE_HOST_TOOLS=1 (what `make test` sets
// once it has installed them), where it fails instead: CI must not pass by
// skipping.
package hosttest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the variable that turns a missing tool into a failure.
const RequireEnv = "LAKEHOUSE_REQUIRE_HOST_TOOLS"

// Need skips (or, with LAKEHOUSE_REQUIRE_HOST_TOOLS=1, fails) the test
// when ok is false, saying what is missing and how to get it.
func Need(t testing.TB, ok bool, what, how string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s is missing and %s=1: %s", what, RequireEnv, how)
	}
	t.Skipf("%s is missing: %s", what, how)
}

// FreePort is a TCP port on 127.0.0.1 that nothing listened on a moment
// ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a program started by Start.
type Process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Start runs cmd in its own process group, its output in a log file, until
// the test ends: then the whole group (children included) gets stop
// (SIGTERM when 0), and SIGKILL if it is still there 5 seconds later.
func Start(t testing.TB, name string, cmd *exec.Cmd, stop syscall.Signal) *Process {
	t.Helper()
	if stop == 0 {
		stop = syscall.SIGTERM
	}
	log, err := os.CreateTemp("", "hosttest-"+strings.ReplaceAll(name, "/", "-")+"-*.log")
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { os.Remove(log.Name()) })
	cmd.Stdout, cmd.Stderr = log, log
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("start %s (%s): %v", name, cmd.Path, err)
	}
	p := &Process{name: name, cmd: cmd, log: log.Name(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t, stop) })
	return p
}

func (p *Process) stop(t testing.TB, sig syscall.Signal) {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, sig)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
		}
	}
	// Children that left the group's leader behind still get the KILL.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Tail is the last n lines of the process's output, for failure messages.
func (p *Process) Tail(n int) string {
	raw, err := os.ReadFile(p.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Run runs a command to completion within timeout, as a container runtime
// runs a healthcheck: name is looked up in env's PATH (not this process's),
// and the exit status and output are the result.
func Run(ctx context.Context, timeout time.Duration, env []string, name string, args ...string) (string, error) {
	path, err := LookPath(name, env)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Args[0] = name
	cmd.Env = env
	cmd.Dir = os.TempDir()
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("%s did not finish within %s", name, timeout)
	}
	return string(out), err
}

// LookPath finds name in the PATH of env, as exec does in a container.
func LookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	var dirs string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			dirs = v
		}
	}
	for _, dir := range filepath.SplitList(dirs) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(name + ": not found in PATH=" + dirs)
}
