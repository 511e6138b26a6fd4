package hosttest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Moto is a running moto server: an independent emulator of the AWS APIs
// (S3, EC2, ECS, IAM, RDS, ELBv2, CloudWatch, …), the version pinned in
// dagster/requirements-dev.lock, from the Python test venv that
// `make test-python` creates (dagster/.venv).
type Moto struct {
	// URL is the endpoint of every service, http://127.0.0.1:<port>.
	URL  string
	proc *Process
}

// MotoServer is where `make test-python` installs moto's server.
func MotoServer() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "dagster", ".venv", "bin", "moto_server")
}

// StartMoto runs a fresh moto server on 127.0.0.1 until the test ends (its
// whole process group is stopped then). settings are moto's own variables
// (e.g. MOTO_IAM_LOAD_MANAGED_POLICIES=true); nothing else of this
// process's environment reaches it, AWS settings least of all.
func StartMoto(t testing.TB, settings ...string) *Moto {
	t.Helper()
	bin := MotoServer()
	_, err := os.Stat(bin)
	Need(t, err == nil, "moto's server ("+bin+")", "run `make test-python`: it creates dagster/.venv from dagster/requirements-dev.lock")
	port := FreePort(t)
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=moto", "AWS_SECRET_ACCESS_KEY=moto"}, settings...)
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), proc: Start(t, "moto", cmd, 0)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return m
		}
		if done, err := m.proc.Exited(); done {
			t.Fatalf("moto_server exited (%v):\n%s", err, m.proc.Tail(30))
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not listen on %s within a minute:\n%s", m.URL, m.proc.Tail(30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Tail is the end of moto's log, for failure messages.
func (m *Moto) Tail(n int) string { return m.proc.Tail(n) }

// EnforceIAM makes moto check every request from now on against the IAM
// policies of the caller's identity (an IAM user's or an assumed role's
// keys), as AWS does; off (the default) it answers every request. moto
// evaluates identity policies only, never bucket or key policies.
func (m *Moto) EnforceIAM(t testing.TB, on bool) {
	t.Helper()
	if err := m.SetIAMChecks(on); err != nil {
		t.Fatal(err)
	}
}

// SetIAMChecks is EnforceIAM for callers outside the test's goroutine.
func (m *Moto) SetIAMChecks(on bool) error {
	count := "inf" // requests answered before checks start
	if on {
		count = "0"
	}
	resp, err := http.Post(m.URL+"/moto-api/reset-auth", "text/plain", strings.NewReader(count))
	if err != nil {
		return fmt.Errorf("moto reset-auth: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset-auth: %s", resp.Status)
	}
	return nil
}
