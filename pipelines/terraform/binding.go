package terraform

import (
	"fmt"
	"strings"
)

// PlanMismatchError says a saved plan file belongs to another environment,
// cloud, state key or workspace than the target asked to apply it. Applying
// it would change the state recorded in the file, not the target's.
type PlanMismatchError struct {
	// Plan is what the file records.
	Plan PlanBinding
	// Target is the call's "<env>/<cloud>" (Target.String()).
	Target string
	// Want is what a plan of Target records.
	Want PlanBinding
}

func (e *PlanMismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan file was made for environment %s (state %s, %s", orUnknown(e.Plan.Environment), orUnknown(e.Plan.StateKey), orUnknown(e.Plan.BackendType))
	if e.Plan.Workspace != e.Want.Workspace {
		fmt.Fprintf(&b, ", workspace %s", orUnknown(e.Plan.Workspace))
	}
	fmt.Fprintf(&b, ") but this call applies %s (state %s", e.Target, e.Want.StateKey)
	if e.Plan.BackendType != e.Want.BackendType {
		fmt.Fprintf(&b, ", %s", e.Want.BackendType)
	}
	if e.Plan.Workspace != e.Want.Workspace {
		fmt.Fprintf(&b, ", workspace %s", e.Want.Workspace)
	}
	fmt.Fprintf(&b, "): plan %s again", e.Want.Environment)
	if other := e.otherCall(); other != "" {
		fmt.Fprintf(&b, ", or apply the file with %s", other)
	}
	return b.String()
}

// otherCall returns the flags that target the plan's own environment and
// cloud, "" when the file does not say (or says the same as the target,
// e.g. a foreign state key or workspace).
func (e *PlanMismatchError) otherCall() string {
	if e.Plan.Workspace != e.Want.Workspace || e.Plan.Environment == "" {
		return ""
	}
	var flags []string
	if e.Plan.Environment != e.Want.Environment {
		flags = append(flags, "--env "+e.Plan.Environment)
	}
	if e.Plan.BackendType != e.Want.BackendType {
		cloud := cloudOfBackend(e.Plan.BackendType)
		if cloud == "" {
			return ""
		}
		flags = append(flags, "--cloud-provider "+cloud.String())
	}
	return strings.Join(flags, " ")
}

// CheckPlan returns a *PlanMismatchError unless b, read from a saved plan
// file with ReadPlanBinding, is a plan of t: t's backend type, t's state
// key or prefix, the default workspace and t's environment.
func (t Target) CheckPlan(b PlanBinding) error {
	want := PlanBinding{
		BackendType: t.backend.Type,
		StateKey:    t.backend.Value,
		Workspace:   defaultWorkspace,
		Environment: t.env.Name(),
	}
	if b == want {
		return nil
	}
	return &PlanMismatchError{Plan: b, Target: t.String(), Want: want}
}

// cloudOfBackend returns the cloud whose state lives in a backend type,
// "" for any other type.
func cloudOfBackend(backendType string) Cloud {
	for _, c := range Clouds() {
		if c.backendType() == backendType {
			return c
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
