package envrun

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A lakehouse.wap command runs as a one-off task of the runtime image (the
// smoke task's definition, its command replaced). Its answer is one JSON
// document on stdout, which a task's log is the only way back from; the
// wrapper prints it compacted, in numbered lines of at most ChunkSize
// characters after DocumentMarker ("lakehouse-wap-document: 1/2 …"), so no
// log driver splits a line (Docker's splits at 16 KiB) and the reader can
// tell a whole document from a cut one, and keeps the command's exit code
// (0 ok, 1 refused, 3 error).

// DocumentMarker starts each log line that carries part of the document.
const DocumentMarker = "lakehouse-wap-document: "

// ChunkSize is the most document characters one log line carries.
const ChunkSize = 8000

// wapWrapper runs `python -m lakehouse.wap ARGS` and logs its document on
// one line; stderr passes through.
var wapWrapper = `import json, subprocess, sys
p = subprocess.run([sys.executable, "-m", "lakehouse.wap", *sys.argv[1:]], stdout=subprocess.PIPE)
out = p.stdout.decode("utf-8", "replace")
try:
    doc = json.dumps(json.loads(out), separators=(",", ":"))
except ValueError:
    sys.stderr.write(out)
else:
    parts = [doc[i:i + ` + strconv.Itoa(ChunkSize) + `] for i in range(0, len(doc), ` + strconv.Itoa(ChunkSize) + `)] or [""]
    for n, part in enumerate(parts, 1):
        print("` + DocumentMarker + `%d/%d %s" % (n, len(parts), part), flush=True)
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

// DocumentFromLog reassembles the document a wap task logged: the last
// complete run of its numbered lines (1/n … n/n, in order).
func DocumentFromLog(lines []string) ([]byte, error) {
	for end := len(lines) - 1; end >= 0; end-- {
		k, n, _, ok := chunk(lines[end])
		if !ok || k != n {
			continue
		}
		if end+1 < n {
			return nil, errors.New("the task's document is cut: its first lines are no longer in the log read")
		}
		var doc strings.Builder
		for i := 1; i <= n; i++ {
			ki, ni, part, ok := chunk(lines[end-n+i])
			if !ok || ki != i || ni != n {
				return nil, fmt.Errorf("the task's document is cut: line %d of %d is missing or out of order in its log", i, n)
			}
			doc.WriteString(part)
		}
		if !json.Valid([]byte(doc.String())) {
			return nil, errors.New("the task logged a document that is not JSON (a log line cut short?)")
		}
		return []byte(doc.String()), nil
	}
	return nil, errors.New("the task logged no lakehouse.wap document")
}

// chunk reads "<marker>k/n part".
func chunk(line string) (k, n int, part string, ok bool) {
	rest, ok := strings.CutPrefix(line, DocumentMarker)
	if !ok {
		return 0, 0, "", false
	}
	head, part, _ := strings.Cut(rest, " ")
	ks, ns, found := strings.Cut(head, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !found || err1 != nil || err2 != nil || k < 1 || n < 1 || k > n {
		return 0, 0, "", false
	}
	return k, n, part, true
}
