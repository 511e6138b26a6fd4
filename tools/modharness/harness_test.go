package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// copyRepo copies what the module and its tests read (dagger.json, the root
// module, the module source without engine-generated files, the Terraform
// roots, environments, workflows and the Dagster project without its
// virtualenvs) to a temp dir.
func copyRepo(t *testing.T) string {
	t.Helper()
	root, err := findRoot(".")
	require.NoError(t, err)
	dst := t.TempDir()
	for _, rel := range []string{"dagger.json", "go.mod", "go.sum", "internal", "pipelines", ".dagger", "environments", "aws", "gcp", "ci-identity", "cmd", ".github", "dagster"} {
		src := filepath.Join(root, rel)
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(root, path)
			if d.IsDir() {
				if r == filepath.Join(".dagger", "internal", "dagger") || strings.HasPrefix(d.Name(), ".venv") ||
					d.Name() == "__pycache__" || d.Name() == ".soda" || d.Name() == ".terraform" {
					return filepath.SkipDir
				}
				return os.MkdirAll(filepath.Join(dst, r), 0o755)
			}
			if r == filepath.Join(".dagger", "dagger.gen.go") {
				return nil
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, r), raw, 0o644)
		})
		require.NoError(t, err)
	}
	return dst
}

func runHarness(t *testing.T, root string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := Run(Options{Root: root, TestArgs: args, Stdout: &out, Stderr: &out})
	return out.String(), err
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(raw), old, "mutation target missing in %s", path)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(raw), old, new, 1)), 0o644))
}

// The CLI names flags with strcase; these are the spellings our arguments use.
func TestCLINameFollowsTheCLIsKebabCase(t *testing.T) {
	for goName, want := range map[string]string{
		"cloud": "cloud", "lockID": "lock-id", "allowDestroy": "allow-destroy",
		"failOnDrift": "fail-on-drift", "registryMirror": "registry-mirror", "dotShowInternal": "dot-show-internal",
	} {
		require.Equal(t, want, cliName(goName), goName)
	}
}

func TestHarnessPassesTheModuleAsCommitted(t *testing.T) {
	root := copyRepo(t)
	out, err := runHarness(t, root, "-count=1")
	require.NoError(t, err, out)
	require.Contains(t, out, "ok  \tdagger/lakehouse")
}

func TestHarnessFailsWhenModuleCodeMisusesTheSDK(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(t *testing.T, moduleDir string)
		want   string
	}{
		{
			name: "a method the SDK does not have",
			mutate: func(t *testing.T, dir string) {
				editFile(t, filepath.Join(dir, "checks.go"), ".WithExec(", ".WithExecc(")
			},
			want: "WithExecc",
		},
		{
			name: "an option struct of the wrong type",
			mutate: func(t *testing.T, dir string) {
				editFile(t, filepath.Join(dir, "checks.go"),
					"dagger.ContainerWithExecOpts{UseEntrypoint: true}", "dagger.ContainerWithDirectoryOpts{}")
			},
			want: "ContainerWithDirectoryOpts",
		},
		{
			name: "a client-only API that module bindings lack",
			mutate: func(t *testing.T, dir string) {
				writeModuleFile(t, dir, "connect.go",
					"func connect(ctx context.Context) { _, _ = dagger.Connect(ctx) }", "context")
			},
			want: "undefined: dagger.Connect",
		},
		{
			name: "the host API that modules do not have",
			mutate: func(t *testing.T, dir string) {
				writeModuleFile(t, dir, "host.go", "func host() *dagger.Directory { return dag.Host().Directory(\".\") }")
			},
			want: "host.go:7: module bindings have no Host()",
		},
		{
			name: "a secret pulled into plaintext",
			mutate: func(t *testing.T, dir string) {
				writeModuleFile(t, dir, "leak.go",
					"func leak(ctx context.Context, s *dagger.Secret) string { v, _ := s.Plaintext(ctx); return v }", "context")
			},
			want: "leak.go:8: Secret.Plaintext",
		},
		{
			name: "a field the engine reserves",
			mutate: func(t *testing.T, dir string) {
				writeModuleFile(t, dir, "reserved.go", "type Thing struct {\n\tID string\n}")
			},
			want: "reserved.go:8: field Thing.ID becomes the API name \"id\"",
		},
		{
			name: "an argument named like a dagger call flag",
			mutate: func(t *testing.T, dir string) {
				writeModuleFile(t, dir, "flag.go",
					"func (m *Lakehouse) Regions(ctx context.Context, env string, cloud string) string { return env + cloud }", "context")
			},
			want: "flag.go:8: argument cloud of Regions becomes --cloud",
		},
		{
			name: "a constructor-style camelCase argument that kebabs into a flag",
			mutate: func(t *testing.T, dir string) {
				writeModuleFile(t, dir, "flag.go",
					"func (m *Lakehouse) Probe(dotOutput string) string { return dotOutput }")
			},
			want: "argument dotOutput of Probe becomes --dot-output",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := copyRepo(t)
			tc.mutate(t, filepath.Join(root, ".dagger"))
			out, err := runHarness(t, root, "-run", "^$")
			require.Error(t, err, "harness accepted broken module code")
			require.Contains(t, out+err.Error(), tc.want)
		})
	}
}

func writeModuleFile(t *testing.T, dir, name, body string, imports ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for _, imp := range imports {
		b.WriteString("\t\"" + imp + "\"\n")
	}
	b.WriteString("\t\"dagger/lakehouse/internal/dagger\"\n)\n\n" + body + "\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644))
}

func TestBindingsLeaveOutClientOnlyAPI(t *testing.T) {
	root, err := findRoot(".")
	require.NoError(t, err)
	mod, err := LoadModule(root)
	require.NoError(t, err)
	sdk, err := loadSDK(mod.Dir, nil)
	require.NoError(t, err)
	src, err := renderBindings(sdk)
	require.NoError(t, err)
	text := string(src)
	for _, want := range []string{"type Container = lib.Container", "type Secret = lib.Secret", "func Ref[T lib.Loadable[T]]"} {
		require.Contains(t, text, want)
	}
	for _, absent := range []string{"= lib.Connect", "= lib.WithConn", "type Host =", "type HostDirectoryOpts ="} {
		require.NotContains(t, text, absent)
	}
}

func TestLoadModuleRejectsAModulePathTheEngineWouldNotAccept(t *testing.T) {
	root := copyRepo(t)
	editFile(t, filepath.Join(root, ".dagger", "go.mod"), "module dagger/lakehouse", "module example.com/lakehouse")
	_, err := LoadModule(root)
	require.ErrorContains(t, err, `the engine requires "dagger/lakehouse"`)
}
