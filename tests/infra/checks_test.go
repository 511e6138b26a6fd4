package infra

// Checkers: each takes a tree and returns problems (file:line: message).
// Tests assert "no problems" on the repository, and "this problem" on
// mutated copies, so every checker is shown to be able to fail.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// closest suggests a declared name for a misspelt key.
func closest(name string, vars map[string]*variable) string {
	best, bestD := "", 1<<30
	for cand := range vars {
		if d := editDistance(name, cand); d < bestD || (d == bestD && cand < best) {
			best, bestD = cand, d
		}
	}
	if bestD > 4 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// checkTfvarsDeclared: every key of every tfvars file is declared by both
// roots with a compatible type, every required variable is set, and
// environment equals the file stem.
func checkTfvarsDeclared(tree string) ([]problem, error) {
	mods, err := loadModules(tree)
	if err != nil {
		return nil, err
	}
	files, err := loadTfvars(tree)
	if err != nil {
		return nil, err
	}
	var ps []problem
	for _, f := range files {
		keys := sortedKeys(f.Attrs)
		for _, root := range cloudRoots {
			m := mods[root]
			for _, key := range keys {
				line := f.line(key)
				v, ok := m.Variables[key]
				if !ok {
					msg := fmt.Sprintf("%q is not declared by the %s root", key, root)
					if s := closest(key, m.Variables); s != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", s)
					}
					ps = append(ps, problem{f.Path, line, msg})
					continue
				}
				val, ok := f.value(key)
				if !ok {
					ps = append(ps, problem{f.Path, line, fmt.Sprintf("%q is not a constant value", key)})
					continue
				}
				if _, err := convert.Convert(val, v.Type); err != nil {
					ps = append(ps, problem{f.Path, line, fmt.Sprintf("%q: value does not fit type %s declared by %s: %v", key, v.Type.FriendlyName(), root, err)})
				}
			}
			for _, name := range sortedKeys(m.Variables) {
				if m.Variables[name].Default == cty.NilVal {
					if _, set := f.Attrs[name]; !set {
						ps = append(ps, problem{f.Path, 1, fmt.Sprintf("required variable %q of the %s root is not set", name, root)})
					}
				}
			}
		}
		env, ok := f.value("environment")
		if !ok || env.Type() != cty.String || env.AsString() != f.Env {
			ps = append(ps, problem{f.Path, f.line("environment"), fmt.Sprintf("environment must be %q (the file stem)", f.Env)})
		}
	}
	return ps, nil
}

// validationStats counts evaluated and skipped validation conditions.
type validationStats struct {
	Evaluated int
	Skipped   map[string]int // function name -> conditions skipped because of it
}

// evalValidations evaluates every validation block of m against vars.
// where tells which file:line a failing variable is reported at.
func evalValidations(m *module, vars map[string]cty.Value, where func(name string) (string, int), stats *validationStats) []problem {
	var ps []problem
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}, Functions: functions()}
	for _, name := range sortedKeys(m.Variables) {
		for _, val := range m.Variables[name].Validations {
			if missing := unsupportedCalls(val.Condition); len(missing) > 0 {
				for _, fn := range missing {
					stats.Skipped[fn]++
				}
				continue
			}
			file, line := where(name)
			res, diags := val.Condition.Value(ctx)
			if diags.HasErrors() {
				ps = append(ps, problem{file, line, fmt.Sprintf("%s: validation of %q cannot be evaluated: %s", m.Dir, name, diags.Error())})
				continue
			}
			if !res.IsKnown() {
				continue // depends on a required variable this file does not set
			}
			stats.Evaluated++
			if res.Type() != cty.Bool || res.False() {
				msg := "validation failed"
				if mv, d := val.Message.Value(ctx); !d.HasErrors() && mv.Type() == cty.String {
					msg = mv.AsString()
				}
				ps = append(ps, problem{file, line, fmt.Sprintf("%s rejects %q: %s", m.Dir, name, msg)})
			}
		}
	}
	return ps
}

// releaseInputs are the variables a release brings at plan time (the
// pipeline's -var, never a tfvars key): validations are evaluated with these
// sample digests where a file does not set them.
var releaseInputs = map[string]cty.Value{
	"dagster_image": cty.StringVal("123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse@sha256:" + strings.Repeat("a", 64)),
	"gate_image":    cty.StringVal("123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse@sha256:" + strings.Repeat("b", 64)),
}

// checkTfvarsValidations evaluates every variable validation of both roots
// with the values of every tfvars file (defaults for unset variables, the
// releaseInputs for the images).
func checkTfvarsValidations(tree string) ([]problem, validationStats, error) {
	stats := validationStats{Skipped: map[string]int{}}
	mods, err := loadModules(tree)
	if err != nil {
		return nil, stats, err
	}
	files, err := loadTfvars(tree)
	if err != nil {
		return nil, stats, err
	}
	var ps []problem
	for _, f := range files {
		for _, root := range cloudRoots {
			m := mods[root]
			where := func(name string) (string, int) {
				if _, ok := f.Attrs[name]; ok {
					return f.Path, f.line(name)
				}
				v := m.Variables[name]
				return rel(tree, v.Range.Filename), v.Range.Start.Line
			}
			inputs := map[string]cty.Value{}
			for k, v := range releaseInputs {
				if _, set := f.Attrs[k]; !set {
					inputs[k] = v
				}
			}
			ps = append(ps, evalValidations(m, varValues(m, f, inputs), where, &stats)...)
		}
	}
	return ps, stats, nil
}

