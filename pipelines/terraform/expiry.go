package terraform

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
)

// Lifecycle rules delete objects without any resource being destroyed: a
// plan that adds an expiration, or makes one shorter, loses data on apply
// as surely as deleting the bucket. expiresData decides that from the
// plan's before and after values; Summarize keeps only the verdict
// (Change.ExpiresData), never the values.

// expiryRule is one way a resource's lifecycle configuration deletes
// objects. scope says which objects and how (rule id, filter, kind of
// expiry); limits are the thresholds that must all be met, each stored so
// that a larger number keeps data longer (0 days and "absent" are the same
// for an age: no limit).
type expiryRule struct {
	scope  string
	limits map[string]float64
}

// keeps reports whether a deletes no object sooner than b: same scope, and
// every limit of b present in a and no smaller. Extra limits in a only
// narrow it further.
func (a expiryRule) keeps(b expiryRule) bool {
	if a.scope != b.scope {
		return false
	}
	for name, lb := range b.limits {
		if la, ok := a.limits[name]; !ok || la < lb {
			return false
		}
	}
	return true
}

// expiryReader knows how one resource type expires data.
type expiryReader struct {
	// rules returns the expiring rules of a resource value; unknown is true
	// when a value that decides them is not known until apply.
	rules func(v map[string]any) (rules []expiryRule, unknown bool)
	// createdEmpty reports whether a created resource can only act on a
	// bucket created by the same plan, which holds no data yet.
	createdEmpty func(after map[string]any) bool
}

// expiryReaders are the resource types whose updates can start deleting
// data. Policy rules with RefuseExpiry name these types.
var expiryReaders = map[string]expiryReader{
	"aws_s3_bucket_lifecycle_configuration": {
		rules: awsLifecycleRules,
		// bucket = aws_s3_bucket.x.id is unknown while x is being created.
		createdEmpty: func(after map[string]any) bool { return isUnknown(after["bucket"]) },
	},
	"google_storage_bucket": {
		rules: gcsLifecycleRules,
		// The bucket itself is new.
		createdEmpty: func(map[string]any) bool { return true },
	},
}

// expiresData reports whether applying rc makes lifecycle rules delete
// objects the current rules keep: a new expiring rule, a shorter one, one
// with a wider filter, or one whose values are unknown until apply. A
// replace is judged like a create: the rules then act on another bucket.
func expiresData(rc *tfjson.ResourceChange, act Action) bool {
	r, ok := expiryReaders[rc.Type]
	if !ok || (act != Create && act != Update && act != Replace) {
		return false
	}
	marked := markUnknown(rc.Change.After, rc.Change.AfterUnknown)
	after, ok := marked.(map[string]any)
	if !ok {
		return isUnknown(marked) // the whole value unknown: cannot tell
	}
	var before []expiryRule
	if act == Update {
		prior, _ := rc.Change.Before.(map[string]any)
		before, _ = r.rules(prior)
	} else if r.createdEmpty(after) {
		return false
	}
	rules, unknown := r.rules(after)
	if unknown {
		return true
	}
	for _, a := range rules {
		if !slices.ContainsFunc(before, a.keeps) {
			return true
		}
	}
	return false
}

// awsLifecycleRules reads aws_s3_bucket_lifecycle_configuration: per
// enabled rule, its expiration (days or date) and its noncurrent version
// expiration (noncurrent_days, newer_noncurrent_versions). Expiring only
// delete markers and aborting multipart uploads delete no data.
func awsLifecycleRules(v map[string]any) ([]expiryRule, bool) {
	if v == nil {
		return nil, false
	}
	list, unknown := listOf(v["rule"])
	var out []expiryRule
	for _, r := range list {
		if isUnknown(r["status"]) || isUnknown(r["id"]) {
			unknown = true
			continue
		}
		if r["status"] != "Enabled" {
			continue
		}
		scope, u := scopeOf(map[string]any{"id": r["id"], "filter": r["filter"], "prefix": r["prefix"]})
		unknown = unknown || u
		exps, u := listOf(r["expiration"])
		unknown = unknown || u
		for _, e := range exps {
			limits := map[string]float64{}
			u := addDays(limits, "days", e["days"])
			u = addDate(limits, "date", e["date"], 1) || u
			if len(limits) > 0 || u {
				out = append(out, expiryRule{scope: scope + "|expiration", limits: limits})
			}
			unknown = unknown || u
		}
		nexps, u := listOf(r["noncurrent_version_expiration"])
		unknown = unknown || u
		for _, e := range nexps {
			limits := map[string]float64{}
			u := addDays(limits, "noncurrent_days", e["noncurrent_days"])
			u = addDays(limits, "newer_noncurrent_versions", e["newer_noncurrent_versions"]) || u
			out = append(out, expiryRule{scope: scope + "|noncurrent", limits: limits})
			unknown = unknown || u
		}
	}
	return out, unknown
}

