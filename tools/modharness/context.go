package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// engineContext copies to dst what a real engine loads of the repository
// for the module: the files dagger.json's "include" names, plus the module
// source, whose go.mod keeps pointing into that copy. Resolving against the
// whole checkout instead hid a package the module's dependencies import in
// their tests but the include left out: the engine's go mod tidy then asked
// the proxy for it and every call failed. It returns the module's copy.
func engineContext(m *Module, dst string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(m.Root, "dagger.json"))
	if err != nil {
		return "", fmt.Errorf("read dagger.json: %w", err)
	}
	var cfg struct {
		Include []string `json:"include"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", fmt.Errorf("dagger.json: %w", err)
	}
	for _, pattern := range cfg.Include {
		if strings.HasPrefix(pattern, "!") {
			return "", fmt.Errorf("dagger.json include %q: modharness copies only plain paths and globs, not exclusions", pattern)
		}
		matches, err := filepath.Glob(filepath.Join(m.Root, pattern))
		if err != nil {
			return "", fmt.Errorf("dagger.json include %q: %w", pattern, err)
		}
		for _, src := range matches {
			if err := copyTree(src, filepath.Join(dst, mustRel(m.Root, src))); err != nil {
				return "", err
			}
		}
	}
	work := filepath.Join(dst, mustRel(m.Root, m.Dir))
	if err := m.mirror(work); err != nil {
		return "", err
	}
	if err := replacesInto(filepath.Join(work, "go.mod"), m.Root, dst); err != nil {
		return "", err
	}
	return work, nil
}

// replacesInto points local replace targets under root at the same paths
// under ctx.
func replacesInto(gomod, root, ctx string) error {
	raw, err := os.ReadFile(gomod)
	if err != nil {
		return err
	}
	mf, err := modfile.Parse(gomod, raw, nil)
	if err != nil {
		return err
	}
	for _, r := range mf.Replace {
		rel, err := filepath.Rel(root, r.New.Path)
		if r.New.Version != "" || err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		if err := mf.AddReplace(r.Old.Path, r.Old.Version, filepath.Join(ctx, rel), ""); err != nil {
			return err
		}
	}
	out, err := mf.Format()
	if err != nil {
		return err
	}
	return os.WriteFile(gomod, out, 0o644)
}

// copyTree copies a file or a directory, leaving out virtualenvs and caches.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, mustRel(src, path))
		if d.IsDir() {
			if name := d.Name(); strings.HasPrefix(name, ".venv") || name == "__pycache__" || name == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, raw, 0o644)
	})
}

func mustRel(base, path string) string {
	rel, err := filepath.Rel(base, path)
	if err != nil {
		return path
	}
	return rel
}
