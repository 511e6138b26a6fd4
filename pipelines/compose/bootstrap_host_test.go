package compose

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeWeed stands in for `weed shell` as the engine rig showed it: reads
// one command from stdin, lists buckets as "  <name>\tsize:…", and fails
// s3.bucket.create with "error: bucket <name> already exists" (exit 1) on
// an existing bucket. The buckets live in $WEED_STATE; an empty
// $WEED_BROKEN makes every call fail as an unreachable master does.
const fakeWeed = `#!/bin/sh
[ "$1" = shell ] || exit 2
[ -z "$WEED_BROKEN" ] || { echo "cannot connect to master $2 within 30s" >&2; exit 1; }
read -r cmd arg name
touch "$WEED_STATE"
case "$cmd" in
s3.bucket.list) while read -r b; do printf '  %s\tsize:0\tlogical:0\tchunk:0\n' "$b"; done < "$WEED_STATE" ;;
s3.bucket.create)
  if grep -qx "$name" "$WEED_STATE"; then echo "error: bucket $name already exists"; exit 1; fi
  echo "create bucket under /buckets"; echo "$name" >> "$WEED_STATE"; echo "created bucket $name" ;;
*) exit 2 ;;
esac
`

// TestTheBucketBootstrapCanRunAgainOnTheSameVolume runs each one-shot job
// of the local stack that creates the warehouse bucket, twice, as a second
// `up` (or a second ci) does on the volume the first one left: the second
// run must succeed without creating the bucket again (it failed with
// "bucket … already exists" on the engine rig). A bucket that never shows
// up, or a store that cannot be reached, still fails the job.
func TestTheBucketBootstrapCanRunAgainOnTheSameVolume(t *testing.T) {
	ran := 0
	for _, env := range environments(t) {
		spec := translateEnv(t, dagsterDir, env)
		for _, svc := range spec.Services {
			script := strings.Join(svc.Command, " ")
			if !svc.OneShot || !strings.Contains(script, "s3.bucket.create") {
				continue
			}
			ran++
			bin := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(bin, "weed"), []byte(fakeWeed), 0o755))
			state := filepath.Join(t.TempDir(), "buckets")
			run := func(extra ...string) (string, error) {
				argv := append(append([]string{}, svc.Entrypoint...), svc.Command...)
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Env = append([]string{"PATH=" + bin + ":/usr/bin:/bin", "WEED_STATE=" + state}, extra...)
				for _, v := range svc.Environment {
					cmd.Env = append(cmd.Env, v.Name+"="+v.Value)
				}
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			out, err := run()
			require.NoError(t, err, "%s/%s first run:\n%s", env, svc.Name, out)
			assert.Contains(t, out, "created bucket")
			out, err = run()
			require.NoError(t, err, "%s/%s on the volume the first run left:\n%s", env, svc.Name, out)
			assert.NotContains(t, out, "already exists", "the bucket is not created twice")
			buckets, err := os.ReadFile(state)
			require.NoError(t, err)
			assert.Equal(t, 1, strings.Count(string(buckets), "\n"))

			// A bucket whose name only contains the warehouse's is not it.
			require.NoError(t, os.WriteFile(state, []byte(strings.TrimSpace(string(buckets))+"-other\n"), 0o644))
			out, err = run()
			require.NoError(t, err, out)
			assert.Contains(t, out, "created bucket", "%s/%s: a look-alike bucket does not count", env, svc.Name)

			_, err = run("WEED_BROKEN=1")
			assert.Error(t, err, "%s/%s: an unreachable store fails the job", env, svc.Name)
		}
	}
	require.NotZero(t, ran, "no environment's stack has a bucket bootstrap job")
}
