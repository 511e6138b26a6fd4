package infra

// Loading and evaluating the Terraform roots with hcl/v2, without providers.
// Everything here works on a "tree": a directory holding aws/, gcp/ and
// environments/, so every check can run on the repository or on a mutated
// temporary copy of it.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// cloudRoots are the Terraform roots that read environments/*.tfvars.
var cloudRoots = []string{"aws", "gcp"}

// problem is one finding, always pointing at a file and line of the tree.
type problem struct {
	File string
	Line int
	Msg  string
}

func (p problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

func problemsText(ps []problem) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

type validation struct {
	Condition hcl.Expression
	Message   hcl.Expression
	Range     hcl.Range
}

type variable struct {
	Name        string
	Type        cty.Type
	Default     cty.Value // cty.NilVal when the variable is required
	Validations []validation
	Range       hcl.Range
}

type resource struct {
	Kind  string // "resource" or "data"
	Type  string
	Name  string
	Body  *hclsyntax.Body
	Range hcl.Range
}

func (r *resource) addr() string { return r.Type + "." + r.Name }

// module is one parsed Terraform root.
type module struct {
	Dir       string // relative to the tree, e.g. "aws"
	Variables map[string]*variable
	Resources []*resource
	Locals    map[string]*hclsyntax.Attribute
	Outputs   map[string]*hclsyntax.Body
	Terraform []*hclsyntax.Body
}

// rel turns an absolute filename into a tree-relative one for messages.
func rel(tree, filename string) string {
	if r, err := filepath.Rel(tree, filename); err == nil {
		return filepath.ToSlash(r)
	}
	return filename
}

func parseHCLFile(path string) (*hclsyntax.Body, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return nil, diags
	}
	return f.Body.(*hclsyntax.Body), nil
}

// loadModule parses every *.tf file of tree/dir.
func loadModule(tree, dir string) (*module, error) {
	files, err := filepath.Glob(filepath.Join(tree, dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .tf files in %s", dir)
	}
	sort.Strings(files)
	m := &module{
		Dir:       dir,
		Variables: map[string]*variable{},
		Locals:    map[string]*hclsyntax.Attribute{},
		Outputs:   map[string]*hclsyntax.Body{},
	}
	for _, path := range files {
		body, err := parseHCLFile(path)
		if err != nil {
			return nil, err
		}
		for _, b := range body.Blocks {
			switch b.Type {
			case "variable":
				v, err := parseVariable(b)
				if err != nil {
					return nil, err
				}
				m.Variables[v.Name] = v
			case "resource", "data":
				m.Resources = append(m.Resources, &resource{Kind: b.Type, Type: b.Labels[0], Name: b.Labels[1], Body: b.Body, Range: b.DefRange()})
			case "locals":
				for name, a := range b.Body.Attributes {
					m.Locals[name] = a
				}
			case "output":
				m.Outputs[b.Labels[0]] = b.Body
			case "terraform":
				m.Terraform = append(m.Terraform, b.Body)
			}
		}
	}
	return m, nil
}

func parseVariable(b *hclsyntax.Block) (*variable, error) {
	v := &variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, Default: cty.NilVal, Range: b.DefRange()}
	if a, ok := b.Body.Attributes["type"]; ok {
		t, diags := typeexpr.TypeConstraint(a.Expr)
		if diags.HasErrors() {
			return nil, diags
		}
		v.Type = t
	}
	if a, ok := b.Body.Attributes["default"]; ok {
		val, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diags
		}
		v.Default = val
	}
	for _, vb := range b.Body.Blocks {
		if vb.Type != "validation" {
			continue
		}
		c, okC := vb.Body.Attributes["condition"]
		msg, okM := vb.Body.Attributes["error_message"]
		if !okC || !okM {
			return nil, fmt.Errorf("%s: validation needs condition and error_message", vb.DefRange())
		}
		v.Validations = append(v.Validations, validation{Condition: c.Expr, Message: msg.Expr, Range: vb.DefRange()})
	}
	return v, nil
}

// tfvarsFile is one environments/<env>.tfvars.
type tfvarsFile struct {
	Path  string // tree-relative
	Env   string // file stem
	Attrs map[string]*hclsyntax.Attribute
}

