package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// forbidden are calls that compile against the SDK but are wrong inside a
// module; the engine would not catch them until a user runs the function.
var forbidden = []struct {
	receiver string // "" matches any receiver
	method   string
	why      string
}{
	{"dag", "Host", "module bindings have no Host(); take host files as *dagger.Directory/*dagger.File arguments (+defaultPath)"},
	{"dag", "SetSecret", "SetSecret puts the plaintext into the query; take a *dagger.Secret argument instead"},
	{"", "Plaintext", "Secret.Plaintext pulls the secret into the function; pass the *dagger.Secret on (WithSecretVariable, WithMountedSecret)"},
	{"", "Export", "Export inside a module writes into the function's own container; return the Directory or File and let the caller export it"},
}

// StaticCheck reports file:line problems in the module's non-test code.
func StaticCheck(dir string) ([]string, error) {
	fset := token.NewFileSet()
	var problems []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			if rel == filepath.Join("internal", "dagger") || d.Name() == "testdata" || (strings.HasPrefix(d.Name(), ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || d.Name() == "dagger.gen.go" {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			for _, f := range forbidden {
				if sel.Sel.Name != f.method {
					continue
				}
				if f.receiver != "" {
					if id, ok := sel.X.(*ast.Ident); !ok || id.Name != f.receiver {
						continue
					}
				}
				pos := fset.Position(call.Pos())
				rel, _ := filepath.Rel(dir, pos.Filename)
				problems = append(problems, fmt.Sprintf("%s:%d: %s", rel, pos.Line, f.why))
			}
			return true
		})
		return nil
	})
	sort.Strings(problems)
	return problems, err
}
