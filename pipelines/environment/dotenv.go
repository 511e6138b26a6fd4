package environment

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// dotenvValue is one KEY=VALUE of an env file and the line it is on.
type dotenvValue struct {
	value string
	line  int
}

var dotenvKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseDotenv reads an environment file (dagster/.env.<env>) with the one
// grammar every reader of these files shares: this package, the Python
// project (lakehouse.config.parse_env_file) and docker compose --env-file
// (compose-go), which must all see the same values. The cases that prove it
// are in testdata/dotenv_cases.json.
//
//   - KEY=VALUE lines; KEY is ASCII letters, digits and _, not starting
//     with a digit; no spaces around "=". Blank lines and full-line #
//     comments are skipped; an "export " prefix is allowed.
//   - An unquoted VALUE ends at " #" (an inline comment) and may not
//     contain whitespace (any Unicode space), quotes, $, backslashes or
//     backticks.
//   - A VALUE in single or double quotes is taken literally; it may be
//     followed by whitespace and a # comment. Backslashes are refused (the
//     readers disagree on escapes), and so are $ and backticks inside
//     double quotes (compose and shells would interpolate them).
//   - A key given twice is an error: which one wins depends on the reader.
//   - The file is UTF-8 text; values hold no control characters (a tab
//     only inside quotes).
//
// Errors name filename, the line and what to write instead.
func ParseDotenv(filename string, data []byte) (map[string]string, error) {
	vars, err := parseDotenv(filename, data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(vars))
	for k, v := range vars {
		out[k] = v.value
	}
	return out, nil
}

func parseDotenv(filename string, data []byte) (map[string]dotenvValue, error) {
	out := map[string]dotenvValue{}
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		if !utf8.ValidString(raw) {
			return nil, fmt.Errorf("%s:%d: not UTF-8 text: save the file as UTF-8 (the Python reader refuses anything else)", filename, n)
		}
		line := strings.Trim(strings.TrimSuffix(raw, "\r"), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := cutExport(line); ok {
			line = rest
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || !dotenvKey.MatchString(key) {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE (KEY: letters, digits and _, no spaces around =), got %q", filename, n, strings.TrimSuffix(raw, "\r"))
		}
		val, err := dotenvValueOf(key, val)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", filename, n, err)
		}
		if prev, dup := out[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s is already set on line %d: keep one (readers disagree on which one wins)", filename, n, key, prev.line)
		}
		out[key] = dotenvValue{value: val, line: n}
	}
	return out, nil
}

// cutExport removes an "export" prefix followed by spaces or tabs.
func cutExport(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "export")
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return line, false
	}
	return strings.TrimLeft(rest, " \t"), true
}

// dotenvValueOf decodes the text after "=" (the line is already trimmed).
func dotenvValueOf(key, val string) (string, error) {
	if val != "" && (val[0] == ' ' || val[0] == '\t') {
		return "", fmt.Errorf("%s: space after =: write %s=value (quote values that contain spaces)", key, key)
	}
	if val != "" && (val[0] == '\'' || val[0] == '"') {
		quote := val[0]
		end := strings.IndexByte(val[1:], quote)
		if end < 0 {
			return "", fmt.Errorf("%s: unterminated quote: close it on the same line (values are one line)", key)
		}
		content, rest := val[1:end+1], val[end+2:]
		if rest != "" && (rest[0] != ' ' && rest[0] != '\t' || !strings.HasPrefix(strings.TrimLeft(rest, " \t"), "#")) {
			return "", fmt.Errorf("%s: unexpected text after the closing quote: %q (only a comment may follow, after a space)", key, rest)
		}
		if err := refuseControl(key, content); err != nil {
			return "", err
		}
		if strings.Contains(content, `\`) {
			return "", fmt.Errorf(`%s: backslashes are not allowed: readers disagree on escapes`, key)
		}
		if quote == '"' {
			if err := refuseExpansion(key, content); err != nil {
				return "", err
			}
		}
		return content, nil
	}
	if i := strings.Index(val, " #"); i >= 0 {
		val = val[:i]
	}
	val = strings.TrimRight(val, " \t")
	if err := refuseControl(key, val); err != nil {
		return "", err
	}
	switch {
	case strings.IndexFunc(val, unicode.IsSpace) >= 0:
		return "", fmt.Errorf("%s: unquoted value contains whitespace: quote it, e.g. %s='%s'", key, key, val)
	case strings.ContainsAny(val, `'"`):
		return "", fmt.Errorf("%s: quotes are only allowed around the whole value", key)
	case strings.Contains(val, `\`):
		return "", fmt.Errorf(`%s: backslashes are not allowed: readers disagree on escapes`, key)
	}
	return val, refuseExpansion(key, val)
}

// refuseControl refuses control characters other than a tab (whitespace,
// which only quotes may hold): they are invisible, and readers and editors
// disagree on them (a lone carriage return ends a line for some).
func refuseControl(key, val string) error {
	for _, r := range val {
		if unicode.IsControl(r) && r != '\t' {
			return fmt.Errorf("%s: control character %U in the value: a value is one line of printable text", key, r)
		}
	}
	return nil
}

// refuseExpansion refuses what docker compose or a shell would expand.
func refuseExpansion(key, val string) error {
	if strings.Contains(val, "$") {
		return fmt.Errorf("%s: $ is not allowed outside single quotes: docker compose and shells would interpolate it; write %s='...' for a literal $", key, key)
	}
	if strings.Contains(val, "`") {
		return fmt.Errorf("%s: backticks are not allowed: shells would run them as a command", key)
	}
	return nil
}
