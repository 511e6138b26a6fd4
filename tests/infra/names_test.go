package infra

// Names: every collision-prone name carries the environment, and fits its
// provider's length limit for the shortest and longest project_name and
// environment the roots' own validations accept.

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// accepted reports whether every evaluable validation of variable name in m
// accepts value (other variables at the values given in base).
func accepted(m *module, base map[string]cty.Value, name string, value cty.Value) bool {
	vars := map[string]cty.Value{}
	for k, v := range base {
		vars[k] = v
	}
	vars[name] = value
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}, Functions: functions()}
	for _, val := range m.Variables[name].Validations {
		if len(unsupportedCalls(val.Condition)) > 0 {
			continue
		}
		res, diags := val.Condition.Value(ctx)
		if diags.HasErrors() || !res.IsKnown() || res.False() {
			return false
		}
	}
	return true
}

// extremes finds the shortest and longest values of an identifier variable
// that the root's own validation accepts (probing "a", "aa", ... up to 64).
func extremes(m *module, base map[string]cty.Value, name string) (shortest, longest string) {
	for n := 1; n <= 64; n++ {
		s := strings.Repeat("a", n)
		if accepted(m, base, name, cty.StringVal(s)) {
			if shortest == "" {
				shortest = s
			}
			longest = s
		}
	}
	return shortest, longest
}

// nameAttributes are the attributes that define a resource's own name.
var nameAttributes = []string{"name", "name_prefix", "bucket", "account_id", "family", "alarm_name", "secret_id", "bucket_id", "display_name", "repository_id", "identifier", "final_snapshot_identifier"}

// scopedNames are resource types whose name lives inside a parent that
// already carries the environment, so a fixed name cannot collide.
var scopedNames = map[string]string{
	"google_sql_database": "scoped to its Cloud SQL instance",
	"google_sql_user":     "scoped to its Cloud SQL instance",
	// DNS name <name>.<project>-<env>.internal: scoped to its namespace.
	"aws_service_discovery_service": "scoped to its Cloud Map namespace",
}

// lengthLimits are provider limits on name length, [min, max].
var lengthLimits = map[string][2]int{
	"aws_lb.name":                                    {1, 32},
	"aws_lb_target_group.name":                       {1, 32},
	"aws_s3_bucket.bucket":                           {3, 63},
	"aws_iam_role.name":                              {1, 64},
	"aws_iam_role_policy.name":                       {1, 128},
	"aws_dynamodb_table.name":                        {3, 255},
	"aws_ecs_cluster.name":                           {1, 255},
	"aws_ecs_service.name":                           {1, 255},
	"aws_ecs_task_definition.family":                 {1, 255},
	"aws_security_group.name":                        {1, 255},
	"aws_cloudtrail.name":                            {3, 128},
	"aws_sns_topic.name":                             {1, 256},
	"aws_kms_alias.name":                             {1, 256},
	"aws_cloudwatch_metric_alarm.alarm_name":         {1, 255},
	"aws_cloudwatch_log_group.name":                  {1, 512},
	"aws_appautoscaling_policy.name":                 {1, 255},
	"google_service_account.account_id":              {6, 30},
	"google_storage_bucket.name":                     {3, 63},
	"google_cloud_run_v2_service.name":               {1, 49},
	"google_sql_database_instance.name":              {1, 84},
	"google_compute_network.name":                    {1, 63},
	"google_compute_subnetwork.name":                 {1, 63},
	"google_compute_global_address.name":             {1, 63},
	"google_kms_key_ring.name":                       {1, 63},
	"google_kms_crypto_key.name":                     {1, 63},
	"google_secret_manager_secret.secret_id":         {1, 255},
	"google_logging_project_bucket_config.bucket_id": {1, 100},
	"google_logging_project_sink.name":               {1, 100},
	// Dagster runtime.
	"aws_db_instance.identifier":                       {1, 63},
	"aws_db_instance.final_snapshot_identifier":        {1, 255},
	"aws_db_subnet_group.name":                         {1, 255},
	"aws_service_discovery_private_dns_namespace.name": {1, 253},
	"google_cloud_run_v2_job.name":                     {1, 63},
	"google_compute_router.name":                       {1, 63},
	"google_compute_router_nat.name":                   {1, 63},
}

// resourceNames evaluates the name attributes (and tags.Name) of every
// managed resource with the given variable values.
type evaluatedName struct {
	Res   *resource
	Attr  string
	Value string
	Err   string
	Line  int
}

func resourceNames(m *module, vars map[string]cty.Value) []evaluatedName {
	ctx := evalContext(m, vars)
	var out []evaluatedName
	for _, r := range m.Resources {
		if r.Kind != "resource" {
			continue
		}
		for _, ectx := range instanceContexts(r, ctx) {
			for _, attr := range nameAttributes {
				a, ok := r.Body.Attributes[attr]
				if !ok || isReference(a.Expr) {
					continue
				}
				out = append(out, evalName(r, attr, a.Expr, ectx))
			}
			if a, ok := r.Body.Attributes["tags"]; ok {
				if obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
					for _, item := range obj.Items {
						k, d := item.KeyExpr.Value(nil)
						if !d.HasErrors() && k.Type() == cty.String && k.AsString() == "Name" {
							out = append(out, evalName(r, "tags.Name", item.ValueExpr, ectx))
						}
					}
				}
			}
		}
	}
	return out
}

