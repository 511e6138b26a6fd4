// Package environment is the catalog of deployment environments.
//
// An environment exists because a file environments/<name>.tfvars exists in
// the repository: adding one means adding files (the tfvars file and
// dagster/.env.<name>), never code. Discover reads those files, validates
// them once and hands out Env values that the rest of the pipeline trusts.
package environment

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Dir is the repository folder holding one <name>.tfvars file per environment.
const Dir = "environments"

// namePattern keeps names short, lowercase and safe inside state keys,
// bucket names, compose project names and GitHub environment names.
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9]{1,9}$`)

// Env is a validated environment. The only ways to get a non-zero Env are
// Discover/NewCatalog followed by Lookup or Envs, so code that receives an
// Env may trust its name and files.
type Env struct {
	name      string
	project   string
	cloud     string
	promotion Promotion
}

// Clouds are the values cloud_provider may take: the repository's
// Terraform roots (pipelines/terraform.Clouds follows this list).
var Clouds = []string{"aws", "gcp"}

// String returns the environment name, e.g. "dev".
func (e Env) String() string { return e.name }

// Name returns the environment name, e.g. "dev".
func (e Env) Name() string { return e.name }

// ProjectName returns the tfvars project_name of the environment.
func (e Env) ProjectName() string { return e.project }

// Cloud returns the cloud the environment deploys to (its cloud_provider):
// the root deploy, promote and the workflows use unless told otherwise.
func (e Env) Cloud() string { return e.cloud }

// IsZero reports whether e is the zero Env (not obtained from a Catalog).
func (e Env) IsZero() bool { return e.name == "" }

// TfvarsFile returns the repository-relative tfvars path, e.g. "environments/dev.tfvars".
func (e Env) TfvarsFile() string { return path.Join(Dir, e.name+".tfvars") }

// EnvFile returns the repository-relative runtime config path, e.g. "dagster/.env.dev".
func (e Env) EnvFile() string { return path.Join("dagster", ".env."+e.name) }

// Catalog is the set of environments found in a repository. A file that
// does not describe a valid environment is kept aside as Invalid rather than
// failing the whole catalog: one broken file must not stop plan, drift or
// apply of the other environments. Checks use Err to fail on it.
type Catalog struct {
	envs    []Env     // sorted by name
	invalid []Invalid // sorted by file
}

// Invalid is a tfvars file that does not describe a usable environment.
type Invalid struct {
	// File is the repository-relative path, e.g. "environments/qa.tfvars".
	File string
	// Name is the file stem: the environment the file was meant to define.
	Name string
	// Err says what is wrong, with the file and line.
	Err error
}

// Discover reads environments/*.tfvars from fsys (rooted at the repository
// root, e.g. os.DirFS(".")) and returns the validated catalog.
func Discover(fsys fs.FS) (*Catalog, error) {
	matches, err := fs.Glob(fsys, path.Join(Dir, "*.tfvars"))
	if err != nil {
		return nil, fmt.Errorf("discover environments: %w", err)
	}
	files := make(map[string][]byte, len(matches))
	for _, m := range matches {
		b, err := fs.ReadFile(fsys, m)
		if err != nil {
			return nil, fmt.Errorf("discover environments: %w", err)
		}
		files[m] = b
	}
	return NewCatalog(files)
}

// NewCatalog validates tfvars files given as contents keyed by their
// repository-relative path ("environments/dev.tfvars"); it is Discover for
// callers that already hold the bytes. Paths outside environments/ or not
// ending in .tfvars are ignored. It fails only when there is no tfvars file
// at all; invalid files are reported by Invalid and Err.
func NewCatalog(files map[string][]byte) (*Catalog, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		if path.Dir(p) == Dir && strings.HasSuffix(p, ".tfvars") {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("no environments found: add %s/<name>.tfvars with project_name = \"...\" and environment = \"<name>\" (see %s/README.md for every variable)", Dir, Dir)
	}
	c := &Catalog{}
	for _, p := range paths {
		env, err := parseTfvars(p, files[p])
		if err != nil {
			c.invalid = append(c.invalid, Invalid{File: p, Name: strings.TrimSuffix(path.Base(p), ".tfvars"), Err: err})
			continue
		}
		c.envs = append(c.envs, env)
	}
	return c, nil
}

// Invalid returns the files that do not describe a usable environment.
func (c *Catalog) Invalid() []Invalid { return slices.Clone(c.invalid) }

// Err returns every invalid file's error joined, or nil when all are valid:
// what lint and test report, while the valid environments stay usable.
func (c *Catalog) Err() error {
	errs := make([]error, len(c.invalid))
	for i, inv := range c.invalid {
		errs[i] = inv.Err
	}
	return errors.Join(errs...)
}

// Names returns the environment names in sorted order.
func (c *Catalog) Names() []string {
	names := make([]string, len(c.envs))
	for i, e := range c.envs {
		names[i] = e.name
	}
	return names
}

// Envs returns the environments in sorted order.
func (c *Catalog) Envs() []Env { return slices.Clone(c.envs) }

// Lookup returns the environment called name, or an error that lists the
// known environments and says how to add one.
func (c *Catalog) Lookup(name string) (Env, error) {
	for _, e := range c.envs {
		if e.name == name {
			return e, nil
		}
	}
	for _, inv := range c.invalid {
		if inv.Name == name {
			return Env{}, fmt.Errorf("environment %q cannot be used until %s is fixed (the other environments are unaffected): %w", name, inv.File, inv.Err)
		}
	}
	known := "none"
	if len(c.envs) > 0 {
		known = strings.Join(c.Names(), ", ")
	}
	msg := fmt.Sprintf("unknown environment %q: known environments are %s", name, known)
	if len(c.invalid) > 0 {
		files := make([]string, len(c.invalid))
		for i, inv := range c.invalid {
			files[i] = inv.File
		}
		msg += fmt.Sprintf(" (invalid, not usable: %s)", strings.Join(files, ", "))
	}
	example := "<existing>"
	if len(c.envs) > 0 {
		example = c.envs[0].name
	}
	return Env{}, fmt.Errorf("%s; to add one, copy %s/%s.tfvars to %s/%s.tfvars (set environment = %q and promotion_upstream = %q) and dagster/.env.%s to dagster/.env.%s (set LAKEHOUSE_ENVIRONMENT=%s and free host ports): README.md, \"Adding an environment\", lists every step",
		msg, Dir, example, Dir, name, name, example, example, name, name)
}

// parseTfvars validates one tfvars file: its stem is a valid name and its
// environment attribute equals the stem.
func parseTfvars(filename string, src []byte) (Env, error) {
	stem := strings.TrimSuffix(path.Base(filename), ".tfvars")
	if !namePattern.MatchString(stem) {
		return Env{}, fmt.Errorf("%s: environment name %q is not allowed: use 2-10 characters, lowercase letters and digits, starting with a letter (e.g. dev, staging, prod); rename the file", filename, stem)
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return Env{}, fmt.Errorf("environment %s: %w", stem, diags)
	}
	attrs, diags := file.Body.JustAttributes()
	if diags.HasErrors() {
		return Env{}, fmt.Errorf("environment %s: %w", stem, diags)
	}
	env, err := stringAttr(filename, attrs, "environment")
	if err != nil {
		return Env{}, err
	}
	if env.value != stem {
		return Env{}, fmt.Errorf("%s:%d: environment = %q but the file is named %s.tfvars: set environment = %q (the file name is the environment name)",
			filename, env.line, env.value, stem, stem)
	}
	project, err := stringAttr(filename, attrs, "project_name")
	if err != nil {
		return Env{}, err
	}
	if err := validProject(project.value); err != nil {
		return Env{}, fmt.Errorf("%s:%d: %w", filename, project.line, err)
	}
	cloud, err := stringAttr(filename, attrs, "cloud_provider")
	if err != nil {
		return Env{}, fmt.Errorf("%w (the cloud this environment deploys to: one of %s)", err, strings.Join(Clouds, ", "))
	}
	if !slices.Contains(Clouds, cloud.value) {
		return Env{}, fmt.Errorf("%s:%d: cloud_provider = %q: allowed values are %s (the Terraform root this environment deploys with)", filename, cloud.line, cloud.value, strings.Join(Clouds, ", "))
	}
	promotion, err := parsePromotion(filename, stem, attrs)
	if err != nil {
		return Env{}, err
	}
	return Env{name: stem, project: project.value, cloud: cloud.value, promotion: promotion}, nil
}

// projectPattern is the rule of the project_name variable in aws/ and
// gcp/variables.tf, where the name starts every resource name (FuzzCatalog
// checks that what this package accepts, Terraform's validations accept).
var projectPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,10}[a-z0-9]$`)

