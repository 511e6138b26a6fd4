// Package cliexit holds what the pipeline's small command-line tools
// (cmd/ledger, cmd/envrun) share: their exit statuses and the error of a
// mistaken command line, so the module reads every tool's status the same way.
package cliexit

import "fmt"

// Exit statuses.
const (
	// OK: the work finished.
	OK = 0
	// Failure: the work failed; the reason is on stderr.
	Failure = 1
	// Usage: the command line was wrong; the usage is on stderr.
	Usage = 2
)

// UsageError is a mistake in the command line: exit Usage with the usage.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Usagef formats a UsageError.
func Usagef(format string, a ...any) error { return UsageError{fmt.Sprintf(format, a...)} }
