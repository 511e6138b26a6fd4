package environment

import "fmt"

// ValidName reports whether name may name an environment: 2-10 characters,
// lowercase ASCII letters and digits, starting with a letter (the rule of
// environments/<name>.tfvars). The Python project applies the same rule to
// LAKEHOUSE_ENVIRONMENT; testdata/names.json is the table both test.
func ValidName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("environment name %q is not allowed: use 2-10 characters, lowercase letters and digits, starting with a letter (pattern %s)", name, namePattern)
	}
	return nil
}
