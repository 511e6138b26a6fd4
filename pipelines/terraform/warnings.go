package terraform

import (
	"strings"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/redact"
)

// Warnings returns the warning diagnostics in the output of a terraform
// command run with -no-color (plan prints them to stdout, the CLI
// configuration's to stderr): each is the "Warning: <summary>" line and its
// detail, redacted. A plan that succeeds with warnings (e.g. "Value for
// undeclared variable") must show them, or a typo in a tfvars key goes
// unnoticed.
func Warnings(outputs ...string) []string {
	var out []string
	for _, text := range outputs {
		lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
		for i := 0; i < len(lines); i++ {
			line := strings.TrimLeft(lines[i], "│╷╵ ")
			if !strings.HasPrefix(line, "Warning: ") {
				continue
			}
			block := []string{strings.TrimSpace(line)}
			for i+1 < len(lines) && !endsDiagnostic(lines[i+1]) {
				i++
				l := strings.TrimPrefix(strings.TrimLeft(lines[i], "╷╵"), "│")
				block = append(block, strings.TrimRight(strings.TrimPrefix(l, " "), " "))
			}
			out = append(out, redact.Text(strings.TrimSpace(strings.Join(block, "\n"))))
		}
	}
	return out
}

// endsDiagnostic reports whether line starts something that is not part of
// the current diagnostic: another diagnostic, a rule, the plan footer.
func endsDiagnostic(line string) bool {
	t := strings.TrimLeft(line, "│╷╵ ")
	return strings.HasPrefix(t, "Warning: ") || strings.HasPrefix(t, "Error: ") ||
		strings.HasPrefix(line, "─") || strings.HasPrefix(line, "╵") ||
		strings.HasPrefix(t, "Saved the plan to:") || strings.HasPrefix(t, "Plan: ") ||
		strings.HasPrefix(t, "No changes.")
}