// instanceContexts returns one context per for_each key when for_each can be
// evaluated without providers (so names use the real keys), else ctx itself.
func instanceContexts(r *resource, ctx *hcl.EvalContext) []*hcl.EvalContext {
	a, ok := r.Body.Attributes["for_each"]
	if !ok {
		return []*hcl.EvalContext{ctx}
	}
	fe, diags := a.Expr.Value(ctx)
	if diags.HasErrors() || !fe.IsWhollyKnown() || fe.IsNull() || !fe.CanIterateElements() || fe.LengthInt() == 0 {
		return []*hcl.EvalContext{ctx}
	}
	var out []*hcl.EvalContext
	for it := fe.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if fe.Type().IsSetType() {
			k = v
		}
		if k.Type() != cty.String {
			continue
		}
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})}
		out = append(out, child)
	}
	if len(out) == 0 {
		return []*hcl.EvalContext{ctx}
	}
	return out
}

func evalName(r *resource, attr string, expr hcl.Expression, ctx *hcl.EvalContext) evaluatedName {
	n := evaluatedName{Res: r, Attr: attr, Line: expr.Range().Start.Line}
	v, diags := expr.Value(ctx)
	switch {
	case diags.HasErrors():
		n.Err = diags.Error()
	case !v.IsWhollyKnown() || v.Type() != cty.String:
		n.Err = "not a known string without providers"
	default:
		n.Value = v.AsString()
	}
	return n
}

// checkNamesCarryEnvironment: with a marker environment, every resource name
// must contain it (or be scoped under a parent that does).
func checkNamesCarryEnvironment(tree string) ([]problem, error) {
	mods, err := loadModules(tree)
	if err != nil {
		return nil, err
	}
	files, err := loadTfvars(tree)
	if err != nil {
		return nil, err
	}
	const marker = "zqenvx"
	var ps []problem
	for _, root := range cloudRoots {
		m := mods[root]
		vars := varValues(m, files[0], map[string]cty.Value{"environment": cty.StringVal(marker)})
		for _, n := range resourceNames(m, vars) {
			if _, ok := scopedNames[n.Res.Type]; ok {
				continue
			}
			file := rel(tree, n.Res.Range.Filename)
			switch {
			case n.Err != "":
				ps = append(ps, problem{file, n.Line, fmt.Sprintf("%s %s cannot be evaluated without providers: %s", n.Res.addr(), n.Attr, n.Err)})
			case !strings.Contains(n.Value, marker):
				ps = append(ps, problem{file, n.Line, fmt.Sprintf("%s %s = %q does not contain the environment", n.Res.addr(), n.Attr, n.Value)})
			}
		}
	}
	return ps, nil
}

// checkNameLengths: for the shortest and longest project_name/environment the
// roots accept, every limited name fits its provider limit.
func checkNameLengths(tree string) ([]problem, []string, error) {
	mods, err := loadModules(tree)
	if err != nil {
		return nil, nil, err
	}
	files, err := loadTfvars(tree)
	if err != nil {
		return nil, nil, err
	}
	var ps []problem
	var seen []string
	for _, root := range cloudRoots {
		m := mods[root]
		base := varValues(m, files[0], nil)
		pShort, pLong := extremes(m, base, "project_name")
		eShort, eLong := extremes(m, base, "environment")
		if pLong == "" || eLong == "" {
			ps = append(ps, problem{root + "/variables.tf", 1, "no project_name/environment value passes validation"})
			continue
		}
		if len(pLong) >= 64 || len(eLong) >= 64 {
			ps = append(ps, problem{root + "/variables.tf", 1, "project_name/environment validation does not bound the length"})
		}
		for _, combo := range [][2]string{{pShort, eShort}, {pLong, eLong}} {
			vars := varValues(m, files[0], map[string]cty.Value{"project_name": cty.StringVal(combo[0]), "environment": cty.StringVal(combo[1])})
			for _, n := range resourceNames(m, vars) {
				key := n.Res.Type + "." + n.Attr
				limit, ok := lengthLimits[key]
				if !ok || n.Err != "" {
					continue
				}
				seen = append(seen, key)
				if l := len(n.Value); l < limit[0] || l > limit[1] {
					ps = append(ps, problem{rel(tree, n.Res.Range.Filename), n.Line, fmt.Sprintf(
						"%s %s = %q is %d chars (project_name %d, environment %d); allowed %d-%d",
						n.Res.addr(), n.Attr, n.Value, l, len(combo[0]), len(combo[1]), limit[0], limit[1])})
				}
			}
		}
	}
	return ps, seen, nil
}
