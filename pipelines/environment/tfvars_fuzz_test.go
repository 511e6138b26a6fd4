package environment

import (
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/fuzztest"
)

// catalogVariables are the variables of a tfvars file the catalog reads.
var catalogVariables = []string{
	"environment", "project_name", "cloud_provider", "promotion_upstream",
	"promotion_warnings_block", "promotion_max_evidence_age_hours", "promotion_requires_approval",
	"promotion_min_soak_hours", "promotion_timezone", "promotion_freeze_weekly", "promotion_freeze_dates",
}

// FuzzCatalog: reading a tfvars file never panics and gives the same
// catalog every time; an environment it accepts is one Terraform accepts
// too (the variable declarations and validations of every root, read from
// aws/ and gcp/variables.tf), with the values Terraform would use,
// defaults included; a file it refuses is named in the error; and a
// promotion order it gives puts every environment after its upstream.
func FuzzCatalog(f *testing.F) {
	committed := map[string][]byte{}
	for name, raw := range fuzztest.Files(f, "../../environments/*.tfvars") {
		committed[Dir+"/"+filepath.Base(name)] = raw
		f.Add(strings.TrimSuffix(filepath.Base(name), ".tfvars"), raw)
	}
	// Only what is required: the catalog's defaults must be Terraform's.
	f.Add("zzbare", []byte("project_name = \"lakehouse\"\nenvironment = \"zzbare\"\ncloud_provider = \"aws\"\n"))
	// Every promotion policy key set, so mutations start from windows.
	f.Add("zzpolicy", []byte(`project_name = "lakehouse"
environment = "zzpolicy"
cloud_provider = "gcp"
promotion_upstream = "zzup"
promotion_max_evidence_age_hours = 72
promotion_min_soak_hours = 24
promotion_timezone = "America/New_York"
promotion_freeze_weekly = [{ days = ["fri"], from = "16:30", to = "24:00" }, { days = ["sat", "sun"], from = "00:00", to = "24:00" }]
promotion_freeze_dates = [{ from = "2026-12-24T00:00:00-05:00", to = "2027-01-02T09:00:00Z" }]
`))
	roots := fuzztest.Files(f, "../../aws/variables.tf", "../../gcp/variables.tf")
	var decls []map[string]tfVariable
	for name, src := range roots {
		decls = append(decls, declaredVariables(f, name, src))
	}
	f.Fuzz(func(t *testing.T, stem string, data []byte) {
		if strings.Contains(stem, "/") {
			return // not a file name: the path would leave environments/
		}
		file := Dir + "/" + stem + ".tfvars"
		files := map[string][]byte{file: data}
		var c, again *Catalog
		var err error
		fuzztest.Returns(t, data, func() { c, err = NewCatalog(files) })
		if err != nil {
			t.Fatalf("a catalog of one file fails: %v", err)
		}
		if again, _ = NewCatalog(files); !reflect.DeepEqual(c.Listing(), again.Listing()) {
			t.Fatalf("%q: two readings differ: %+v, %+v", data, c.Listing(), again.Listing())
		}
		for _, inv := range c.Invalid() {
			if !strings.Contains(inv.Err.Error(), inv.File) {
				t.Fatalf("the error does not name %s: %v", inv.File, inv.Err)
			}
		}
		for _, env := range c.Envs() {
			for _, vars := range decls {
				checkTerraformAccepts(t, vars, env, data)
			}
		}
		withCommitted := maps.Clone(committed)
		maps.Copy(withCommitted, files)
		c, _ = NewCatalog(withCommitted)
		checkPromotionOrder(t, c)
	})
}

// checkTerraformAccepts fails t unless Terraform, given the tfvars file
// data, sees env's values and its validations accept them.
func checkTerraformAccepts(t *testing.T, vars map[string]tfVariable, env Env, data []byte) {
	t.Helper()
	file, diags := hclsyntax.ParseConfig(data, "x.tfvars", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%q accepted, but it does not parse: %v", data, diags)
	}
	attrs, _ := file.Body.JustAttributes()
	values := map[string]cty.Value{}
	for _, name := range catalogVariables {
		v := vars[name]
		a, set := attrs[name]
		if !set {
			if v.def == cty.NilVal {
				t.Fatalf("%q accepted without %s, which Terraform requires", data, name)
			}
			values[name] = v.def
			continue
		}
		raw, diags := a.Expr.Value(nil)
		val, err := convert.Convert(raw, v.typ)
		if diags.HasErrors() || err != nil {
			t.Fatalf("%q accepted, but Terraform cannot read %s as %s: %v %v", data, name, v.typ.FriendlyName(), diags, err)
		}
		values[name] = val
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(values)}, Functions: terraformFunctions}
	for _, name := range catalogVariables {
		for _, cond := range vars[name].conditions {
			ok, diags := cond.Value(ctx)
			if diags.HasErrors() || !ok.Type().Equals(cty.Bool) || ok.IsNull() || ok.False() {
				t.Fatalf("%q accepted, but Terraform's validation of %s (%s) refuses %#v %v", data, name, cond.Range(), values[name], diags)
			}
		}
	}
	p := env.Promotion()
	hours, _ := values["promotion_max_evidence_age_hours"].AsBigFloat().Float64()
	soak, _ := values["promotion_min_soak_hours"].AsBigFloat().Float64()
	got := []any{env.Name(), env.ProjectName(), env.Cloud(), p.Upstream, p.WarningsBlock, p.MaxEvidenceAge.Hours(), p.RequiresApproval,
		p.MinSoak.Hours(), p.Freeze.Location.String(), weeklyAsWritten(p.Freeze.Weekly), datesAsInstants(p.Freeze.Dates)}
	want := []any{values["environment"].AsString(), values["project_name"].AsString(), values["cloud_provider"].AsString(),
		values["promotion_upstream"].AsString(), values["promotion_warnings_block"].True(), hours, values["promotion_requires_approval"].True(),
		soak, values["promotion_timezone"].AsString(), terraformWeekly(t, values["promotion_freeze_weekly"]), terraformDates(t, values["promotion_freeze_dates"])}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: the catalog reads %v, Terraform %v (variables %q)", data, got, want, catalogVariables)
	}
}

