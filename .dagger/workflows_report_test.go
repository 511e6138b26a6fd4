package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTheDeployJobKeepsOneCopyOfAFailedDeploysReport runs the workflow's
// report script around a stand-in `dagger` that fails the way the real CLI
// does with --progress plain (seen on the engine rig): the error, which is
// the run report, once under the call and once after "Error:", with the
// engine's trace id appended.
func TestTheDeployJobKeepsOneCopyOfAFailedDeploysReport(t *testing.T) {
	script := filepath.Join(repoRoot(t), ".github", "scripts", "deploy-report.sh")
	report := "## deploy zzfixture: **FAILED** (1m2s)\n\n| step | status |\n|---|---|\n| plan | failed |\n\n### plan failed\n\n```\nError: No valid credential sources found\n```\n"
	dir := t.TempDir()
	fake := filepath.Join(dir, "dagger")
	cli := "9   : Lakehouse.deploy ERROR [1m2s]\n9   : ! " + report + "\nError: " + strings.TrimSuffix(report, "\n") + " [traceparent:1ad151595e1aa9f4-4dbbd0230205a4bc]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "log.txt"), []byte(cli), 0o644))
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\ncat \"$(dirname \"$0\")/log.txt\" >&2\nexit 1\n"), 0o755))

	cmd := exec.Command("bash", script, fake, "--progress", "plain", "call", "deploy")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, string(out))
	assert.Equal(t, 1, exit.ExitCode(), "dagger's exit status")
	got, err := os.ReadFile(filepath.Join(dir, "deploy-report.md"))
	require.NoError(t, err)
	assert.Equal(t, report, string(got), "one copy, from its heading on, without the trace id")
	log, err := os.ReadFile(filepath.Join(dir, "deploy.log"))
	require.NoError(t, err)
	assert.Equal(t, cli, string(log), "everything dagger printed")
}
