// Package terraform decides how the pipeline runs Terraform: which cloud
// root, which remote-state key per environment, the exact argv of every
// command, how to read a saved plan, and which planned changes are refused.
//
// It never runs Terraform itself. A caller (the Dagger module) mounts the
// repository at /src, sets the working directory to /src/<cloud>
// (Target.Workdir), sets the variables from Env, and runs the argv slices;
// argv[0] is always "terraform".
package terraform

import (
	"fmt"
	"path"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// Cloud is a Terraform root of the repository: a top-level folder with its
// own backend type.
type Cloud string

// The clouds the repository deploys to.
const (
	AWS Cloud = "aws"
	GCP Cloud = "gcp"
)

// Clouds returns every supported cloud.
func Clouds() []Cloud { return []Cloud{AWS, GCP} }

// ParseCloud validates a cloud name given by a user.
func ParseCloud(s string) (Cloud, error) {
	for _, c := range Clouds() {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown cloud %q: allowed values are aws, gcp", s)
}

// String returns the cloud name.
func (c Cloud) String() string { return string(c) }

// backendType is the Terraform backend type that holds the cloud's state,
// "" for an unknown cloud.
func (c Cloud) backendType() string {
	switch c {
	case AWS:
		return "s3"
	case GCP:
		return "gcs"
	}
	return ""
}

// stateSetting is the backend setting that holds an environment's state
// location: "key" (s3) or "prefix" (gcs); "" for an unknown cloud.
func (c Cloud) stateSetting() string {
	switch c {
	case AWS:
		return "key"
	case GCP:
		return "prefix"
	}
	return ""
}

// StateProject is the first path element of every state key and prefix.
const StateProject = "iceberg-lakehouse"

// BackendFile is the committed partial backend configuration in each cloud
// root, relative to that root.
const BackendFile = "backend.tfbackend"

// Backend is where one environment of one cloud keeps its state.
type Backend struct {
	// Type is the Terraform backend type: "s3" or "gcs".
	Type string
	// File is the partial backend file, relative to the cloud root.
	File string
	// Setting is the backend attribute the pipeline adds: "key" (s3) or "prefix" (gcs).
	Setting string
	// Value is the environment's state key or prefix, e.g.
	// "iceberg-lakehouse/dev/terraform.tfstate".
	Value string
}

// StateObject is the object that holds the state inside the state bucket:
// the key itself for s3, "<prefix>/default.tfstate" for gcs.
func (b Backend) StateObject() string {
	if b.Type == "gcs" {
		return b.Value + "/default.tfstate"
	}
	return b.Value
}

// LockObject is the object Terraform writes while it holds the state lock.
func (b Backend) LockObject() string {
	if b.Type == "gcs" {
		return b.Value + "/default.tflock"
	}
	return b.Value + ".tflock"
}

// Args returns the -backend-config flags for terraform init: the committed
// partial file first, then the environment's key or prefix, then extra
// "name=value" settings (e.g. a local endpoint in tests), later ones winning.
func (b Backend) Args(extra ...string) []string {
	args := []string{
		"-backend-config=" + b.File,
		"-backend-config=" + b.Setting + "=" + b.Value,
	}
	for _, e := range extra {
		args = append(args, "-backend-config="+e)
	}
	return args
}

// BackendFor returns the state location of env in cloud. Keys are computed
// here and nowhere else: s3 key iceberg-lakehouse/<env>/terraform.tfstate,
// gcs prefix iceberg-lakehouse/<env>.
func BackendFor(env environment.Env, cloud Cloud) (Backend, error) {
	if env.IsZero() {
		return Backend{}, fmt.Errorf("backend for %s: no environment given", cloud)
	}
	dir := path.Join(StateProject, env.Name())
	switch cloud {
	case AWS:
		return Backend{Type: cloud.backendType(), File: BackendFile, Setting: cloud.stateSetting(), Value: dir + "/terraform.tfstate"}, nil
	case GCP:
		return Backend{Type: cloud.backendType(), File: BackendFile, Setting: cloud.stateSetting(), Value: dir}, nil
	}
	_, err := ParseCloud(string(cloud))
	return Backend{}, fmt.Errorf("backend for %s: %w", env, err)
}
