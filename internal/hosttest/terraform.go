package hosttest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Terraform providers cannot be downloaded on every machine the tests run
// on: where they cannot, a filesystem mirror holds them. This is the one
// place that finds it, for every test that runs terraform.

// MirrorEnv names the mirror: one directory, or several separated by ':'
// (e.g. the aws provider in one, the google and random providers built
// from source in another), each laid out as
// <dir>/registry.terraform.io/hashicorp/<name>/<version>/<os>_<arch>/.
const MirrorEnv = "TF_PLUGIN_MIRROR"

// DefaultMirror is the mirror used when MirrorEnv is unset.
const DefaultMirror = "/opt/tf-plugins"

// Provider sources as the mirror lays them out.
const (
	AWSProvider    = "registry.terraform.io/hashicorp/aws"
	GoogleProvider = "registry.terraform.io/hashicorp/google"
	RandomProvider = "registry.terraform.io/hashicorp/random"
)

// Mirror is what the provider mirror holds.
type Mirror struct {
	// Dirs are the mirror directories that exist.
	Dirs []string
	// Named is the value of MirrorEnv (or DefaultMirror), for messages.
	Named string
	// Providers maps a provider source (e.g. AWSProvider) to the mirror
	// directory holding it (the first, when several do).
	Providers map[string]string
}

// FindMirror reads MirrorEnv (DefaultMirror when unset) and lists the
// providers its directories hold.
func FindMirror() Mirror {
	named := os.Getenv(MirrorEnv)
	if named == "" {
		named = DefaultMirror
	}
	m := Mirror{Named: named, Providers: map[string]string{}}
	for _, dir := range filepath.SplitList(named) {
		if dir == "" {
			continue
		}
		found, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*"))
		for _, p := range found {
			if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
				continue
			}
			rel, _ := filepath.Rel(dir, p)
			source := filepath.ToSlash(rel)
			if _, seen := m.Providers[source]; !seen {
				m.Providers[source] = dir
			}
		}
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			m.Dirs = append(m.Dirs, dir)
		}
	}
	return m
}

// Has says whether the mirror holds a provider (e.g. GoogleProvider).
func (m Mirror) Has(source string) bool { _, ok := m.Providers[source]; return ok }

// Sources lists the providers the mirror holds, sorted.
func (m Mirror) Sources() []string {
	s := make([]string, 0, len(m.Providers))
	for p := range m.Providers {
		s = append(s, p)
	}
	sort.Strings(s)
	return s
}

// CLIConfig is a terraform CLI configuration (TF_CLI_CONFIG_FILE) that
// installs every provider the mirror holds from it, and any other from the
// registry; "" when the mirror holds none (terraform's defaults apply).
func (m Mirror) CLIConfig() string {
	if len(m.Providers) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("provider_installation {\n")
	byDir := map[string][]string{}
	for _, source := range m.Sources() {
		byDir[m.Providers[source]] = append(byDir[m.Providers[source]], fmt.Sprintf("%q", source))
	}
	for _, dir := range m.Dirs {
		if len(byDir[dir]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  filesystem_mirror {\n    path    = %q\n    include = [%s]\n  }\n", dir, strings.Join(byDir[dir], ", "))
	}
	quoted := make([]string, 0, len(m.Providers))
	for _, source := range m.Sources() {
		quoted = append(quoted, fmt.Sprintf("%q", source))
	}
	fmt.Fprintf(&b, "  direct {\n    exclude = [%s]\n  }\n}\n", strings.Join(quoted, ", "))
	return b.String()
}

// String says where terraform's providers come from, for test logs.
func (m Mirror) String() string {
	if len(m.Providers) == 0 {
		return fmt.Sprintf("no provider mirror at %s=%s: terraform installs providers from the registry", MirrorEnv, m.Named)
	}
	return fmt.Sprintf("providers from the mirror %s=%s: %s", MirrorEnv, m.Named, strings.Join(m.Sources(), ", "))
}

// UseMirror makes every terraform process of this test binary install the
// providers the mirror holds from it (TF_CLI_CONFIG_FILE), and returns what
// it found and a function that removes the configuration file. Without a
// mirror, terraform keeps its own configuration. Call it from TestMain,
// before the tests start.
func UseMirror() (Mirror, func()) {
	m := FindMirror()
	content := m.CLIConfig()
	if content == "" {
		if cfg := os.Getenv("TF_CLI_CONFIG_FILE"); cfg != "" {
			if _, err := os.Stat(cfg); err != nil {
				os.Unsetenv("TF_CLI_CONFIG_FILE") // a missing file only makes terraform warn
			}
		}
		return m, func() {}
	}
	dir, err := os.MkdirTemp("", "tf-mirror-config")
	if err != nil {
		return m, func() {}
	}
	path := filepath.Join(dir, "mirror.tfrc")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		os.RemoveAll(dir)
		return m, func() {}
	}
	os.Setenv("TF_CLI_CONFIG_FILE", path)
	return m, func() { os.RemoveAll(dir) }
}