// validProject applies Terraform's validations of project_name, so a bad
// name fails here, with its line, rather than at plan.
func validProject(p string) error {
	switch {
	case !projectPattern.MatchString(p):
		return fmt.Errorf("project_name = %q: use 2-12 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (it starts every resource name)", p)
	case strings.Contains(p, "--"):
		return fmt.Errorf("project_name = %q: remove the double hyphen (RDS refuses identifiers with one)", p)
	case strings.HasPrefix(p, "internal"):
		return fmt.Errorf("project_name = %q: do not start it with \"internal\" (AWS refuses load balancer names that do)", p)
	}
	return nil
}

type attrValue struct {
	value string
	line  int
}

func stringAttr(filename string, attrs hcl.Attributes, name string) (attrValue, error) {
	attr, ok := attrs[name]
	if !ok {
		return attrValue{}, fmt.Errorf("%s: missing %s: add a line %s = \"...\"", filename, name, name)
	}
	line := attr.Range.Start.Line
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return attrValue{}, fmt.Errorf("%s:%d: %s must be a literal string: %w", filename, line, name, diags)
	}
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return attrValue{}, fmt.Errorf("%s:%d: %s must be a string, got %s", filename, line, name, v.Type().FriendlyName())
	}
	return attrValue{value: v.AsString(), line: line}, nil
}

