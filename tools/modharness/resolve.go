package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// The engine loads a Go module by generating its bindings, merging the Go
// SDK's requirements into go.mod, `go get dagger.io/dagger@<version>` and
// `go mod tidy` against the Go module proxy. A package the bindings import
// that go.mod does not require is resolved to the proxy's newest version
// there and then, so a module that compiled yesterday can stop compiling
// today (github.com/dagger/otel-go 1.47 needs OpenTelemetry 1.47, whose
// otel/log the SDK pins to v0.16: an import cycle). Resolve repeats the
// engine's steps on a copy and refuses any version the committed go.mod
// does not already decide.

// generatedImportsFile lists the non-standard packages the engine's
// generated bindings import (one per line), as recorded from a real
// engine's `dagger develop` by `modharness record-imports`.
//
//go:embed generated_imports.txt
var generatedImportsFile string

// GeneratedImports are the packages of generatedImportsFile.
func GeneratedImports() []string {
	var out []string
	for _, line := range strings.Split(generatedImportsFile, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// Drift is a requirement the engine's resolution decides differently from
// the committed go.mod.
type Drift struct {
	Path      string
	Committed string // "" when go.mod does not require it
	Resolved  string
}

func (d Drift) String() string {
	if d.Committed == "" {
		return fmt.Sprintf("%s: not required by go.mod; the engine's go mod tidy takes %s from the proxy", d.Path, d.Resolved)
	}
	return fmt.Sprintf("%s: go.mod requires %s; the engine's resolution moves it to %s", d.Path, d.Committed, d.Resolved)
}

// ResolveError says which requirements the engine would pick on its own.
type ResolveError struct {
	Drifts        []Drift
	EngineVersion string
}

func (e *ResolveError) Error() string {
	var b strings.Builder
	b.WriteString("the engine would resolve .dagger/go.mod differently from what is committed, so what it builds depends on the day:\n")
	for _, d := range e.Drifts {
		b.WriteString("  - " + d.String() + "\n")
	}
	fmt.Fprintf(&b, "Require each at the version Dagger %s itself uses (github.com/dagger/dagger's go.mod at that tag), run `go mod tidy` in a tree where `dagger develop` generated the bindings, and run `go run ./tools/modharness resolve` again (README: \"Updating the module's pins\").", e.EngineVersion)
	return b.String()
}

// Resolve does what the engine does to the module's go.mod before it
// builds it, in a temporary copy, and fails when that resolution differs
// from the committed go.mod or the result does not build and vet. With
// write, a resolution that builds and vets is written back to .dagger's
// go.mod and go.sum instead (after pinning a new requirement by hand).
func Resolve(opts Options, write bool) error {
	mod, err := LoadModule(opts.Root)
	if err != nil {
		return err
	}
	imports := GeneratedImports()
	if len(imports) == 0 {
		return errors.New("tools/modharness/generated_imports.txt lists no packages: record them with `go run ./tools/modharness record-imports` after `dagger develop`")
	}
	tmp, err := os.MkdirTemp("", "modharness-resolve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	work, err := engineContext(mod, filepath.Join(tmp, "context"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "zz_generated_imports.go"), importsFile(imports), 0o644); err != nil {
		return err
	}
	committedPath := filepath.Join(work, "go.mod")
	committed, err := os.ReadFile(committedPath)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	run := func(args ...string) error {
		out.Reset()
		cmd := exec.Command("go", args...)
		cmd.Dir = work
		// -mod=mod: the engine lets go get and tidy edit go.mod.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.ReplaceAll(out.String(), work, mod.Dir))
		}
		return nil
	}
	sdkVersion, err := requiredVersion(committed, "dagger.io/dagger")
	if err != nil {
		return err
	}
	sdkGoMod, err := downloadGoMod(work, "dagger.io/dagger@"+sdkVersion)
	if err != nil {
		return err
	}
	merged, err := mergeSDKRequirements(committed, sdkGoMod)
	if err != nil {
		return err
	}
	if err := os.WriteFile(committedPath, merged, 0o644); err != nil {
		return err
	}
	if err := run("get", "dagger.io/dagger@"+sdkVersion); err != nil {
		return err
	}
	if err := run("mod", "tidy"); err != nil {
		return err
	}
	resolved, err := os.ReadFile(committedPath)
	if err != nil {
		return err
	}
	drifts, err := compareRequirements(committed, resolved)
	if err != nil {
		return err
	}
	if len(drifts) > 0 && !write {
		return &ResolveError{Drifts: drifts, EngineVersion: engineVersion(opts.Root)}
	}
	if err := run("build", "./..."); err != nil {
		return fmt.Errorf("the module does not build as the engine resolves it: %w", err)
	}
	if err := run("vet", "./..."); err != nil {
		return fmt.Errorf("go vet of the module as the engine resolves it: %w", err)
	}
	if write {
		return writeResolution(opts, mod, resolved, filepath.Join(work, "go.sum"), drifts)
	}
	fmt.Fprintf(opts.Stdout, "modharness resolve: the engine's resolution (%d generated imports, dagger.io/dagger %s, go mod tidy) keeps .dagger/go.mod as committed; the module builds and vets\n", len(imports), sdkVersion)
	return nil
}

// importsFile is a file of package main importing every generated import,
// standing in for the bindings' import blocks.
func importsFile(imports []string) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by modharness resolve: the imports of the engine's bindings.\n\npackage main\n\nimport (\n")
	for _, p := range imports {
		fmt.Fprintf(&b, "\t_ %q\n", p)
	}
	b.WriteString(")\n")
	return b.Bytes()
}

