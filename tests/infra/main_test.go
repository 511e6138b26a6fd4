package infra

import (
	"fmt"
	"os"
	"testing"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
)

// mirror is what the provider mirror (TF_PLUGIN_MIRROR) holds; every
// terraform process of these tests installs its providers from it.
var mirror hosttest.Mirror

func TestMain(m *testing.M) {
	var cleanup func()
	mirror, cleanup = hosttest.UseMirror()
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// report adds a line to the file INFRA_REPORT names (`make test` prints it
// after the Go tests, whose output it does not show for passing packages)
// and to the test's log.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	path := os.Getenv("INFRA_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Logf("INFRA_REPORT: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