// Listing is the catalog as the `environments` function prints it: the
// names workflows build their job matrix from, and the files that are not
// usable with the reason.
type Listing struct {
	// Names are the usable environments, sorted.
	Names []string `json:"names"`
	// Environments describe each usable environment's files.
	Environments []ListedEnv `json:"environments"`
	// Targets are the usable environments with their cloud, sorted by name:
	// the matrix of jobs that plan or watch every environment.
	Targets []Target `json:"targets"`
	// Invalid are the files that define no usable environment.
	Invalid []ListedInvalid `json:"invalid"`
	// PromotionOrder is the order a release moves through the environments,
	// or empty with PromotionError set when the files do not form one.
	PromotionOrder []string `json:"promotion_order"`
	// DeployTargets are PromotionOrder with each environment's cloud: the
	// matrix of deploy jobs, in the order a release moves.
	DeployTargets  []Target `json:"deploy_targets"`
	PromotionError string   `json:"promotion_error,omitempty"`
}

// Target is an environment and the cloud it deploys to, one job of a
// workflow matrix.
type Target struct {
	Env   string `json:"env"`
	Cloud string `json:"cloud"`
}

// ListedEnv is one usable environment in a Listing.
type ListedEnv struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	Cloud   string `json:"cloud"`
	Tfvars  string `json:"tfvars"`
	EnvFile string `json:"env_file"`
	// PromotesFrom is the upstream environment ("" for the first).
	PromotesFrom string `json:"promotes_from"`
	// RequiresApproval: the deploy job waits for a human.
	RequiresApproval bool `json:"requires_approval"`
}

// ListedInvalid is one invalid file in a Listing.
type ListedInvalid struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// Listing describes the catalog for machines (JSON) and people.
func (c *Catalog) Listing() Listing {
	l := Listing{Names: c.Names(), Environments: []ListedEnv{}, Targets: []Target{}, Invalid: []ListedInvalid{}, PromotionOrder: []string{}, DeployTargets: []Target{}}
	for _, e := range c.envs {
		l.Environments = append(l.Environments, ListedEnv{
			Name: e.name, Project: e.project, Cloud: e.cloud, Tfvars: e.TfvarsFile(), EnvFile: e.EnvFile(),
			PromotesFrom: e.promotion.Upstream, RequiresApproval: e.promotion.RequiresApproval,
		})
		l.Targets = append(l.Targets, Target{Env: e.name, Cloud: e.cloud})
	}
	if order, err := c.PromotionOrder(); err != nil {
		l.PromotionError = err.Error()
	} else {
		for _, e := range order {
			l.PromotionOrder = append(l.PromotionOrder, e.name)
			l.DeployTargets = append(l.DeployTargets, Target{Env: e.name, Cloud: e.cloud})
		}
	}
	for _, inv := range c.invalid {
		l.Invalid = append(l.Invalid, ListedInvalid{File: inv.File, Error: inv.Err.Error()})
	}
	return l
}
