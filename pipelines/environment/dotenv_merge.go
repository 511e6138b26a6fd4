package environment

import (
	"fmt"
	"sort"
	"strings"
)

// MergeDotenv returns the env file src with the values of vars: a key
// already set keeps its line (comments and order stay) with the new value,
// and keys src lacks are appended under a comment saying where they came
// from. Values are written single-quoted when they need it, so the result
// reads back (ParseDotenv) as exactly vars over src.
func MergeDotenv(filename string, src []byte, vars map[string]string, origin string) ([]byte, error) {
	if _, err := ParseDotenv(filename, src); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		key, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "export "), "=")
		key = strings.TrimSpace(key)
		v, ok := vars[key]
		if !ok {
			continue
		}
		value, err := quotedDotenv(key, v)
		if err != nil {
			return nil, err
		}
		lines[i] = key + "=" + value
		seen[key] = true
	}
	var missing []string
	for k := range vars {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
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
	case v == "" || !strings.ContainsAny(v, " #'\"$\\`\t"):
		return v, nil
	case !strings.Contains(v, "'"):
		return "'" + v + "'", nil
	case !strings.ContainsAny(v, "\"$\\`"):
		return "\"" + v + "\"", nil
	}
	return "", fmt.Errorf("%s: value %q cannot be quoted in an env file", key, v)
}
