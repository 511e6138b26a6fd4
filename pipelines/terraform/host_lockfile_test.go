package terraform

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/s3test"
)

// awsRequirement makes the fixture root require the aws provider with the
// constraint of aws/versions.tf.
const awsRequirement = `terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}
`

// oneLine joins terraform's wrapped message lines so assertions do not
// depend on where it breaks them.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestHostInitInstallsOnlyTheProvidersOfTheCommittedLockFile(t *testing.T) {
	mirror := providerMirror(t)
	committed, err := os.ReadFile(filepath.Join(repoRoot, AWS.LockFile()))
	require.NoError(t, err, "%s must be committed", AWS.LockFile())
	sum := sha256.Sum256([]byte("a package nobody reviewed"))
	tampered := regexp.MustCompile(`"h1:[^"]+"`).ReplaceAll(committed, []byte(`"h1:`+base64.StdEncoding.EncodeToString(sum[:])+`"`))
	require.NotEqual(t, string(committed), string(tampered), "the committed lock file must hold an h1: checksum")

	s3 := s3test.Start(t, stateBucket)
	tests := []struct {
		name string
		lock []byte // nil: no lock file
		// want are phrases of terraform's stderr; empty: init succeeds.
		want []string
	}{
		{"no lock file", nil, []string{"Error: Provider dependency changes detected", "the lock file is read-only"}},
		{"a changed checksum", tampered, []string{"Error: Failed to install provider",
			"doesn't match any of the checksums previously recorded in the dependency lock file"}},
		{"the committed lock file", committed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := map[string]string{"aws/providers.tf": awsRequirement}
			if tt.lock != nil {
				extra["aws/"+LockFile] = string(tt.lock)
			}
			c := newCheckout(t, s3, "dev", extra)
			c.cliConfig = mirror
			r := c.run(c.target.Init(c.backendArgs()...))
			lockPath := filepath.Join(c.root, c.target.Workdir(), LockFile)
			after, readErr := os.ReadFile(lockPath)
			if tt.lock == nil {
				assert.True(t, os.IsNotExist(readErr), "a readonly init must not write %s", LockFile)
			} else {
				require.NoError(t, readErr)
				assert.Equal(t, string(tt.lock), string(after), "a readonly init must not rewrite %s", LockFile)
			}
			if len(tt.want) == 0 {
				require.Equal(t, 0, r.code, r.String())
				_, err := os.Stat(filepath.Join(c.root, c.target.Workdir(), ".terraform", "providers", "registry.terraform.io", "hashicorp", "aws"))
				assert.NoError(t, err, "init must install the locked aws provider")
				return
			}
			assert.Equal(t, 1, r.code, r.String())
			for _, w := range tt.want {
				assert.Contains(t, oneLine(r.stderr), w)
			}
		})
	}
}