// gcsLimits are the google_storage_bucket lifecycle conditions that bound
// when a Delete action fires; every other condition field scopes it. Dates
// "before D" delete more the later D is, so they count negatively.
var gcsLimits = map[string]float64{
	"age": 1, "days_since_custom_time": 1, "days_since_noncurrent_time": 1, "num_newer_versions": 1,
	"created_before": -1, "custom_time_before": -1, "noncurrent_time_before": -1,
}

// gcsLifecycleRules reads google_storage_bucket.lifecycle_rule: every rule
// whose action is Delete. (SetStorageClass and
// AbortIncompleteMultipartUpload delete no data.)
func gcsLifecycleRules(v map[string]any) ([]expiryRule, bool) {
	if v == nil {
		return nil, false
	}
	list, unknown := listOf(v["lifecycle_rule"])
	var out []expiryRule
	for _, r := range list {
		actions, u := listOf(r["action"])
		unknown = unknown || u
		deletes := false
		for _, a := range actions {
			unknown = unknown || isUnknown(a["type"])
			deletes = deletes || a["type"] == "Delete"
		}
		if !deletes {
			continue
		}
		conds, u := listOf(r["condition"])
		unknown = unknown || u
		limits := map[string]float64{}
		scope := map[string]any{}
		for _, c := range conds {
			for name, val := range c {
				switch sign, isLimit := gcsLimits[name]; {
				case isLimit && sign > 0:
					unknown = addDays(limits, name, val) || unknown
				case isLimit:
					unknown = addDate(limits, name, val, -1) || unknown
				case strings.HasPrefix(name, "send_"): // how zero is sent, not what is deleted
				case name == "with_state" && val == "ANY":
				default:
					scope[name] = val
				}
			}
		}
		s, u := scopeOf(scope)
		out = append(out, expiryRule{scope: s, limits: limits})
		unknown = unknown || u
	}
	return out, unknown
}

// addDays records a day or version count; 0 and null are no limit.
func addDays(limits map[string]float64, name string, v any) (unknown bool) {
	switch n := v.(type) {
	case unknownValue:
		return true
	case float64:
		if n > 0 {
			limits[name] = n
		}
	case string: // a number the provider models as a string
		var f float64
		if err := json.Unmarshal([]byte(n), &f); err != nil {
			return n != ""
		}
		if f > 0 {
			limits[name] = f
		}
	}
	return false
}

// addDate records a date (RFC 3339 or YYYY-MM-DD) as days since the epoch
// times sign; an unreadable date counts as unknown.
func addDate(limits map[string]float64, name string, v any, sign float64) (unknown bool) {
	switch s := v.(type) {
	case unknownValue:
		return true
	case string:
		if s == "" {
			return false
		}
		for _, layout := range []string{time.RFC3339, time.DateOnly} {
			if t, err := time.Parse(layout, s); err == nil {
				limits[name] = sign * float64(t.Unix()) / 86400
				return false
			}
		}
		return true
	}
	return false
}

// unknownValue stands for a value Terraform knows only after apply.
type unknownValue struct{}

func isUnknown(v any) bool { _, ok := v.(unknownValue); return ok }

// markUnknown replaces the parts of after that after_unknown marks true.
func markUnknown(after, afterUnknown any) any {
	switch u := afterUnknown.(type) {
	case bool:
		if u {
			return unknownValue{}
		}
	case map[string]any:
		m, _ := after.(map[string]any)
		out := make(map[string]any, len(m)+len(u))
		maps.Copy(out, m)
		for k, uk := range u {
			out[k] = markUnknown(out[k], uk)
		}
		return out
	case []any:
		l, _ := after.([]any)
		out := slices.Clone(l)
		for i, ui := range u {
			if i < len(out) {
				out[i] = markUnknown(out[i], ui)
			}
		}
		return out
	}
	return after
}

// listOf returns the objects of a nested block list.
func listOf(v any) ([]map[string]any, bool) {
	if isUnknown(v) {
		return nil, true
	}
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	unknown := false
	for _, e := range l {
		if isUnknown(e) {
			unknown = true
		}
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out, unknown
}

// scopeOf renders the fields that select objects canonically: empty
// values (null, "", false, [], {}) are left out, so an absent filter and an
// empty one compare equal.
func scopeOf(fields map[string]any) (string, bool) {
	v, unknown := normalize(fields)
	b, _ := json.Marshal(v) // maps, slices and scalars from encoding/json always marshal
	return string(b), unknown
}

func normalize(v any) (any, bool) {
	switch x := v.(type) {
	case unknownValue:
		return nil, true
	case map[string]any:
		out := map[string]any{}
		unknown := false
		for k, e := range x {
			n, u := normalize(e)
			unknown = unknown || u
			if n != nil {
				out[k] = n
			}
		}
		if len(out) == 0 {
			return nil, unknown
		}
		return out, unknown
	case []any:
		var out []any
		unknown := false
		for _, e := range x {
			n, u := normalize(e)
			unknown = unknown || u
			if n != nil {
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			return nil, unknown
		}
		return out, unknown
	case string:
		if x == "" {
			return nil, false
		}
	case bool:
		if !x {
			return nil, false
		}
	}
	return v, false
}