// protectedTypes hold data, catalog state, Dagster's run history or the
// credentials of what runs; they must carry prevent_destroy. Two kinds may
// instead carry provider deletion protection that follows the environment's
// deletion_protection (protectedBySwitch): resources that exist only with a
// switch (count/for_each, e.g. enable_dagster), because prevent_destroy would
// make turning the switch off impossible even in an unprotected environment,
// and credentialTypes, which must stay replaceable when a password is
// rotated (the pipeline's guard still refuses it without an allow-list).
var protectedTypes = map[string]bool{
	"aws_s3_bucket":                        true,
	"aws_dynamodb_table":                   true,
	"aws_kms_key":                          true,
	"aws_db_instance":                      true,
	"aws_secretsmanager_secret":            true,
	"google_storage_bucket":                true,
	"google_sql_database_instance":         true,
	"google_sql_database":                  true,
	"google_sql_user":                      true,
	"google_kms_crypto_key":                true,
	"google_kms_key_ring":                  true,
	"google_secret_manager_secret":         true,
	"google_secret_manager_secret_version": true,
}

// credentialTypes hold the credentials a running service uses.
var credentialTypes = map[string]bool{
	"aws_secretsmanager_secret":            true,
	"google_sql_user":                      true,
	"google_secret_manager_secret":         true,
	"google_secret_manager_secret_version": true,
}

// protectedBySwitch: deletion protection stands in for prevent_destroy (see
// protectedTypes).
func protectedBySwitch(r *resource) bool {
	_, hasCount := r.Body.Attributes["count"]
	_, hasForEach := r.Body.Attributes["for_each"]
	return hasDeletionProtection(r) && (credentialTypes[r.Type] || hasCount || hasForEach)
}

// deletionProtectionAttrs are the provider arguments that protect a
// resource from deletion, by type.
var deletionProtectionAttrs = map[string]string{
	"aws_db_instance":                      "deletion_protection",
	"aws_dynamodb_table":                   "deletion_protection_enabled",
	"google_sql_database_instance":         "deletion_protection",
	"google_sql_database":                  "deletion_policy",
	"google_sql_user":                      "deletion_policy",
	"google_secret_manager_secret":         "deletion_protection",
	"google_secret_manager_secret_version": "deletion_policy",
}

// hasDeletionProtection: the type's protection argument follows
// var.deletion_protection (e.g. deletion_protection = var.deletion_protection,
// deletion_policy = var.deletion_protection ? "ABANDON" : "DELETE").
func hasDeletionProtection(r *resource) bool {
	attr, ok := deletionProtectionAttrs[r.Type]
	if !ok {
		return false
	}
	a, ok := r.Body.Attributes[attr]
	if !ok {
		return false
	}
	for _, tr := range a.Expr.Variables() {
		if tr.RootName() == "var" && len(tr) > 1 {
			if at, ok := tr[1].(hcl.TraverseAttr); ok && at.Name == "deletion_protection" {
				return true
			}
		}
	}
	return false
}

func hasPreventDestroy(b *hclsyntax.Body) bool {
	for _, blk := range b.Blocks {
		if blk.Type != "lifecycle" {
			continue
		}
		if a, ok := blk.Body.Attributes["prevent_destroy"]; ok {
			v, d := a.Expr.Value(nil)
			return !d.HasErrors() && v.Type() == cty.Bool && v.True()
		}
	}
	return false
}

// checkPreventDestroy: storage and catalog-state resources are protected.
func checkPreventDestroy(tree string) ([]problem, int, error) {
	mods, err := loadModules(tree)
	if err != nil {
		return nil, 0, err
	}
	var ps []problem
	protected := 0
	for _, root := range cloudRoots {
		for _, r := range mods[root].Resources {
			if r.Kind != "resource" || !protectedTypes[r.Type] {
				continue
			}
			protected++
			if !hasPreventDestroy(r.Body) && !protectedBySwitch(r) {
				msg := fmt.Sprintf("%s holds data or catalog state but has no lifecycle { prevent_destroy = true }", r.addr())
				if attr, ok := deletionProtectionAttrs[r.Type]; ok && (credentialTypes[r.Type] || r.Body.Attributes["count"] != nil || r.Body.Attributes["for_each"] != nil) {
					msg += fmt.Sprintf(" nor %s following var.deletion_protection", attr)
				}
				ps = append(ps, problem{rel(tree, r.Range.Filename), r.Range.Start.Line, msg})
			}
		}
	}
	return ps, protected, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
