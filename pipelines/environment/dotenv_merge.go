package environment

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// MergeDotenv returns the env file src with the values of vars: a key
// already set keeps its line (comments and order stay) with the new value,
// and keys src lacks are appended under a comment saying where they came
// from. Values are written single-quoted when they need it, so the result
// reads back (ParseDotenv) as exactly vars over src.
func MergeDotenv(filename string, src []byte, vars map[string]string, origin string) ([]byte, error) {
	parsed, err := parseDotenv(filename, src)
	if err != nil {
		return nil, err
	}
	// Each key's line is the one the parser read it from, so a line is
	// found however it is written (an export prefix, tabs, a comment).
	var missing []string
	lines := strings.Split(string(src), "\n")
	for _, key := range slices.Sorted(maps.Keys(vars)) {
		at, ok := parsed[key]
		if !ok {
			missing = append(missing, key)
			continue
		}
		value, err := quotedDotenv(key, vars[key])
		if err != nil {
			return nil, err
		}
		lines[at.line-1] = key + "=" + value
	}
	out := strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
	if len(missing) > 0 {
		out += "\n# From " + origin + ".\n"
		for _, k := range missing {
			value, err := quotedDotenv(k, vars[k])
			if err != nil {
				return nil, err
			}
			out += k + "=" + value + "\n"
		}
	}
	if _, err := ParseDotenv(filename, []byte(out)); err != nil {
		return nil, fmt.Errorf("merged %s does not read back: %w", filename, err)
	}
	return []byte(out), nil
}

// quotedDotenv quotes v when the shared grammar needs it; a value no quote
// can carry (a newline, both quote kinds) is refused.
func quotedDotenv(key, v string) (string, error) {
	switch {
	case strings.ContainsAny(v, "\n\r"):
		return "", fmt.Errorf("%s: a value with a line break cannot be written to an env file", key)
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0:
		return "", fmt.Errorf("%s: a value with a control character cannot be written to an env file", key)
	case v == "" || !strings.ContainsAny(v, "#'\"$\\`") && strings.IndexFunc(v, unicode.IsSpace) < 0:
		return v, nil
	case !strings.Contains(v, "'"):
		return "'" + v + "'", nil
	case !strings.ContainsAny(v, "\"$\\`"):
		return "\"" + v + "\"", nil
	}
	return "", fmt.Errorf("%s: value %q cannot be quoted in an env file", key, v)
}