func requiredVersion(gomod []byte, path string) (string, error) {
	mf, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil {
		return "", err
	}
	for _, r := range mf.Require {
		if r.Mod.Path == path {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf(".dagger/go.mod does not require %s", path)
}

// downloadGoMod returns the go.mod of module@version from the module cache
// (downloading it through the proxy when missing).
func downloadGoMod(dir, modVersion string) ([]byte, error) {
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download %s: %w\n%s%s", modVersion, err, raw, stderr.String())
	}
	var info struct{ GoMod, Error string }
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("go mod download %s: %w", modVersion, err)
	}
	if info.Error != "" || info.GoMod == "" {
		return nil, fmt.Errorf("go mod download %s: %s", modVersion, info.Error)
	}
	return os.ReadFile(info.GoMod)
}

// mergeSDKRequirements raises the module's requirements to the SDK's where
// they are lower and adds the SDK's replace directives for modules the
// module requires, as the engine's Go code generation does.
func mergeSDKRequirements(module, sdk []byte) ([]byte, error) {
	mf, err := modfile.Parse("go.mod", module, nil)
	if err != nil {
		return nil, err
	}
	sf, err := modfile.Parse("sdk go.mod", sdk, nil)
	if err != nil {
		return nil, err
	}
	have := map[string]string{}
	for _, r := range mf.Require {
		have[r.Mod.Path] = r.Mod.Version
	}
	for _, r := range sf.Require {
		if v, ok := have[r.Mod.Path]; ok && semver.Compare(v, r.Mod.Version) >= 0 {
			continue
		}
		mf.AddNewRequire(r.Mod.Path, r.Mod.Version, r.Indirect)
		have[r.Mod.Path] = r.Mod.Version
	}
	for _, r := range sf.Replace {
		if _, ok := have[r.New.Path]; !ok {
			continue
		}
		if err := mf.AddReplace(r.Old.Path, r.Old.Version, r.New.Path, r.New.Version); err != nil {
			return nil, err
		}
	}
	mf.Cleanup()
	return mf.Format()
}

// compareRequirements lists the requirements of resolved that committed
// lacks or requires at another version. Requirements the resolution drops
// are not drifts: they no longer take part in the build.
func compareRequirements(committed, resolved []byte) ([]Drift, error) {
	cf, err := modfile.ParseLax("committed go.mod", committed, nil)
	if err != nil {
		return nil, err
	}
	rf, err := modfile.ParseLax("resolved go.mod", resolved, nil)
	if err != nil {
		return nil, err
	}
	have := map[string]string{}
	for _, r := range cf.Require {
		have[r.Mod.Path] = r.Mod.Version
	}
	var drifts []Drift
	for _, r := range rf.Require {
		if v := have[r.Mod.Path]; v != r.Mod.Version {
			drifts = append(drifts, Drift{Path: r.Mod.Path, Committed: v, Resolved: r.Mod.Version})
		}
	}
	sort.Slice(drifts, func(i, j int) bool { return drifts[i].Path < drifts[j].Path })
	return drifts, nil
}

