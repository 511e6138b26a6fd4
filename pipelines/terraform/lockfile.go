package terraform

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// LockFile is the dependency lock file of a cloud root: the provider
// versions and package checksums terraform init accepts. Target.Init runs
// init with -lockfile=readonly, so a plan or apply uses exactly the
// providers reviewed in git and fails instead of picking a newer release
// or an unverified package.
const LockFile = ".terraform.lock.hcl"

// lockPlatforms are the platforms a committed lock file should cover: the
// pipeline's containers on amd64 and arm64 hosts, and macOS laptops.
var lockPlatforms = []string{"linux_amd64", "linux_arm64", "darwin_arm64"}

// LockFile returns the cloud root's lock file relative to the repository
// root, e.g. "aws/.terraform.lock.hcl".
func (c Cloud) LockFile() string { return path.Join(string(c), LockFile) }

// ErrMissingLockFile is wrapped by MissingLockError.
var ErrMissingLockFile = errors.New("dependency lock file missing")

// MissingLockError is the error to report when a cloud root has no
// committed lock file: init with -lockfile=readonly cannot succeed
// without one. It names the file and the command that creates it.
func MissingLockError(c Cloud) error {
	platforms := make([]string, len(lockPlatforms))
	for i, p := range lockPlatforms {
		platforms[i] = "-platform=" + p
	}
	return fmt.Errorf("%w: %s is not in the repository; the pipeline initialises %s with -lockfile=readonly so every run uses the provider versions and checksums reviewed in git. "+
		"Create it with `terraform -chdir=%s providers lock %s` (needs access to the provider registry) and commit it",
		ErrMissingLockFile, c.LockFile(), c, c, strings.Join(platforms, " "))
}
