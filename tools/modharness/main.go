// Command modharness compiles, vets and tests the Dagger module in .dagger
// without a Dagger engine.
//
// The engine normally generates .dagger/dagger.gen.go and
// .dagger/internal/dagger; they are gitignored. modharness produces stand-ins
// from the published Go SDK (type aliases of its exported API, rendered from
// the same template as the generated bindings) in a temporary directory and
// hands them to the go command with -overlay, so nothing in the tree changes.
// A module function that misuses the SDK therefore fails to compile here.
//
// Usage:
//
//	go run ./tools/modharness test [go test flags]   # static checks, vet, tests
//	go run ./tools/modharness gen DIR                # write the stand-ins under DIR
//	go run ./tools/modharness resolve                # resolve go.mod as the engine does ([-write])
//	go run ./tools/modharness record-imports         # after dagger develop: record the bindings' imports
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	root, err := findRoot(".")
	if err != nil {
		fail(err)
	}
	switch os.Args[1] {
	case "test":
		err = Run(Options{Root: root, TestArgs: os.Args[2:], Stdout: os.Stdout, Stderr: os.Stderr})
	case "resolve":
		write := len(os.Args) == 3 && os.Args[2] == "-write"
		if len(os.Args) > 3 || (len(os.Args) == 3 && !write) {
			usage()
		}
		err = Resolve(Options{Root: root, Stdout: os.Stdout, Stderr: os.Stderr}, write)
	case "record-imports":
		err = recordImports(root)
	case "gen":
		if len(os.Args) != 3 {
			usage()
		}
		var mod *Module
		if mod, err = LoadModule(root); err == nil {
			err = mod.WriteStandIns(os.Args[2])
		}
	default:
		usage()
	}
	if err != nil {
		fail(err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: modharness test [go test flags] | modharness gen DIR | modharness resolve [-write] | modharness record-imports")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "modharness:", err)
	os.Exit(1)
}

// recordImports rewrites generated_imports.txt from the bindings a real
// engine generated in the module (dagger develop).
func recordImports(root string) error {
	mod, err := LoadModule(root)
	if err != nil {
		return err
	}
	imports, err := RecordGeneratedImports(mod)
	if err != nil {
		return err
	}
	header := generatedImportsFile[:strings.Index(generatedImportsFile, "\n"+GeneratedImports()[0])+1]
	path := filepath.Join(root, "tools", "modharness", "generated_imports.txt")
	if err := os.WriteFile(path, []byte(header+strings.Join(imports, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("recorded %d imports of the generated bindings in %s\n", len(imports), path)
	return nil
}
