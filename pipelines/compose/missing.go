package compose

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"
)

// MissingVariablesError says which variables the compose files require
// (${VAR:?reason}) and nothing set, once each: compose-go reports one error
// per place a variable is used, five for one password in the prod overlay.
type MissingVariablesError struct {
	Where   string
	EnvFile string
	Missing []MissingVariable
}

// MissingVariable is one required variable without a value and the reason
// the compose file gives.
type MissingVariable struct {
	Name   string
	Reason string
}

func (e *MissingVariablesError) Error() string {
	parts := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		parts[i] = m.Name
		if m.Reason != "" {
			parts[i] += " (" + m.Reason + ")"
		}
	}
	return fmt.Sprintf("%s: the compose files require %s, which neither %s nor the environment sets", e.Where, strings.Join(parts, ", "), e.EnvFile)
}

// Names are the missing variables' names.
func (e *MissingVariablesError) Names() []string {
	out := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		out[i] = m.Name
	}
	return out
}

// missingVariables collects the distinct required variables an
// interpolation error reports, in name order.
func missingVariables(err error) []MissingVariable {
	var out []MissingVariable
	var walk func(error)
	walk = func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				walk(e)
			}
			return
		}
		var m *template.MissingRequiredError
		if errors.As(err, &m) && !slices.ContainsFunc(out, func(v MissingVariable) bool { return v.Name == m.Variable }) {
			out = append(out, MissingVariable{Name: m.Variable, Reason: m.Reason})
		}
	}
	walk(err)
	slices.SortFunc(out, func(a, b MissingVariable) int { return strings.Compare(a.Name, b.Name) })
	return out
}
