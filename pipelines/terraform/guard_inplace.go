package terraform

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// A plan can keep every protected resource and still lose or expose data,
// by turning off in place what protects it: suspending versioning, lifting
// a public access block, dropping a deny statement, disabling a key,
// stopping backups or deletion protection, opening the catalog's network.
// weakenings finds those changes from the before and after values the
// plan JSON carries, by resource type and attribute (never by name, so a
// rename cannot bypass it); Summarize keeps only the protection settings
// it compared (Change.Weakens).

// Weakening is one protection setting a planned change turns off or
// weakens.
type Weakening struct {
	// Attribute is the setting's path in the resource, e.g.
	// versioning_configuration[0].status.
	Attribute string `json:"attribute"`
	// Before and After render the setting as JSON, "none" when absent,
	// "(known after apply)" when unknown and "(sensitive)" when the plan
	// marks it so. Only protection settings are rendered (flags, periods,
	// network ranges, names of policy statements), never other attributes.
	Before string `json:"before"`
	After  string `json:"after"`
	// Why says what the change loses.
	Why string `json:"why"`
}

func (w Weakening) String() string {
	return fmt.Sprintf("%s: %s -> %s (%s)", w.Attribute, w.Before, w.After, w.Why)
}

// safeguard is one protection setting of a resource type.
type safeguard struct {
	// attr is the setting's path: attribute names and list indexes joined
	// by dots, e.g. "point_in_time_recovery.0.enabled"; "" is the whole
	// resource.
	attr string
	// show names the setting in a refusal when attr is "" (the fields the
	// judge reads).
	show string
	// weaker reports whether after protects less than before and renders
	// what it compared. before is nil for a create.
	weaker func(before, after any, act Action) (weaker bool, was, now string)
	// onCreate also judges creates: a new rule that opens the network is
	// as open as an old one widened (for_each over CIDRs turns widening
	// into a create).
	onCreate bool
	why      string
}

// weakenings returns the protections rc turns off or weakens. Updates and
// replaces are judged against the current values; creates only by the
// safeguards marked onCreate (a new resource holds no data to lose).
func weakenings(rc *tfjson.ResourceChange, act Action) []Weakening {
	guards := safeguards[rc.Type]
	if len(guards) == 0 || (act != Create && act != Update && act != Replace) {
		return nil
	}
	after := markUnknown(rc.Change.After, rc.Change.AfterUnknown)
	var before any
	if act != Create {
		before = rc.Change.Before
	}
	var out []Weakening
	for _, g := range guards {
		if act == Create && !g.onCreate {
			continue
		}
		path := splitPath(g.attr)
		weaker, was, now := g.weaker(lookup(before, path), lookup(after, path), act)
		if !weaker {
			continue
		}
		if sensitiveAt(rc.Change.BeforeSensitive, path) {
			was = "(sensitive)"
		}
		if sensitiveAt(rc.Change.AfterSensitive, path) {
			now = "(sensitive)"
		}
		name := displayPath(path)
		if g.show != "" {
			name = g.show
		}
		out = append(out, Weakening{Attribute: name, Before: was, After: now, Why: g.why})
	}
	return out
}

// ranked judges a setting by a protection level that must not drop: rank
// returns the level of a value (0: no protection; ok false: a value it
// cannot read). A setting protective before and unknown until apply, or
// unreadable after, counts as weakened: the plan cannot show it is kept.
func ranked(rank func(v any) (level float64, ok bool)) func(before, after any, _ Action) (bool, string, string) {
	return func(before, after any, _ Action) (bool, string, string) {
		was, ok := rank(before)
		if !ok || was <= 0 {
			return false, "", ""
		}
		weaker := isUnknown(after)
		if !weaker {
			now, ok := rank(after)
			weaker = !ok || now < was
		}
		return weaker, render(before), render(after)
	}
}

// levels ranks a setting by its value: the protective values and their
// levels (booleans as "true"/"false"); every other value ranks 0. dflt
// stands for a null or absent value (what the provider or cloud then
// applies); nil means none.
func levels(dflt any, protective map[string]float64) func(before, after any, _ Action) (bool, string, string) {
	return ranked(func(v any) (float64, bool) {
		if v == nil {
			v = dflt
		}
		switch x := v.(type) {
		case nil:
			return 0, true
		case bool:
			return protective[strconv.FormatBool(x)], true
		case string:
			return protective[x], true
		}
		return 0, false
	})
}

// on is a flag whose protective value is v.
func on(v bool) func(before, after any, _ Action) (bool, string, string) {
	return levels(nil, map[string]float64{strconv.FormatBool(v): 1})
}

// onUnlessNull is a flag that protects when true, and also when null
// because the provider then applies true.
func onUnlessNull() func(before, after any, _ Action) (bool, string, string) {
	return levels(true, map[string]float64{"true": 1})
}

// period is a length of time or a count that must not shrink: a number,
// a number in a string, or a duration in seconds ("2592000s"). dflt stands
// for null (nil: none, i.e. 0).
func period(dflt any) func(before, after any, _ Action) (bool, string, string) {
	return ranked(func(v any) (float64, bool) {
		if v == nil {
			v = dflt
		}
		return number(v)
	})
}

// number reads a number, a number in a string or seconds ("30s"); null is 0.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, true
	case float64:
		return x, true
	case string:
		if x == "" {
			return 0, true
		}
		f, err := strconv.ParseFloat(strings.TrimSuffix(x, "s"), 64)
		return f, err == nil
	}
	return 0, false
}

// render shows a protection setting in a refusal.
func render(v any) string {
	switch v.(type) {
	case nil:
		return "none"
	case unknownValue:
		return "(known after apply)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func splitPath(attr string) []string {
	if attr == "" {
		return nil
	}
	return strings.Split(attr, ".")
}

// displayPath writes a path as Terraform does: block[0].attribute.
func displayPath(path []string) string {
	if len(path) == 0 {
		return "(resource)"
	}
	var b strings.Builder
	for i, p := range path {
		if _, err := strconv.Atoi(p); err == nil {
			fmt.Fprintf(&b, "[%s]", p)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// lookup follows path into a plan value; nil when a step is absent, the
// unknown marker when a step is not known until apply.
func lookup(v any, path []string) any {
	for _, p := range path {
		switch x := v.(type) {
		case unknownValue:
			return x
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// sensitiveAt reports whether the plan's before_sensitive or
// after_sensitive tree marks path, or a value containing it, sensitive.
func sensitiveAt(tree any, path []string) bool {
	for _, p := range path {
		if b, ok := tree.(bool); ok {
			return b
		}
		tree = lookup(tree, []string{p})
	}
	b, _ := tree.(bool)
	return b
}
