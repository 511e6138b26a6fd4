package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iancoleman/strcase"
)

// callFlags are the flags the `dagger call` command line defines itself:
// the root command's persistent flags and those of the call command. A
// module argument with the same kebab-case name makes the CLI stop with
// "flag already exists: <name>" before the module is reached, while
// `dagger call <fn> --help` still renders.
//
// Source: github.com/dagger/dagger at v0.21.8 (the newest tagged CLI source
// available here; v0.21.9 changed no flag definitions that we could find):
// cmd/dagger/main.go (root persistent flags), cmd/dagger/flags.go and
// cmd/dagger/functions.go (module and call flags). Keep this list the only
// copy; the before-stop hook in shared/ mirrors it for reviewers.
var callFlags = []string{
	"help", "workdir", "verbose", "quiet", "silent", "debug", "progress",
	"lock", "interactive", "interactive-command", "web", "no-exit",
	"auto-apply", "x-release", "dot-output", "dot-focus-field",
	"dot-show-internal", "cloud", "scale-out", "json", "output", "mod",
	"no-mod", "allow-llm", "eager-runtime",
}

// cliName is the flag an argument gets: the engine names arguments in
// lowerCamel case and the CLI turns that into kebab case (strcase, as the
// CLI does).
func cliName(goName string) string {
	return strcase.ToKebab(strcase.ToLowerCamel(goName))
}

// FlagCollisions reports every constructor or function argument of the
// module in dir whose CLI flag name is already a `dagger call` flag.
func FlagCollisions(dir string) ([]string, error) {
	taken := map[string]bool{}
	for _, f := range callFlags {
		taken[f] = true
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var problems []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") || filepath.Base(path) == "dagger.gen.go" {
			continue
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || !isAPIFunction(fn) {
				continue
			}
			for _, field := range fn.Type.Params.List {
				if isContext(field.Type) {
					continue
				}
				for _, name := range field.Names {
					flag := cliName(name.Name)
					if !taken[flag] {
						continue
					}
					pos := fset.Position(name.Pos())
					rel, _ := filepath.Rel(dir, pos.Filename)
					problems = append(problems, fmt.Sprintf("%s:%d: argument %s of %s becomes --%s, a flag `dagger call` already defines (the CLI fails with \"flag already exists: %s\"): rename it",
						rel, pos.Line, name.Name, fn.Name.Name, flag, flag))
				}
			}
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// isAPIFunction reports whether fn becomes part of the module's API: the
// constructor New, or an exported method of an exported type.
func isAPIFunction(fn *ast.FuncDecl) bool {
	if fn.Recv == nil {
		return fn.Name.Name == "New"
	}
	if !fn.Name.IsExported() || len(fn.Recv.List) == 0 {
		return false
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

func isContext(t ast.Expr) bool {
	sel, ok := t.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "context" && sel.Sel.Name == "Context"
}
