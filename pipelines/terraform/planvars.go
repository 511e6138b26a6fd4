package terraform

import (
	"sort"
	"strings"
)

// PlanWithVars is Plan with variables given on the command line, after the
// environment's -var-file so they take precedence: the inputs of a release
// that are never committed, e.g. {"dagster_image": "<repo>@sha256:…"} (the
// release's digest, or RunningImages for a plan that brings none). The
// values end up in the saved plan, so the apply needs none of them. They
// are -var=NAME=VALUE argv elements in name order (no shell: values need no
// quoting); never pass a secret this way, a plan file and its JSON hold
// every variable.
func (t Target) PlanWithVars(planFile string, vars map[string]string) []string {
	return withVars(t.Plan(planFile), vars)
}

// DriftWithVars is Drift with the same variables: a drift check of an
// environment that runs Dagster needs the running images (RunningImages),
// or its variable validations refuse the plan.
func (t Target) DriftWithVars(vars map[string]string) []string {
	return withVars(t.Drift(), vars)
}

// withVars inserts -var flags right after the argv's -var-file flag.
func withVars(argv []string, vars map[string]string) []string {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	flags := make([]string, 0, len(names))
	for _, n := range names {
		flags = append(flags, "-var="+n+"="+vars[n])
	}
	out := make([]string, 0, len(argv)+len(flags))
	for i, a := range argv {
		out = append(out, a)
		if strings.HasPrefix(a, "-var-file=") {
			out = append(out, flags...)
			out = append(out, argv[i+1:]...)
			return out
		}
	}
	return append(out, flags...)
}
