package infra

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// lockedProvider is one provider block of a .terraform.lock.hcl.
type lockedProvider struct {
	Version string
	Hashes  int
	Line    int
}

// readLockFile parses a dependency lock file: provider "<address>" blocks
// with version, constraints and hashes.
func readLockFile(path string) (map[string]lockedProvider, error) {
	body, err := parseHCLFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]lockedProvider{}
	for _, b := range body.Blocks {
		if b.Type != "provider" || len(b.Labels) != 1 {
			continue
		}
		p := lockedProvider{Line: b.DefRange().Start.Line}
		if a, ok := b.Body.Attributes["version"]; ok {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, diags
			}
			p.Version = v.AsString()
		}
		if a, ok := b.Body.Attributes["hashes"]; ok {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, diags
			}
			p.Hashes = v.LengthInt()
		}
		out[b.Labels[0]] = p
	}
	return out, nil
}

// requiredProvider is one entry of a root's required_providers.
type requiredProvider struct {
	Name, Address, Constraint string
	Range                     hcl.Range
}

// requiredProviders returns the root's required_providers, keyed by the
// registry address the lock file uses ("registry.terraform.io/hashicorp/aws").
func requiredProviders(m *module) (map[string]requiredProvider, error) {
	out := map[string]requiredProvider{}
	for _, tb := range m.Terraform {
		for _, b := range tb.Blocks {
			if b.Type != "required_providers" {
				continue
			}
			for name, a := range b.Body.Attributes {
				v, diags := a.Expr.Value(nil)
				if diags.HasErrors() {
					return nil, diags
				}
				source := v.GetAttr("source").AsString()
				addr := source
				if strings.Count(source, "/") == 1 {
					addr = "registry.terraform.io/" + source
				}
				out[strings.ToLower(addr)] = requiredProvider{Name: name, Address: addr, Constraint: v.GetAttr("version").AsString(), Range: a.SrcRange}
			}
		}
	}
	return out, nil
}

// checkLockFiles reports, for every cloud root that has a committed lock
// file, each required provider the lock does not cover or locks at a
// version outside the root's constraint, and lock entries no root needs.
// It returns the roots that have no lock file.
func checkLockFiles(tree string) ([]problem, []string, error) {
	mods, err := loadModules(tree)
	if err != nil {
		return nil, nil, err
	}
	var (
		problems []problem
		unlocked []string
	)
	for _, root := range cloudRoots {
		lockRel := terraform.Cloud(root).LockFile()
		if _, err := os.Stat(filepath.Join(tree, lockRel)); os.IsNotExist(err) {
			unlocked = append(unlocked, root)
			continue
		}
		locked, err := readLockFile(filepath.Join(tree, lockRel))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", lockRel, err)
		}
		required, err := requiredProviders(mods[root])
		if err != nil {
			return nil, nil, err
		}
		fix := fmt.Sprintf("run `terraform -chdir=%s providers lock -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_arm64` and commit %s", root, lockRel)
		for _, addr := range sortedKeys(required) {
			req := required[addr]
			where := rel(tree, req.Range.Filename)
			lock, ok := locked[addr]
			if !ok {
				problems = append(problems, problem{where, req.Range.Start.Line, fmt.Sprintf("provider %s (%s) is not in %s: init -lockfile=readonly will fail; %s", req.Name, req.Address, lockRel, fix)})
				continue
			}
			c, err := version.NewConstraint(req.Constraint)
			if err != nil {
				problems = append(problems, problem{where, req.Range.Start.Line, fmt.Sprintf("provider %s: version constraint %q: %v", req.Name, req.Constraint, err)})
				continue
			}
			v, err := version.NewVersion(lock.Version)
			switch {
			case err != nil:
				problems = append(problems, problem{lockRel, lock.Line, fmt.Sprintf("provider %s: locked version %q: %v", req.Address, lock.Version, err)})
			case !c.Check(v):
				problems = append(problems, problem{lockRel, lock.Line, fmt.Sprintf("provider %s is locked at %s, outside %s's constraint %q (%s:%d); %s", req.Address, lock.Version, root, req.Constraint, where, req.Range.Start.Line, fix)})
			}
			if lock.Hashes == 0 {
				problems = append(problems, problem{lockRel, lock.Line, fmt.Sprintf("provider %s has no hashes: init cannot verify the package; %s", req.Address, fix)})
			}
		}
		stale := make([]string, 0, len(locked))
		for addr := range locked {
			if _, ok := required[strings.ToLower(addr)]; !ok {
				stale = append(stale, addr)
			}
		}
		sort.Strings(stale)
		for _, addr := range stale {
			problems = append(problems, problem{lockRel, locked[addr].Line, fmt.Sprintf("provider %s is locked but %s does not require it; %s", addr, root, fix)})
		}
	}
	return problems, unlocked, nil
}

func TestCommittedLockFilesCoverEveryRequiredProvider(t *testing.T) {
	problems, unlocked, err := checkLockFiles(repoRoot(t))
	require.NoError(t, err)
	assert.Empty(t, problems, problemsText(problems))
	// aws's providers are available to lock; keep its lock committed.
	assert.NotContains(t, unlocked, "aws", "%s must be committed: the pipeline inits with -lockfile=readonly", terraform.AWS.LockFile())
	for _, root := range unlocked {
		t.Logf("%s: no lock file committed; %v", root, terraform.MissingLockError(terraform.Cloud(root)))
	}
}

func TestLockFileCheckReportsGapsWithFileAndLine(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(t *testing.T, tree string)
		file    string
		lineOf  string
		message string
	}{
		{
			name: "provider outside the lock",
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "aws/versions.tf", "  required_providers {\n", "  required_providers {\n    random = {\n      source  = \"hashicorp/random\"\n      version = \"~> 3.6\"\n    }\n")
			},
			file: "aws/versions.tf", lineOf: "random = {",
			message: "provider random (registry.terraform.io/hashicorp/random) is not in aws/.terraform.lock.hcl",
		},
		{
			name: "constraint the locked version does not meet",
			mutate: func(t *testing.T, tree string) {
				edit(t, tree, "aws/versions.tf", `version = ">= 5.100, < 7.0"`, `version = "~> 6.0"`)
			},
			file: "aws/.terraform.lock.hcl", lineOf: `provider "registry.terraform.io/hashicorp/aws"`,
			message: `is locked at 5.100.0, outside aws's constraint "~> 6.0"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := tempTree(t, func(tree string) { tc.mutate(t, tree) })
			problems, _, err := checkLockFiles(tree)
			require.NoError(t, err)
			require.Len(t, problems, 1, problemsText(problems))
			assert.Equal(t, tc.file, problems[0].File)
			assert.Equal(t, lineOf(t, tree, tc.file, tc.lineOf), problems[0].Line)
			assert.Contains(t, problems[0].Msg, tc.message)
			assert.Contains(t, problems[0].Msg, "providers lock")
		})
	}
}
