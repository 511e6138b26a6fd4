package terraform

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Action is what a plan does to one resource.
type Action string

// The actions a Summary reports. No-op and read changes are left out.
const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
	Forget  Action = "forget" // removed from state, left in the cloud
)

// Change is one planned resource change. It deliberately carries no
// attribute values but the protection settings a change weakens (flags,
// periods, network ranges, policy statement names; see Weakening), so
// nothing rendered from it can leak a secret.
type Change struct {
	// Address is the full resource address, e.g. module.storage.aws_s3_bucket.data.
	Address string `json:"address"`
	// Type is the resource type, e.g. aws_s3_bucket.
	Type string `json:"type"`
	// Name is the resource name in configuration, e.g. data.
	Name string `json:"name"`
	// Action is what the plan does to it.
	Action Action `json:"action"`
	// ExpiresData is true when the change makes lifecycle rules delete
	// objects the current rules keep: a new expiration, a shorter one, a
	// wider filter, or rules not known until apply (see expiresData). A
	// verdict, not a value.
	ExpiresData bool `json:"expires_data,omitempty"`
	// Weakens lists the protection settings the change turns off or
	// weakens (see weakenings), each with its values before and after.
	Weakens []Weakening `json:"weakens,omitempty"`
}

// Summary is what a saved plan would do, by resource address.
type Summary struct {
	// Changes lists every resource change, sorted by address.
	Changes []Change `json:"changes"`
	// OutputChanges lists the root outputs whose value would change, sorted.
	OutputChanges []string `json:"output_changes"`
}

// Summarize reads the output of `terraform show -json <plan>`.
func Summarize(planJSON []byte) (Summary, error) {
	var p tfjson.Plan
	if err := json.Unmarshal(planJSON, &p); err != nil {
		return Summary{}, fmt.Errorf("read plan JSON: %w", err)
	}
	var s Summary
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		a := rc.Change.Actions
		var act Action
		switch {
		case a.Create():
			act = Create
		case a.Update():
			act = Update
		case a.Replace():
			act = Replace
		case a.Delete():
			act = Delete
		case a.Forget():
			act = Forget
		default: // no-op, read
			continue
		}
		s.Changes = append(s.Changes, Change{Address: rc.Address, Type: rc.Type, Name: rc.Name, Action: act,
			ExpiresData: expiresData(rc, act), Weakens: weakenings(rc, act)})
	}
	sort.Slice(s.Changes, func(i, j int) bool { return s.Changes[i].Address < s.Changes[j].Address })
	for name, oc := range p.OutputChanges {
		if oc != nil && !oc.Actions.NoOp() {
			s.OutputChanges = append(s.OutputChanges, name)
		}
	}
	sort.Strings(s.OutputChanges)
	return s, nil
}

// Count returns how many resources the plan changes with action a.
func (s Summary) Count(a Action) int {
	n := 0
	for _, c := range s.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// HasChanges reports whether applying the plan would change any resource
// or output.
func (s Summary) HasChanges() bool {
	return len(s.Changes) > 0 || len(s.OutputChanges) > 0
}

// Line is the one-line count, e.g.
// "2 to add, 0 to change, 1 to replace, 0 to destroy".
func (s Summary) Line() string {
	line := fmt.Sprintf("%d to add, %d to change, %d to replace, %d to destroy",
		s.Count(Create), s.Count(Update), s.Count(Replace), s.Count(Delete))
	if n := s.Count(Forget); n > 0 {
		line += fmt.Sprintf(", %d to forget", n)
	}
	return line
}

// Markdown renders the summary for a pull request or job summary. It shows
// addresses, actions and output names only, never values, so sensitive
// attributes cannot appear in it.
func (s Summary) Markdown() string {
	var b strings.Builder
	if !s.HasChanges() {
		b.WriteString("**No changes.** Infrastructure matches the configuration.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "**Plan:** %s.\n", s.Line())
	if len(s.Changes) > 0 {
		b.WriteString("\n| Action | Resource |\n|---|---|\n")
		for i, c := range s.Changes {
			if i == MarkdownMaxRows {
				fmt.Fprintf(&b, "| … | %d more changes not listed |\n", len(s.Changes)-i)
				break
			}
			expires := ""
			if c.ExpiresData {
				expires = ", expires data"
			}
			if len(c.Weakens) > 0 {
				expires += ", removes protection"
			}
			fmt.Fprintf(&b, "| %s %s%s | `%s` |\n", actionMark[c.Action], c.Action, expires, mdEscape(c.Address))
		}
	}
	if len(s.OutputChanges) > 0 {
		b.WriteString("\nOutputs changing: ")
		for i, o := range s.OutputChanges {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "`%s`", mdEscape(o))
		}
		b.WriteString(" (values not shown).\n")
	}
	return b.String()
}

// MarkdownMaxRows caps the resource table so a large plan still fits in a
// pull-request comment (GitHub allows 65,536 characters); the counts line
// always covers every change.
const MarkdownMaxRows = 300

var actionMark = map[Action]string{
	Create: "+", Update: "~", Replace: "-/+", Delete: "-", Forget: ".",
}

// mdEscape keeps an address from breaking the table (for_each keys may
// contain any character).
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}
