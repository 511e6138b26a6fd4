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
package main

import (
	"fmt"
	"os"
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
	fmt.Fprintln(os.Stderr, "usage: modharness test [go test flags] | modharness gen DIR")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "modharness:", err)
	os.Exit(1)
}
