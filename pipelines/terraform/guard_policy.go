package terraform

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// A bucket policy's deny statements (TLS only, no weaker encryption) are
// protection: a plan that removes one, or narrows it, lets requests through
// that the bucket refuses today. keepsDenies compares the deny statements
// of the policy documents before and after; allow statements grant access
// the public access block already bounds, and are not judged.

// denyStatement is one Deny statement: what it matches, as sets of
// patterns, and when (its conditions).
type denyStatement struct {
	name string
	// match maps Action, NotAction, Resource, NotResource, Principal and
	// NotPrincipal to their values; an element absent from the statement,
	// or a Principal of everyone, is absent here and matches everything.
	match map[string][]string
	// conditions maps "operator|key" to its sorted values.
	conditions map[string][]string
}

// covers reports whether a denies every request b denies: it matches at
// least what b matches, under no condition b lacks.
func (a denyStatement) covers(b denyStatement) bool {
	for _, f := range []string{"Action", "Resource", "Principal"} {
		if !coversField(a.match[f], a.match["Not"+f], b.match[f], b.match["Not"+f], f != "Resource") {
			return false
		}
	}
	for k, av := range a.conditions {
		if bv, ok := b.conditions[k]; !ok || !slices.Equal(av, bv) {
			return false
		}
	}
	return true
}

// coversField compares one element (Action, Resource or Principal) of two
// statements, each either a positive list of patterns, a Not list, or
// neither (everything).
func coversField(aPos, aNeg, bPos, bNeg []string, fold bool) bool {
	switch {
	case aPos == nil && aNeg == nil: // a matches everything
		return true
	case aPos != nil && bPos != nil: // every value of b matches a pattern of a
		return allMatched(bPos, aPos, fold)
	case aNeg != nil && bNeg != nil: // a excludes no more than b does
		return allMatched(aNeg, bNeg, fold)
	case aNeg != nil && bPos != nil: // no value of b is excluded by a
		for _, v := range bPos {
			for _, p := range aNeg {
				if globMatch(p, v, fold) || globMatch(v, p, fold) {
					return false
				}
			}
		}
		return true
	}
	return false // a lists values, b matches everything or all but some
}

func allMatched(values, patterns []string, fold bool) bool {
	for _, v := range values {
		if !slices.ContainsFunc(patterns, func(p string) bool { return globMatch(p, v, fold) }) {
			return false
		}
	}
	return true
}

// globMatch matches IAM wildcards: * any run of characters, ? one.
func globMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p, i = p+1, i+1
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// denyStatements reads the Deny statements of an IAM policy document.
func denyStatements(doc string) ([]denyStatement, error) {
	var d struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	var list []map[string]any
	if err := json.Unmarshal(d.Statement, &list); err != nil {
		var one map[string]any
		if err := json.Unmarshal(d.Statement, &one); err != nil {
			return nil, fmt.Errorf("read policy statements: %w", err)
		}
		list = []map[string]any{one}
	}
	var out []denyStatement
	for i, st := range list {
		if st["Effect"] != "Deny" {
			continue
		}
		ds := denyStatement{name: fmt.Sprintf("statement %d", i+1), match: map[string][]string{}, conditions: map[string][]string{}}
		if sid, _ := st["Sid"].(string); sid != "" {
			ds.name = sid
		}
		for _, f := range []string{"Action", "NotAction", "Resource", "NotResource"} {
			if v, ok := st[f]; ok {
				ds.match[f] = policyValues(v)
			}
		}
		if v, ok := st["Principal"]; ok {
			if p, everyone := principals(v); !everyone {
				ds.match["Principal"] = p
			}
		}
		if v, ok := st["NotPrincipal"]; ok {
			p, everyone := principals(v)
			if everyone {
				p = []string{"*"}
			}
			ds.match["NotPrincipal"] = p
		}
		conds, _ := st["Condition"].(map[string]any)
		for op, keys := range conds {
			km, _ := keys.(map[string]any)
			for key, v := range km {
				// Keys are case-insensitive: merge "aws:SecureTransport"
				// and "aws:securetransport" in any order.
				k := op + "|" + strings.ToLower(key)
				vals := append(ds.conditions[k], policyValues(v)...)
				sort.Strings(vals)
				ds.conditions[k] = slices.Compact(vals)
			}
		}
		out = append(out, ds)
	}
	return out, nil
}

// policyValues reads a policy element written as one value or a list, as
// sorted strings (booleans and numbers as written).
func policyValues(v any) []string {
	l, ok := v.([]any)
	if !ok {
		l = []any{v}
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
			continue
		}
		b, _ := json.Marshal(e)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// principals reads a Principal element as "TYPE:id" values, or everyone
// ("*", {"AWS": "*"}).
func principals(v any) (ids []string, everyone bool) {
	if v == "*" {
		return nil, true
	}
	m, _ := v.(map[string]any)
	for typ, l := range m {
		for _, id := range policyValues(l) {
			if typ == "AWS" && id == "*" {
				return nil, true
			}
			ids = append(ids, typ+":"+id)
		}
	}
	sort.Strings(ids)
	return ids, false
}

// keepsDenies judges a policy document: weakened when a deny statement of
// before is not covered by one of after, or when after is unknown or
// unreadable while before denied something.
func keepsDenies(before, after any, _ Action) (bool, string, string) {
	doc, _ := before.(string)
	was, err := denyStatements(doc)
	if err != nil || len(was) == 0 {
		return false, "", ""
	}
	shown := "deny " + render(statementNames(was))
	if isUnknown(after) {
		return true, shown, render(after)
	}
	doc, _ = after.(string)
	now, err := denyStatements(doc)
	if err != nil {
		return true, shown, "(no readable policy)"
	}
	var lost []string
	for _, b := range was {
		if !slices.ContainsFunc(now, func(a denyStatement) bool { return a.covers(b) }) {
			lost = append(lost, b.name)
		}
	}
	if len(lost) == 0 {
		return false, "", ""
	}
	return true, shown, fmt.Sprintf("deny %s, no longer denying all that %s denied", render(statementNames(now)), strings.Join(lost, ", "))
}

func statementNames(l []denyStatement) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s.name
	}
	return out
}
