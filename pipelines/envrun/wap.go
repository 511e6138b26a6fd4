package envrun

import (
	"encoding/json"
	"errors"
	"strings"
)

// A lakehouse.wap command runs as a one-off task of the runtime image (the
// smoke task's definition, its command replaced). Its answer is one JSON
// document on stdout, which a task's log is the only way back from; the
// wrapper prints it on one line after DocumentMarker, so neither CloudWatch
// nor Cloud Logging splits or reorders it, and keeps the command's exit
// code (0 ok, 1 refused, 3 error).

// DocumentMarker starts the log line that carries the document.
const DocumentMarker = "lakehouse-wap-document: "

// wapWrapper runs `python -m lakehouse.wap ARGS` and logs its document on
// one line; stderr passes through.
const wapWrapper = `import json, subprocess, sys
p = subprocess.run([sys.executable, "-m", "lakehouse.wap", *sys.argv[1:]], stdout=subprocess.PIPE)
out = p.stdout.decode("utf-8", "replace")
try:
    print("` + DocumentMarker + `" + json.dumps(json.loads(out), separators=(",", ":")), flush=True)
except ValueError:
    sys.stderr.write(out)
sys.exit(p.returncode)
`

// WapCommand is the command that replaces the smoke task's to run one
// lakehouse.wap command (its arguments follow as the run's Args).
func WapCommand() []string {
	return []string{"python", "-c", wapWrapper}
}

// WapLogLines is how many log lines a wap task's answer is looked for in
// (its stderr may print a rollback plan before the document).
const WapLogLines = 400

// DocumentFromLog finds the document a wap task logged: the last line
// that starts with DocumentMarker.
func DocumentFromLog(lines []string) ([]byte, error) {
	for i := len(lines) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(lines[i], DocumentMarker); ok {
			if !json.Valid([]byte(rest)) {
				return nil, errors.New("the task logged a document that is not JSON (a log line cut short?)")
			}
			return []byte(rest), nil
		}
	}
	return nil, errors.New("the task logged no lakehouse.wap document")
}
