// Package images is the catalog of container images the lakehouse module runs.
//
// Every default is pinned (tag and, where it could be verified, digest) so a
// pipeline run today and a run next month start from the same bytes. Users
// behind registry mirrors or on air-gapped engines override single images or
// rewrite every default to a mirror with [Catalog.WithMirror].
package images

import (
	"fmt"
	"strings"
)

// Catalog names one image per tool. Field names are the tool, values are
// references accepted by `docker pull`.
type Catalog struct {
	Go         string
	Terraform  string
	Python     string
	Actionlint string
	// Registry is the OCI registry ci runs as an ephemeral service, so the
	// release is published and pulled by digest as in CI.
	Registry string
}

// Defaults returns the pinned images this release of the module was tested with.
func Defaults() Catalog {
	return Catalog{
		// Digests are multi-arch index digests, cross-checked against
		// docker-library/repo-info or two independent pinning repositories.
		Go:         "golang:1.26.8-bookworm@sha256:f4191582e1522dfc5980a6bdc0309a756f9697f3e7d0f199c7e26fc82ab324fd",
		Terraform:  "hashicorp/terraform:1.11.4@sha256:5820b87995595425074f881500a037b0ccd41158d0d9b44d78f5f120612f2d3d",
		Python:     "python:3.11.16-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b",
		Actionlint: "rhysd/actionlint:1.7.12@sha256:b1934ee5f1c509618f2508e6eb47ee0d3520686341fec936f3b79331f9315667",
		// Index digest from docker-library/repo-info (repos/registry/remote/3.1.1.md).
		Registry: "registry:3.1.1@sha256:849b7d29920d060df8091770ede2279c07924ecd29e2a4c029ee0b5ea2ea542b",
	}
}

// Override replaces each image for which a non-empty reference is given,
// keyed by the catalog field name in lower case ("go", "terraform", ...).
// Unknown keys are an error so a typo never silently falls back to a default.
func (c Catalog) Override(refs map[string]string) (Catalog, error) {
	for key, ref := range refs {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		if err := Validate(ref); err != nil {
			return c, fmt.Errorf("image override %q: %w", key, err)
		}
		switch key {
		case "go":
			c.Go = ref
		case "terraform":
			c.Terraform = ref
		case "python":
			c.Python = ref
		case "actionlint":
			c.Actionlint = ref
		case "registry":
			c.Registry = ref
		default:
			return c, fmt.Errorf("image override %q: unknown image; allowed: go, terraform, python, actionlint, registry", key)
		}
	}
	return c, nil
}

// WithMirror rewrites every reference to be pulled through mirror, a registry
// host with an optional path prefix (e.g. "registry.corp.example/dockerhub").
// Digests are kept, so a mirror cannot substitute different bytes.
func (c Catalog) WithMirror(mirror string) (Catalog, error) {
	mirror = strings.TrimSuffix(strings.TrimSpace(mirror), "/")
	if mirror == "" {
		return c, nil
	}
	if strings.ContainsAny(mirror, "@ \t") || strings.Contains(mirror, "://") {
		return c, fmt.Errorf("registry mirror %q: expected host[:port][/path] without scheme or digest, e.g. registry.corp.example/dockerhub", mirror)
	}
	c.Go = mirrored(mirror, c.Go)
	c.Terraform = mirrored(mirror, c.Terraform)
	c.Python = mirrored(mirror, c.Python)
	c.Actionlint = mirrored(mirror, c.Actionlint)
	c.Registry = mirrored(mirror, c.Registry)
	return c, nil
}

// Mirror returns ref pulled through mirror (as WithMirror does for the
// catalog), or ref unchanged when mirror is empty. For images named outside
// the catalog, e.g. the compose stack's.
func Mirror(mirror, ref string) (string, error) {
	c, err := Catalog{Go: ref}.WithMirror(mirror)
	return c.Go, err
}

// mirrored drops the registry host of ref (Docker Hub when absent) and puts
// mirror in front. Docker Hub official images keep their "library/" path.
func mirrored(mirror, ref string) string {
	name := ref
	if first, rest, ok := strings.Cut(ref, "/"); ok && isRegistryHost(first) {
		name = rest
	} else if !strings.Contains(ref, "/") {
		name = "library/" + ref
	}
	return mirror + "/" + name
}

func isRegistryHost(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// Validate reports whether ref is a plausible image reference: a name, and a
// tag or a digest. An untagged reference would float to :latest.
func Validate(ref string) error {
	if strings.ContainsAny(ref, " \t\n") {
		return fmt.Errorf("%q contains white space", ref)
	}
	name, digest, hasDigest := strings.Cut(ref, "@")
	if hasDigest && !strings.HasPrefix(digest, "sha256:") {
		return fmt.Errorf("%q: digest must start with sha256:", ref)
	}
	if hasDigest && len(strings.TrimPrefix(digest, "sha256:")) != 64 {
		return fmt.Errorf("%q: sha256 digest must have 64 hex characters", ref)
	}
	lastSlash := strings.LastIndex(name, "/")
	tagged := strings.Contains(name[lastSlash+1:], ":")
	if !tagged && !hasDigest {
		return fmt.Errorf("%q has neither tag nor digest; pin it (e.g. name:1.2.3 or name@sha256:…)", ref)
	}
	if strings.HasSuffix(name, ":latest") && !hasDigest {
		return fmt.Errorf("%q floats with :latest; pin a version or a digest", ref)
	}
	return nil
}