func (f *tfvarsFile) value(key string) (cty.Value, bool) {
	a, ok := f.Attrs[key]
	if !ok {
		return cty.NilVal, false
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	return v, true
}

func (f *tfvarsFile) line(key string) int {
	if a, ok := f.Attrs[key]; ok {
		return a.SrcRange.Start.Line
	}
	return 1
}

func loadTfvars(tree string) ([]*tfvarsFile, error) {
	paths, err := filepath.Glob(filepath.Join(tree, "environments", "*.tfvars"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no environments/*.tfvars in %s", tree)
	}
	sort.Strings(paths)
	var out []*tfvarsFile
	for _, p := range paths {
		body, err := parseHCLFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, &tfvarsFile{
			Path:  rel(tree, p),
			Env:   strings.TrimSuffix(filepath.Base(p), ".tfvars"),
			Attrs: body.Attributes,
		})
	}
	return out, nil
}

// ---------------------------------------------------------------- functions --

func stringPredicate(name string, f func(s, sub string) bool) function.Function {
	return function.New(&function.Spec{
		Description: name,
		Params: []function.Parameter{
			{Name: "str", Type: cty.String},
			{Name: "sub", Type: cty.String},
		},
		Type: function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(f(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// functions is the subset of Terraform's functions these checks provide.
// Conditions calling anything else are skipped (and counted).
func functions() map[string]function.Function {
	return map[string]function.Function{
		"can":         tryfunc.CanFunc,
		"try":         tryfunc.TryFunc,
		"regex":       stdlib.RegexFunc,
		"regexall":    stdlib.RegexAllFunc,
		"length":      stdlib.LengthFunc,
		"contains":    stdlib.ContainsFunc,
		"floor":       stdlib.FloorFunc,
		"max":         stdlib.MaxFunc,
		"min":         stdlib.MinFunc,
		"split":       stdlib.SplitFunc,
		"join":        stdlib.JoinFunc,
		"lower":       stdlib.LowerFunc,
		"upper":       stdlib.UpperFunc,
		"format":      stdlib.FormatFunc,
		"keys":        stdlib.KeysFunc,
		"replace":     stdlib.ReplaceFunc,
		"jsonencode":  stdlib.JSONEncodeFunc,
		"tostring":    stdlib.MakeToFunc(cty.String),
		"tonumber":    stdlib.MakeToFunc(cty.Number),
		"toset":       stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"startswith":  stringPredicate("startswith", strings.HasPrefix),
		"endswith":    stringPredicate("endswith", strings.HasSuffix),
		"strcontains": stringPredicate("strcontains", strings.Contains),
	}
}

// unsupportedCalls lists functions an expression calls that functions() lacks.
func unsupportedCalls(expr hcl.Expression) []string {
	fns := functions()
	var missing []string
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil
	}
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			if _, ok := fns[call.Name]; !ok {
				missing = append(missing, call.Name)
			}
		}
		return nil
	})
	return missing
}

// varValues builds var.* for a root from a tfvars file plus defaults, with
// overrides applied last. Values are converted to the declared types.
func varValues(m *module, f *tfvarsFile, overrides map[string]cty.Value) map[string]cty.Value {
	vals := map[string]cty.Value{}
	for name, v := range m.Variables {
		val := v.Default
		if f != nil {
			if fv, ok := f.value(name); ok {
				val = fv
			}
		}
		if o, ok := overrides[name]; ok {
			val = o
		}
		if val == cty.NilVal {
			val = cty.UnknownVal(v.Type)
		} else if conv, err := convert.Convert(val, v.Type); err == nil {
			val = conv
		}
		vals[name] = val
	}
	return vals
}

// evalContext returns var.*, local.* (those computable without providers),
// count.index and each.key for name evaluation.
func evalContext(m *module, vars map[string]cty.Value) *hcl.EvalContext {
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":   cty.ObjectVal(vars),
			"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(0)}),
			"each":  cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal("eachkey"), "value": cty.DynamicVal}),
		},
		Functions: functions(),
	}
	locals := map[string]cty.Value{}
	for pass := 0; pass <= len(m.Locals); pass++ {
		progress := false
		ctx.Variables["local"] = cty.ObjectVal(locals)
		for name, a := range m.Locals {
			if _, done := locals[name]; done {
				continue
			}
			v, diags := a.Expr.Value(ctx)
			if diags.HasErrors() || !v.IsWhollyKnown() {
				continue
			}
			locals[name] = v
			progress = true
		}
		if !progress {
			break
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)
	return ctx
}

// isReference reports whether expr is a bare reference to another resource or
// data source (e.g. bucket = aws_s3_bucket.lakehouse.id): such attributes
// point at a name defined elsewhere rather than defining one.
func isReference(expr hcl.Expression) bool {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return false
	}
	switch st.Traversal.RootName() {
	case "var", "local", "each", "count":
		return false
	}
	return true
}

func loadModules(tree string) (map[string]*module, error) {
	mods := map[string]*module{}
	for _, r := range cloudRoots {
		m, err := loadModule(tree, r)
		if err != nil {
			return nil, err
		}
		mods[r] = m
	}
	return mods, nil
}

// treeDirs are what a tree holds: the roots, the environments and the
// Dagster deployment files the roots read with file().
var treeDirs = append(append([]string{}, cloudRoots...), "environments", "dagster/deploy")

// copyTree copies the treeDirs of src into a new directory.
func copyTree(src, dst string) error {
	for _, dir := range treeDirs {
		root := filepath.Join(src, dir)
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			r, err := filepath.Rel(src, path)
			if err != nil {
				return err
			}
			target := filepath.Join(dst, r)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
