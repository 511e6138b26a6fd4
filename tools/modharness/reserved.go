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

// reservedNames are API names the engine reserves on every object: a module
// object with a field or function of that name fails to load ("id" is the
// object ID every type has). Found on a real engine: a Release.ID field made
// `dagger functions` fail. Source: dagger v0.21.8 core/module.go (reserved
// field names of module objects).
var reservedNames = map[string]bool{"id": true}

// ReservedNameUses reports exported fields and methods of the module's
// exported types whose API name is reserved.
func ReservedNameUses(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var problems []string
	report := func(pos token.Pos, what, name string) {
		p := fset.Position(pos)
		rel, _ := filepath.Rel(dir, p.Filename)
		problems = append(problems, fmt.Sprintf("%s:%d: %s becomes the API name %q, which the engine reserves: rename it",
			rel, p.Line, what, strcase.ToLowerCamel(name)))
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") || filepath.Base(path) == "dagger.gen.go" {
			continue
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, f := range st.Fields.List {
						for _, n := range f.Names {
							if n.IsExported() && reservedNames[strings.ToLower(strcase.ToLowerCamel(n.Name))] {
								report(n.Pos(), "field "+ts.Name.Name+"."+n.Name, n.Name)
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv != nil && isAPIFunction(d) && reservedNames[strings.ToLower(strcase.ToLowerCamel(d.Name.Name))] {
					report(d.Name.Pos(), "method "+d.Name.Name, d.Name.Name)
				}
			}
		}
	}
	sort.Strings(problems)
	return problems, nil
}
