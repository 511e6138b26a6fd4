// Package redact removes credentials from tool output before it reaches a
// user: the tails of failed commands, warnings and reports. Dagger already
// scrubs the values of the secrets it was given; this catches what a tool
// prints on its own (keys in an error message, passwords in a URL, private
// keys in a credentials file it echoes).
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces every redacted value.
const Mask = "[REDACTED]"

var rules = []struct {
	re   *regexp.Regexp
	repl string
}{
	// PEM private keys, whole.
	{regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`), Mask},
	// AWS access key IDs (long-term AKIA…, temporary ASIA…).
	{regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`), Mask},
	// user:password@ in URLs (catalog and database URIs).
	{regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`), "${1}" + Mask + "@"},
	// Slack incoming webhooks carry their secret in the path.
	{regexp.MustCompile(`https://hooks\.slack\.com/\S+`), Mask},
	// Authorization headers.
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`), "${1} " + Mask},
	// label = value and "label": "value" for secret-like labels. A colon
	// followed by an unquoted word is prose ("credentials: retrieving …"),
	// not a value.
	{regexp.MustCompile(`(?i)("?[a-z0-9_.-]*(?:password|passwd|secret|token|private_key|privatekey|api_key|apikey|access_key|credentials)[a-z0-9_.-]*"?\s*=\s*)("[^"\n]*"|'[^'\n]*'|[^\s,}]+)`), "${1}" + Mask},
	{regexp.MustCompile(`(?i)("?[a-z0-9_.-]*(?:password|passwd|secret|token|private_key|privatekey|api_key|apikey|access_key|credentials)[a-z0-9_.-]*"?\s*:\s*)("[^"\n]*"|'[^'\n]*')`), "${1}" + Mask},
}

// Text returns s with credentials replaced by Mask.
func Text(s string) string {
	for _, r := range rules {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// Tail returns the redacted end of s: at most maxLines lines and maxBytes
// bytes, marked with "…" where it was cut. Redaction runs before cutting so a
// cut can never split a secret out of its pattern.
func Tail(s string, maxLines, maxBytes int) string {
	s = strings.TrimSpace(Text(s))
	cut := false
	if lines := strings.Split(s, "\n"); len(lines) > maxLines {
		s = strings.Join(lines[len(lines)-maxLines:], "\n")
		cut = true
	}
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
		// Do not start in the middle of a UTF-8 sequence.
		for len(s) > 0 && s[0]&0xC0 == 0x80 {
			s = s[1:]
		}
		cut = true
	}
	if cut {
		s = "…\n" + s
	}
	return s
}
