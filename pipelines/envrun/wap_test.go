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
		"plan: event_stream 42 -> 7", DocumentMarker + `1/1 {"schema_version":1,"command":"status"}`}}
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

func TestDocumentFromLogReassemblesTheLastWholeDocument(t *testing.T) {
	m := DocumentMarker
	doc, err := DocumentFromLog([]string{m + `1/1 {"a":1}`, "noise", m + `1/3 {"a":`, m + `2/3 "b c`, m + `3/3 "}`, "trailing"})
	require.NoError(t, err)
	assert.Equal(t, `{"a":"b c"}`, string(doc), "the parts in order, spaces kept")
	for name, tc := range map[string]struct {
		lines []string
		says  string
	}{
		"none":             {[]string{"Traceback", "ValueError"}, "logged no lakehouse.wap document"},
		"not JSON":         {[]string{m + `1/1 {"a":`}, "not JSON"},
		"first lines gone": {[]string{m + `2/2 1}`}, "first lines are no longer in the log"},
		"a part missing":   {[]string{m + `1/3 {"a":`, "noise", m + `3/3 1}`}, "line 2 of 3 is missing or out of order"},
		"out of order":     {[]string{m + `2/3 "b"`, m + `1/3 {"a":`, m + `3/3 }`}, "line 1 of 3 is missing or out of order"},
		"bad numbering":    {[]string{m + `2/1 {}`, m + `x/1 {}`}, "logged no lakehouse.wap document"},
	} {
		_, err := DocumentFromLog(tc.lines)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.says, name)
	}
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

	// A document larger than a log line is split into numbered lines, none
	// longer than ChunkSize after the marker, and reassembled whole.
	big := strings.Repeat("x", 3*ChunkSize)
	cmd = exec.Command(python, append(WapCommand()[1:], "publish", big)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	stdout.Reset()
	cmd.Stdout = &stdout
	_ = cmd.Run()
	lines = strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 4)
	for _, l := range lines {
		assert.LessOrEqual(t, len(l), len(DocumentMarker)+len("4/4 ")+ChunkSize)
	}
	doc, err = DocumentFromLog(lines)
	require.NoError(t, err)
	assert.Contains(t, string(doc), big)
	assert.Contains(t, stderr.String(), "refused: mismatch")
}
