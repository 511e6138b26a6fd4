package enginetest

import (
	"fmt"
	"strings"
)

// execFailure makes execs whose argv starts with prefix fail.
type execFailure struct {
	prefix   []string
	exitCode int
	stdout   string
	stderr   string
}

// gqlError is one entry of a GraphQL response's "errors" list.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []string       `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// FailExec makes every exec whose argv starts with prefix exit with
// exitCode, writing stdout and stderr, as a real engine would: a leaf
// evaluated after a normal exec gets a GraphQL error carrying the engine's
// EXEC_ERROR extensions (the SDK turns it into *dagger.ExecError); after an
// exec run with Expect ANY, exitCode, stdout and stderr answer those values.
// Later calls win over earlier ones for the same exec.
func (e *Engine) FailExec(exitCode int, stdout, stderr string, prefix ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures = append(e.failures, execFailure{prefix: prefix, exitCode: exitCode, stdout: stdout, stderr: stderr})
}

// FailField makes every query whose leaf is field and whose chain matches
// fail with message, as an engine error that is not an exec's (e.g. a
// service that never turns healthy: FailField("start", …)).
func (e *Engine) FailField(field, message string, match func(Chain) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fieldFailures = append(e.fieldFailures, fieldFailure{field: field, message: message, match: match})
}

type fieldFailure struct {
	field, message string
	match          func(Chain) bool
}

// fieldOutcome is the error configured for chain's leaf, if any. Callers
// hold e.mu.
func (e *Engine) fieldOutcome(chain Chain) *gqlError {
	for _, f := range e.fieldFailures {
		if chain.Leaf() == f.field && (f.match == nil || f.match(chain)) {
			return &gqlError{Message: f.message}
		}
	}
	return nil
}

// failureFor returns the failure configured for argv, if any. Callers hold e.mu.
func (e *Engine) failureFor(argv []string) (execFailure, bool) {
	for i := len(e.failures) - 1; i >= 0; i-- {
		f := e.failures[i]
		if len(argv) >= len(f.prefix) && strings.Join(argv[:len(f.prefix)], "\x00") == strings.Join(f.prefix, "\x00") {
			return f, true
		}
	}
	return execFailure{}, false
}

// execOutcome decides a leaf of chain against the configured failures: an
// error when a normal exec in the chain fails, or the answer of an
// exitCode/stdout/stderr leaf whose last exec is an Expect ANY failure.
// Callers hold e.mu.
func (e *Engine) execOutcome(chain Chain) (answer any, answered bool, err *gqlError) {
	if len(e.failures) == 0 {
		return nil, false, nil
	}
	leaf := chain.Leaf()
	execs := chain.Steps("withExec")
	for i, s := range execs {
		argv := strs(s.Args["args"])
		f, ok := e.failureFor(argv)
		if !ok {
			continue
		}
		if str(s.Args["expect"]) == "ANY" || str(s.Args["expect"]) == "FAILURE" {
			if i != len(execs)-1 {
				continue // a later exec's output is what is asked
			}
			switch leaf {
			case "exitCode":
				return f.exitCode, true, nil
			case "stdout":
				return f.stdout, true, nil
			case "stderr":
				return f.stderr, true, nil
			}
			continue
		}
		cmd := make([]any, len(argv))
		for j, a := range argv {
			cmd[j] = a
		}
		return nil, false, &gqlError{
			// What a v0.21 engine says (buildkit's ExitError); the command is
			// only in the extensions.
			Message: fmt.Sprintf("exit code: %d", f.exitCode),
			Extensions: map[string]any{
				"_type":    "EXEC_ERROR",
				"cmd":      cmd,
				"exitCode": f.exitCode,
				"stdout":   f.stdout,
				"stderr":   f.stderr,
			},
		}
	}
	return nil, false, nil
}
