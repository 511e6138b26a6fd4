package release

import (
	"fmt"
	"regexp"
	"strings"
)

// Address is where publish pushes the release: a registry repository and a
// tag. The gate image goes to the same repository with the tag suffixed
// "-gate", so one repository (and one set of registry permissions) holds
// the release.
type Address struct {
	// Repository is REGISTRY/PATH, e.g. "ghcr.io/acme/lakehouse".
	Repository string
	// Tag is the runtime image's tag.
	Tag string
}

const addressForms = "REGISTRY/REPOSITORY[:TAG], e.g. ghcr.io/acme/lakehouse or 123456789012.dkr.ecr.us-east-1.amazonaws.com/lakehouse:v1.4.0 (no digest: the registry assigns it; no :latest: a release tag must not move)"

var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRef     = regexp.MustCompile(`^([^@\s]+)@(sha256:[0-9a-f]{64})$`)
)

// ParseAddress validates a publish address. defaultTag is used when the
// address has none (the release's version).
func ParseAddress(s, defaultTag string) (Address, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (Address, error) {
		return Address{}, fmt.Errorf("publish address %q %s: use %s", s, why, addressForms)
	}
	switch {
	case s == "":
		return bad("is empty")
	case strings.Contains(s, "@"):
		return bad("has a digest")
	case strings.Contains(s, "://"):
		return bad("has a scheme")
	}
	repo, tag := s, ""
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		repo, tag = s[:i], s[i+1:]
	}
	host, path, ok := strings.Cut(repo, "/")
	if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") || path == "" {
		return bad("names no registry and repository")
	}
	for _, c := range strings.Split(path, "/") {
		if !pathComponent.MatchString(c) {
			return bad(fmt.Sprintf("has an invalid repository path component %q (lowercase letters, digits, separators . _ -)", c))
		}
	}
	if tag == "" {
		tag = defaultTag
	}
	if tag == "latest" {
		return bad("uses :latest")
	}
	if !tagPattern.MatchString(tag) {
		return bad(fmt.Sprintf("has an invalid tag %q", tag))
	}
	return Address{Repository: repo, Tag: tag}, nil
}

// Registry is the registry host (for credentials).
func (a Address) Registry() string {
	host, _, _ := strings.Cut(a.Repository, "/")
	return host
}

// Runtime is the reference the runtime image is pushed to.
func (a Address) Runtime() string { return a.Repository + ":" + a.Tag }

// Gate is the reference the gate image is pushed to.
func (a Address) Gate() string { return a.Repository + ":" + a.Tag + "-gate" }

// DigestRef is an image reference pinned by digest.
type DigestRef struct {
	// Name is the repository, with a tag if one was given.
	Name string
	// Digest is "sha256:<64 hex>".
	Digest string
}

// ParseDigestRef accepts only digest-pinned references (name[:tag]@sha256:…).
func ParseDigestRef(s string) (DigestRef, error) {
	m := digestRef.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return DigestRef{}, fmt.Errorf("%q is not pinned by digest (expected NAME@sha256:<64 hex>)", s)
	}
	return DigestRef{Name: m[1], Digest: m[2]}, nil
}

// Pinned returns the reference without its tag: repository@digest, which
// is what deployments use.
func (d DigestRef) Pinned() string {
	name := d.Name
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return name + "@" + d.Digest
}