// engineVersion is dagger.json's engineVersion ("the pinned engine" when unreadable).
func engineVersion(root string) string {
	raw, err := os.ReadFile(filepath.Join(root, "dagger.json"))
	if err == nil {
		var cfg struct {
			EngineVersion string `json:"engineVersion"`
		}
		if json.Unmarshal(raw, &cfg) == nil && cfg.EngineVersion != "" {
			return cfg.EngineVersion
		}
	}
	return "(dagger.json engineVersion)"
}

// RecordGeneratedImports reads the bindings `dagger develop` generated in
// the module directory and returns the non-standard packages they import
// from outside the module, sorted.
func RecordGeneratedImports(mod *Module) ([]string, error) {
	files := []string{filepath.Join(mod.Dir, "dagger.gen.go")}
	for _, dir := range []string{"internal/dagger", "internal/querybuilder", "internal/telemetry"} {
		matches, _ := filepath.Glob(filepath.Join(mod.Dir, dir, "*.go"))
		files = append(files, matches...)
	}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		parsed, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			if os.IsNotExist(errors.Unwrap(err)) || errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%s is missing: run `dagger develop` (a real engine) to generate the bindings first", f)
			}
			return nil, err
		}
		for _, imp := range parsed.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			first, _, _ := strings.Cut(p, "/")
			if !strings.Contains(first, ".") || p == mod.ImportPath || strings.HasPrefix(p, mod.ImportPath+"/") {
				continue
			}
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// writeResolution writes the resolved requirements as go.mod (one block
// of direct and one of indirect requirements, the module's own replace
// directives, which the copy made absolute) and the resolved go.sum.
func writeResolution(opts Options, mod *Module, resolved []byte, resolvedSum string, drifts []Drift) error {
	path := filepath.Join(mod.Dir, "go.mod")
	original, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	of, err := modfile.Parse(path, original, nil)
	if err != nil {
		return err
	}
	rf, err := modfile.Parse(path, resolved, nil)
	if err != nil {
		return err
	}
	sort.Slice(rf.Require, func(i, j int) bool { return rf.Require[i].Mod.Path < rf.Require[j].Mod.Path })
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo %s\n", of.Module.Mod.Path, rf.Go.Version)
	for _, indirect := range []bool{false, true} {
		b.WriteString("\nrequire (\n")
		for _, r := range rf.Require {
			if r.Indirect != indirect {
				continue
			}
			fmt.Fprintf(&b, "\t%s %s", r.Mod.Path, r.Mod.Version)
			if indirect {
				b.WriteString(" // indirect")
			}
			b.WriteString("\n")
		}
		b.WriteString(")\n")
	}
	for _, r := range of.Replace {
		b.WriteString("\nreplace " + r.Old.Path)
		if r.Old.Version != "" {
			b.WriteString(" " + r.Old.Version)
		}
		b.WriteString(" => " + r.New.Path)
		if r.New.Version != "" {
			b.WriteString(" " + r.New.Version)
		}
		b.WriteString("\n")
	}
	written, err := modfile.Parse(path, []byte(b.String()), nil)
	if err != nil {
		return fmt.Errorf("modharness wrote an unparsable go.mod: %w", err)
	}
	out, err := written.Format()
	if err != nil {
		return err
	}
	sum, err := os.ReadFile(resolvedSum)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(mod.Dir, "go.sum"), sum, 0o644); err != nil {
		return err
	}
	for _, d := range drifts {
		fmt.Fprintln(opts.Stdout, "  "+d.String())
	}
	fmt.Fprintf(opts.Stdout, "modharness resolve -write: .dagger/go.mod and go.sum now hold the engine's resolution (%d changed requirements)\n", len(drifts))
	return nil
}
