package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// Module is the Dagger module described by dagger.json at Root.
type Module struct {
	Root       string // repository root holding dagger.json
	Dir        string // module source directory (dagger.json "source")
	Name       string // dagger.json "name"
	ImportPath string // module path in Dir/go.mod
}

// LoadModule reads dagger.json and the module's go.mod and checks that they
// agree as the engine requires (module path dagger/<kebab name>).
func LoadModule(root string) (*Module, error) {
	raw, err := os.ReadFile(filepath.Join(root, "dagger.json"))
	if err != nil {
		return nil, fmt.Errorf("read dagger.json: %w", err)
	}
	var cfg struct {
		Name   string `json:"name"`
		Source string `json:"source"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("dagger.json: %w", err)
	}
	if cfg.Name == "" || cfg.Source == "" {
		return nil, errors.New("dagger.json: name and source are required")
	}
	dir := filepath.Join(root, cfg.Source)
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("read module go.mod: %w", err)
	}
	mf, err := modfile.ParseLax(filepath.Join(dir, "go.mod"), gomod, nil)
	if err != nil {
		return nil, err
	}
	if mf.Module == nil {
		return nil, fmt.Errorf("%s/go.mod has no module line", cfg.Source)
	}
	want := "dagger/" + kebab(cfg.Name)
	if mf.Module.Mod.Path != want {
		return nil, fmt.Errorf("%s/go.mod: module path is %q; the engine requires %q for dagger.json name %q", cfg.Source, mf.Module.Mod.Path, want, cfg.Name)
	}
	return &Module{Root: root, Dir: dir, Name: cfg.Name, ImportPath: mf.Module.Mod.Path}, nil
}

// WriteStandIns writes the generated bindings and the package main stub
// into dir at the paths where the engine would generate them.
func (m *Module) WriteStandIns(dir string) error {
	sdk, err := loadSDK(m.Dir, nil)
	if err != nil {
		return err
	}
	bindings, err := renderBindings(sdk)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "internal", "dagger"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "internal", "dagger", "dagger.gen.go"), bindings, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "dagger.gen.go"), renderMainStub(m.ImportPath), 0o644)
}

// mirror copies the module source to dst with the stand-ins in place of the
// engine-generated files. go vet needs the bindings package on disk (it runs
// in each package's directory), and the tree must stay untouched, so the
// harness works on a copy. The copy's go.mod points its relative replace
// directives back at the repository.
func (m *Module) mirror(dst string) error {
	err := filepath.WalkDir(m.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(m.Dir, path)
		if d.IsDir() {
			if rel == filepath.Join("internal", "dagger") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if rel == "dagger.gen.go" || !d.Type().IsRegular() {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "go.mod" {
			if raw, err = absoluteReplaces(path, raw); err != nil {
				return err
			}
		}
		return os.WriteFile(filepath.Join(dst, rel), raw, 0o644)
	})
	if err != nil {
		return fmt.Errorf("copy module to %s: %w", dst, err)
	}
	return m.WriteStandIns(dst)
}

// absoluteReplaces rewrites local replace targets relative to gomodPath.
func absoluteReplaces(gomodPath string, raw []byte) ([]byte, error) {
	mf, err := modfile.Parse(gomodPath, raw, nil)
	if err != nil {
		return nil, err
	}
	for _, r := range mf.Replace {
		if r.New.Version != "" || filepath.IsAbs(r.New.Path) {
			continue
		}
		abs := filepath.Join(filepath.Dir(gomodPath), r.New.Path)
		if err := mf.AddReplace(r.Old.Path, r.Old.Version, abs, ""); err != nil {
			return nil, err
		}
	}
	return mf.Format()
}

// Options configure one harness run.
type Options struct {
	Root     string
	TestArgs []string // extra go test flags, e.g. -run X
	Stdout   io.Writer
	Stderr   io.Writer
}

// Run does what the engine would refuse at load time and what CI should
// refuse at review time: static checks, go vet and go test of the module.
func Run(opts Options) error {
	mod, err := LoadModule(opts.Root)
	if err != nil {
		return err
	}
	if problems, err := StaticCheck(mod.Dir); err != nil {
		return err
	} else if len(problems) > 0 {
		return fmt.Errorf("module code uses APIs that do not work inside a Dagger module:\n  %s", strings.Join(problems, "\n  "))
	}
	if problems, err := ReservedNameUses(mod.Dir); err != nil {
		return err
	} else if len(problems) > 0 {
		return fmt.Errorf("module objects use names the engine reserves:\n  %s", strings.Join(problems, "\n  "))
	}
	if problems, err := FlagCollisions(mod.Dir); err != nil {
		return err
	} else if len(problems) > 0 {
		return fmt.Errorf("module arguments collide with dagger call's own flags:\n  %s", strings.Join(problems, "\n  "))
	}
	tmp, err := os.MkdirTemp("", "modharness-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	work := filepath.Join(tmp, filepath.Base(mod.Dir))
	if err := mod.mirror(work); err != nil {
		return err
	}
	// Paths in compiler and test output point at the real files.
	stdout := &rewriter{w: opts.Stdout, old: work, new: mod.Dir}
	stderr := &rewriter{w: opts.Stderr, old: work, new: mod.Dir}
	defer stdout.Flush()
	defer stderr.Flush()
	run := func(args ...string) error {
		cmd := exec.Command("go", args...)
		cmd.Dir = work
		// Module tests read repository fixtures (plans, tfvars) from here.
		cmd.Env = append(goEnv(), "LAKEHOUSE_REPO_ROOT="+mod.Root)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		return cmd.Run()
	}
	if err := run("vet", "./..."); err != nil {
		return fmt.Errorf("go vet of the module: %w", err)
	}
	if err := run(append(append([]string{"test"}, opts.TestArgs...), "./...")...); err != nil {
		return fmt.Errorf("go test of the module: %w", err)
	}
	return nil
}

// goEnv keeps the module's go.mod authoritative: no workspace, no silent
// go.mod edits (the committed go.sum must be complete).
func goEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
}

func findRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "dagger.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no dagger.json found in this directory or any parent; run from the repository")
		}
		dir = parent
	}
}

// kebab mirrors the engine's strcase.ToKebab for the simple names we use:
// camelCase and snake_case become lower-kebab.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '_' || r == ' ':
			b.WriteByte('-')
		case r >= 'A' && r <= 'Z':
			if i > 0 && s[i-1] != '-' && s[i-1] != '_' {
				b.WriteByte('-')
			}
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