// checkPromotionOrder fails t when an order is given that is not one.
func checkPromotionOrder(t *testing.T, c *Catalog) {
	t.Helper()
	order, err := c.PromotionOrder()
	if err != nil {
		return
	}
	if len(order) != len(c.Envs()) {
		t.Fatalf("the order %v leaves out environments of %v", order, c.Names())
	}
	for i, e := range order {
		up := e.Promotion().Upstream
		if up == "" {
			continue
		}
		j := slices.IndexFunc(order, func(o Env) bool { return o.Name() == up })
		if j < 0 || j >= i || order[j].Cloud() != e.Cloud() {
			t.Fatalf("in the order %v, %s comes before its upstream %s or follows one of another cloud", order, e, up)
		}
	}
}

// tfVariable is what a Terraform root declares about one variable.
type tfVariable struct {
	typ        cty.Type
	def        cty.Value // cty.NilVal when the variable has no default
	conditions []hcl.Expression
}

// declaredVariables reads the catalog's variables from a root's variables.tf.
func declaredVariables(f *testing.F, filename string, src []byte) map[string]tfVariable {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	top, _, diags := file.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}}})
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	out := map[string]tfVariable{}
	for _, b := range top.Blocks {
		name := b.Labels[0]
		if !slices.Contains(catalogVariables, name) {
			continue
		}
		body, _, diags := b.Body.PartialContent(&hcl.BodySchema{
			Attributes: []hcl.AttributeSchema{{Name: "type", Required: true}, {Name: "default"}},
			Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
		})
		if diags.HasErrors() {
			f.Fatalf("%s: variable %s: %v", filename, name, diags)
		}
		v := tfVariable{def: cty.NilVal}
		if v.typ, diags = typeexpr.TypeConstraint(body.Attributes["type"].Expr); diags.HasErrors() {
			f.Fatal(diags)
		}
		if d, ok := body.Attributes["default"]; ok {
			if v.def, diags = d.Expr.Value(nil); diags.HasErrors() {
				f.Fatal(diags)
			}
		}
		for _, vb := range body.Blocks {
			cond, _, diags := vb.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}}})
			if diags.HasErrors() {
				f.Fatal(diags)
			}
			v.conditions = append(v.conditions, cond.Attributes["condition"].Expr)
		}
		out[name] = v
	}
	for _, name := range catalogVariables {
		if _, ok := out[name]; !ok {
			f.Fatalf("%s declares no variable %s", filename, name)
		}
	}
	return out
}

// terraformFunctions are the functions the validations use, as Terraform
// defines them (cty's standard library where Terraform uses it).
var terraformFunctions = map[string]function.Function{
	"can":         tryfunc.CanFunc,
	"regex":       stdlib.RegexFunc,
	"contains":    stdlib.ContainsFunc,
	"floor":       stdlib.FloorFunc,
	"length":      stdlib.LengthFunc,
	"toset":       stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
	"tonumber":    stdlib.MakeToFunc(cty.Number),
	"replace":     stdlib.ReplaceFunc,
	"startswith":  stringTest(strings.HasPrefix),
	"strcontains": stringTest(strings.Contains),
}

// weeklyAsWritten renders the catalog's weekly windows as a file writes them.
func weeklyAsWritten(windows []WeeklyWindow) []string {
	out := []string{}
	for _, w := range windows {
		out = append(out, strings.SplitN(strings.TrimSuffix(w.String(), ")"), "(", 2)[1])
	}
	return out
}

// terraformWeekly renders Terraform's value of promotion_freeze_weekly the same way.
func terraformWeekly(t *testing.T, v cty.Value) []string {
	t.Helper()
	out := []string{}
	for it := v.ElementIterator(); it.Next(); {
		_, w := it.Element()
		var days []string
		for _, d := range w.GetAttr("days").AsValueSlice() {
			days = append(days, d.AsString())
		}
		out = append(out, strings.Join(days, ",")+" "+w.GetAttr("from").AsString()+"-"+w.GetAttr("to").AsString())
	}
	return out
}

func datesAsInstants(windows []DatedWindow) []int64 {
	out := []int64{}
	for _, w := range windows {
		out = append(out, w.From.UnixNano(), w.To.UnixNano())
	}
	return out
}

// terraformDates are the instants Terraform's timecmp reads in promotion_freeze_dates.
func terraformDates(t *testing.T, v cty.Value) []int64 {
	t.Helper()
	out := []int64{}
	for it := v.ElementIterator(); it.Next(); {
		_, w := it.Element()
		for _, end := range []string{"from", "to"} {
			at, err := time.Parse(time.RFC3339, w.GetAttr(end).AsString())
			if err != nil {
				t.Fatalf("Terraform accepted %s = %q, which it cannot compare: %v", end, w.GetAttr(end).AsString(), err)
			}
			out = append(out, at.UnixNano())
		}
	}
	return out
}

func stringTest(test func(s, sub string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "s", Type: cty.String}, {Name: "sub", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}
