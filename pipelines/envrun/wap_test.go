package envrun

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A wap run is the smoke task with its command replaced by the wrapper;
// its log is read even on a clean exit, and the document found in it.
func TestAWapRunReplacesTheCommandAndReadsItsLog(t *testing.T) {
	zero := int32(0)
	logDef := types.TaskDefinition{ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("run"), LogConfiguration: &types.LogConfiguration{
		LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/ecs/lake-dagster", "awslogs-stream-prefix": "run"}}}}}
	f := &fakeECS{lifecycle: []types.Task{running(), stoppedTask("run", &zero, "")}, taskDef: logDef}
	logs := &fakeLogs{group: "/ecs/lake-dagster", stream: "run/run/0123456789abcdef", lines: []string{
		"plan: event_stream 42 -> 7", DocumentMarker + `{"schema_version":1,"command":"status"}`}}
	run := smokeRun()
	run.Command, run.Args, run.LogLines = WapCommand(), []string{"status", "--branch", "audit-x"}, WapLogLines
	res, err := (&Runner{ECS: f, Logs: logs, sleep: noSleep}).RunTask(context.Background(), run)
	require.NoError(t, err)
	cmd := f.runInputs[0].Overrides.ContainerOverrides[0].Command
	assert.Equal(t, append(WapCommand(), "status", "--branch", "audit-x"), cmd, "the smoke command is replaced, not extended")
	assert.NotEmpty(t, logs.asked, "the log of a clean exit is read")
	doc, err := DocumentFromLog(res.LogTail)
	require.NoError(t, err)
	assert.JSONEq(t, `{"schema_version":1,"command":"status"}`, string(doc))
}

func TestDocumentFromLogTakesTheLastMarkedLine(t *testing.T) {
	doc, err := DocumentFromLog([]string{DocumentMarker + `{"a":1}`, "noise", DocumentMarker + `{"a":2}`, "trailing"})
	require.NoError(t, err)
	assert.Equal(t, `{"a":2}`, string(doc))
	_, err = DocumentFromLog([]string{"Traceback", "ValueError"})
	assert.ErrorContains(t, err, "logged no lakehouse.wap document")
	_, err = DocumentFromLog([]string{DocumentMarker + `{"a":`})
	assert.ErrorContains(t, err, "not JSON")
}

// The wrapper itself, run by a real Python against a stand-in
// lakehouse.wap that prints an indented document and exits 1: one marked
// line, the exit code kept, stderr passed through.
func TestTheWrapperLogsTheDocumentOnOneLineAndKeepsTheExitCode(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "lakehouse", "wap")
	require.NoError(t, os.MkdirAll(pkg, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lakehouse", "__init__.py"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "__init__.py"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "__main__.py"), []byte(`import json, sys
print("lakehouse.wap publish: refused: mismatch", file=sys.stderr)
json.dump({"schema_version": 1, "command": sys.argv[1], "argv": sys.argv[2:]}, sys.stdout, indent=2)
sys.exit(1)
`), 0o644))
	argv := append(WapCommand()[1:], "publish", "--expect", `{"event_stream": 42}`)
	cmd := exec.Command(python, argv...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 1, "one line: %q", stdout.String())
	doc, err := DocumentFromLog(lines)
	require.NoError(t, err)
	assert.JSONEq(t, `{"schema_version":1,"command":"publish","argv":["--expect","{\"event_stream\": 42}"]}`, string(doc))
	assert.Contains(t, stderr.String(), "refused: mismatch")
}
