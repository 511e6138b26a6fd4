package images

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func all(c Catalog) []string { return []string{c.Go, c.Terraform, c.Python, c.Actionlint, c.Registry} }

func TestEveryDefaultIsPinnedByTagAndDigest(t *testing.T) {
	for _, ref := range all(Defaults()) {
		require.NoError(t, Validate(ref))
		name, digest, ok := strings.Cut(ref, "@")
		assert.True(t, ok, "%s has no digest", ref)
		assert.Len(t, strings.TrimPrefix(digest, "sha256:"), 64, ref)
		assert.Regexp(t, `:\d+\.\d+`, name, "%s has no version tag", ref)
	}
}

func TestOverrideReplacesOnlyNamedImages(t *testing.T) {
	c, err := Defaults().Override(map[string]string{"terraform": "hashicorp/terraform:1.12.0", "go": ""})
	require.NoError(t, err)
	assert.Equal(t, "hashicorp/terraform:1.12.0", c.Terraform)
	assert.Equal(t, Defaults().Go, c.Go)
}

func TestOverrideRejectsUnknownKeysAndFloatingTags(t *testing.T) {
	_, err := Defaults().Override(map[string]string{"terrafrom": "x:1.0"})
	assert.ErrorContains(t, err, "allowed: go, terraform, python, actionlint, registry")
	_, err = Defaults().Override(map[string]string{"python": "python"})
	assert.ErrorContains(t, err, "neither tag nor digest")
	_, err = Defaults().Override(map[string]string{"python": "python:latest"})
	assert.ErrorContains(t, err, ":latest")
	_, err = Defaults().Override(map[string]string{"python": "python@sha256:abc"})
	assert.ErrorContains(t, err, "64 hex")
}

func TestMirrorKeepsPathsAndDigests(t *testing.T) {
	c, err := Defaults().WithMirror("registry.corp.example/hub/")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(c.Go, "registry.corp.example/hub/library/golang:1.26"), c.Go)
	assert.True(t, strings.HasPrefix(c.Terraform, "registry.corp.example/hub/hashicorp/terraform:1.11.4@sha256:"), c.Terraform)
	_, d, _ := strings.Cut(Defaults().Terraform, "@")
	assert.True(t, strings.HasSuffix(c.Terraform, d))

	ghcr := mirrored("mirror.local:5000", "ghcr.io/projectnessie/nessie:0.107.2")
	assert.Equal(t, "mirror.local:5000/projectnessie/nessie:0.107.2", ghcr)
}

func TestMirrorRejectsSchemesAndDigests(t *testing.T) {
	for _, bad := range []string{"https://registry.corp.example", "registry@sha256:x", "a b"} {
		_, err := Defaults().WithMirror(bad)
		assert.Error(t, err, bad)
	}
}

func TestMirrorRewritesImagesOutsideTheCatalogLikeTheCatalog(t *testing.T) {
	got, err := Mirror("registry.corp.example/hub", "postgres:17.11-alpine@sha256:"+strings.Repeat("b", 64))
	require.NoError(t, err)
	assert.Equal(t, "registry.corp.example/hub/library/postgres:17.11-alpine@sha256:"+strings.Repeat("b", 64), got)
	got, err = Mirror("registry.corp.example/hub", "ghcr.io/projectnessie/nessie:0.106.0")
	require.NoError(t, err)
	assert.Equal(t, "registry.corp.example/hub/projectnessie/nessie:0.106.0", got)
	got, err = Mirror("", "postgres:17")
	require.NoError(t, err)
	assert.Equal(t, "postgres:17", got)
}
