package terraform

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLockFileIsPerCloudRoot(t *testing.T) {
	assert.Equal(t, "aws/.terraform.lock.hcl", AWS.LockFile())
	assert.Equal(t, "gcp/.terraform.lock.hcl", GCP.LockFile())
}

func TestMissingLockErrorNamesTheFileAndHowToCreateIt(t *testing.T) {
	err := MissingLockError(GCP)
	assert.True(t, errors.Is(err, ErrMissingLockFile))
	assert.Contains(t, err.Error(), "gcp/.terraform.lock.hcl is not in the repository")
	assert.Contains(t, err.Error(), "`terraform -chdir=gcp providers lock -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_arm64`")
	assert.Contains(t, err.Error(), "commit it")
}

// Every init against a state backend installs exactly the committed
// providers; validation (no backend) does not require a lock file.
func TestEveryInitAgainstABackendIsReadonlyOnTheLockFile(t *testing.T) {
	for _, env := range []string{"zzalpha", "zzgamma", "zzomega"} {
		for _, cloud := range Clouds() {
			tg := target(t, env, cloud)
			assert.Contains(t, tg.Init(), "-lockfile=readonly", tg.String())
			assert.Contains(t, tg.Init("endpoint=http://127.0.0.1:9000"), "-lockfile=readonly", tg.String())
		}
	}
	assert.False(t, slices.Contains(InitWithoutBackend(), "-lockfile=readonly"))
}
