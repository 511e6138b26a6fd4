package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/redact"
)

// Output tails that reach the user.
const (
	tailLines = 40
	tailBytes = 4000
)

// surface turns the error a function is about to return into one whose
// message survives the trip to the CLI and tells the whole story.
//
// The module runtime reports a returned error by the innermost GraphQL error
// of its chain (convertError/findSingleGQLError in the generated main): any
// context wrapped around an SDK error with %w ("validate gcp: …") is dropped
// and the user sees only "exit code: 1". So an error that wraps an SDK error
// is replaced by a GraphQL error of our own whose message is the whole chain
// plus, for a failed exec, the redacted tail of what the tool printed;
// the exit code stays in the extensions. Errors of our own pass unchanged.
func surface(err error) error {
	var gql *gqlerror.Error
	if err == nil || !errors.As(err, &gql) {
		return err
	}
	// A bare GraphQL error renders as "input: <message>"; say only the message.
	msg := redact.Text(strings.Replace(err.Error(), gql.Error(), gql.Message, 1))
	// A real engine appends its trace id to every message: noise to a user.
	msg = traceparent.ReplaceAllString(msg, "")
	ext := map[string]any{}
	var exec *dagger.ExecError
	if errors.As(err, &exec) {
		// A real engine's exec message is only "exit code: N": name the
		// command that failed (e.g. the init under a plan).
		if cmd := strings.Join(exec.Cmd, " "); cmd != "" && !strings.Contains(msg, cmd) {
			msg += "\nfailed command: " + redact.Text(cmd)
		}
		out := strings.TrimSpace(exec.Stderr)
		// Tools that report on stdout (go test's FAIL lines) and end with a
		// one-line stderr ("exit status 1"): show both.
		if strings.Count(out, "\n") < 4 && strings.TrimSpace(exec.Stdout) != "" {
			out = strings.TrimSpace(exec.Stdout) + "\n" + out
		}
		if tail := redact.Tail(out, tailLines, tailBytes); tail != "" {
			msg += "\n" + tail
		}
		ext["exitCode"] = exec.ExitCode
	}
	return &gqlerror.Error{Message: msg, Extensions: ext}
}

var traceparent = regexp.MustCompile(` ?\[traceparent:[0-9a-f-]+\]`)

// surfaceTo is surface for deferred use on a named error result.
func surfaceTo(err *error) { *err = surface(*err) }

// failed is the error of a step whose command ran with Expect ANY and
// exited badly: the step, the code and the redacted tail of its output.
func failed(step string, code int, stderr string) error {
	msg := fmt.Sprintf("%s: exit code %d", step, code)
	if tail := redact.Tail(stderr, tailLines, tailBytes); tail != "" {
		msg += "\n" + tail
	}
	return errors.New(msg)
}

// errText is the message of err as the user sees it (a GraphQL error made
// by surface renders with an "input:" prefix otherwise).
func errText(err error) string {
	if g, ok := err.(*gqlerror.Error); ok {
		return g.Message
	}
	return err.Error()
}
