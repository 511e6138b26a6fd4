package terraform

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real plan of a tfvars file with a misspelled key warns; the warning is
// what reaches the plan summary.
func TestWarningsFindsUndeclaredVariablesInARealPlan(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not on PATH")
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte("variable \"a\" {\n  type = string\n}\nresource \"terraform_data\" \"x\" {\n  input = var.a\n}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "env.tfvars"), []byte("a = \"1\"\nlog_retension_days = 30\n"), 0o644))
	run := func(args ...string) (string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		return stdout.String(), stderr.String()
	}
	run("init", "-input=false", "-no-color")
	stdout, stderr := run("plan", "-input=false", "-no-color", "-var-file=env.tfvars", "-out=p.tfplan", "-detailed-exitcode")
	warnings := Warnings(stdout, stderr)
	var found string
	for _, w := range warnings {
		if strings.HasPrefix(w, "Warning: Value for undeclared variable") {
			found = w
		}
	}
	require.NotEmpty(t, found, "warnings: %q\nstdout:\n%s", warnings, stdout)
	assert.Contains(t, found, `"log_retension_days"`)
	assert.NotContains(t, found, "Saved the plan")
	assert.NotContains(t, found, "───")
}

func TestWarningsKeepsEachDiagnosticApartAndRedacts(t *testing.T) {
	out := "Plan: 1 to add.\n\nWarning: First\n\nDetail one\nmore\n\nWarning: Second\n\npassword = \"hunter2\"\n─────\nSaved the plan to: x\n"
	got := Warnings(out, "╷\n│ Warning: From stderr\n│\n│ detail\n╵\n")
	require.Len(t, got, 3)
	assert.Equal(t, "Warning: First\n\nDetail one\nmore", got[0])
	assert.Contains(t, got[1], "Warning: Second")
	assert.NotContains(t, got[1], "hunter2")
	assert.Equal(t, "Warning: From stderr\n\ndetail", got[2])
	assert.Empty(t, Warnings("No changes. Your infrastructure matches the configuration.\n"))
}
