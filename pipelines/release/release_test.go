package release

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

var commitTime = time.Date(2026, 11, 30, 17, 4, 5, 0, time.FixedZone("CET", 3600))

func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

func TestLabelsComeFromTheCommitNotTheClock(t *testing.T) {
	id, err := NewIdentity(commit, false, commitTime, "https://token:x-oauth@github.com/acme/lakehouse.git")
	require.NoError(t, err)
	labels := map[string]string{}
	for _, l := range id.Labels() {
		labels[l.Name] = l.Value
	}
	assert.Equal(t, map[string]string{
		"org.opencontainers.image.created":  "2026-11-30T16:04:05Z",
		"org.opencontainers.image.revision": commit,
		"org.opencontainers.image.version":  "0123456789ab",
		"org.opencontainers.image.source":   "https://github.com/acme/lakehouse",
	}, labels, "no credentials in the source label, creation time is the commit's")
	again, _ := NewIdentity(commit, false, commitTime, "git@github.com:acme/lakehouse.git")
	assert.Equal(t, id.Labels(), again.Labels(), "the same commit labels the same way on every build")

	dirty, _ := NewIdentity(commit, true, commitTime, "")
	assert.Equal(t, "0123456789ab-dirty", dirty.Version())
}

func TestIdentityRefusesWhatIsNotACommit(t *testing.T) {
	for _, rev := range []string{"", "main", "HEAD", "0123456", commit + "0", "g123456789abcdef0123456789abcdef01234567"} {
		_, err := NewIdentity(rev, false, commitTime, "")
		require.Error(t, err, rev)
		assert.Contains(t, err.Error(), "git rev-parse HEAD")
	}
	_, err := NewIdentity(commit, false, time.Time{}, "")
	require.ErrorContains(t, err, "commit time is unknown")
}

func TestParseAddressAcceptsRegistryRepositoriesAndRefusesTheRest(t *testing.T) {
	ok := map[string]Address{
		"ghcr.io/acme/lakehouse":                        {"ghcr.io/acme/lakehouse", "0123456789ab"},
		"ghcr.io/acme/lakehouse:v1.4.0":                 {"ghcr.io/acme/lakehouse", "v1.4.0"},
		"127.0.0.1:5000/probe/lakehouse":                {"127.0.0.1:5000/probe/lakehouse", "0123456789ab"},
		"localhost/lakehouse:rc1":                       {"localhost/lakehouse", "rc1"},
		"1234.dkr.ecr.us-east-1.amazonaws.com/lh:7-a_b": {"1234.dkr.ecr.us-east-1.amazonaws.com/lh", "7-a_b"},
	}
	for in, want := range ok {
		got, err := ParseAddress(in, "0123456789ab")
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	bad := map[string]string{
		"ghcr.io/acme/lakehouse@" + digest('a'): "has a digest",
		"ghcr.io/acme/lakehouse:latest":         "uses :latest",
		"lakehouse":                             "names no registry and repository",
		"acme/lakehouse":                        "names no registry and repository",
		"ghcr.io":                               "names no registry and repository",
		"https://ghcr.io/acme/lakehouse":        "has a scheme",
		"ghcr.io/Acme/lakehouse":                "invalid repository path component",
		"ghcr.io/acme/lakehouse:bad tag":        "invalid tag",
		"":                                      "is empty",
	}
	for in, why := range bad {
		_, err := ParseAddress(in, "0123456789ab")
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), why, in)
		assert.Contains(t, err.Error(), "REGISTRY/REPOSITORY[:TAG]", "the error lists the allowed forms")
	}
	a, _ := ParseAddress("ghcr.io/acme/lakehouse:v1", "")
	assert.Equal(t, "ghcr.io/acme/lakehouse:v1", a.Runtime())
	assert.Equal(t, "ghcr.io/acme/lakehouse:v1-gate", a.Gate())
	assert.Equal(t, "ghcr.io", a.Registry())
}

func TestDigestRefsPinWithoutTheTag(t *testing.T) {
	d, err := ParseDigestRef("127.0.0.1:5000/probe/lakehouse:v1@" + digest('b'))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:5000/probe/lakehouse@"+digest('b'), d.Pinned())
	for _, s := range []string{"ghcr.io/a/b:v1", "ghcr.io/a/b@sha256:abc", "ghcr.io/a/b@md5:" + strings.Repeat("a", 64)} {
		_, err := ParseDigestRef(s)
		assert.Error(t, err, s)
	}
}

func TestRecordIsNamedByCommitAndDigestsAndRefusesEdits(t *testing.T) {
	id, _ := NewIdentity(commit, false, commitTime, "")
	locks := []LockDigest{DigestLock("dagster/requirements.lock", []byte("a==1\n")), DigestLock("dagster/requirements-soda.lock", []byte("b==2\n"))}
	r1, err := NewRecord(id, "ghcr.io/a/b:v1@"+digest('1'), "ghcr.io/a/b:v1-gate@"+digest('2'), locks, time.Now())
	require.NoError(t, err)
	r2, err := NewRecord(id, "ghcr.io/a/b:other@"+digest('1'), "ghcr.io/a/b:x@"+digest('2'), locks, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, r1.ID, r2.ID, "the same commit and digests are the same release, whenever and under whatever tag")
	assert.Equal(t, "dagster/requirements-soda.lock", r1.Locks[0].File, "locks are sorted")

	raw, err := r1.JSON()
	require.NoError(t, err)
	back, err := ParseRecord(raw)
	require.NoError(t, err)
	assert.Equal(t, r1, back)

	edited := strings.Replace(string(raw), digest('1'), digest('3'), 1)
	_, err = ParseRecord([]byte(edited))
	require.ErrorContains(t, err, "does not match its commit and image digests")

	_, err = NewRecord(id, "ghcr.io/a/b:v1", "ghcr.io/a/b@"+digest('2'), nil, time.Now())
	require.ErrorContains(t, err, "runtime image")
	_, err = ParseRecord([]byte(`{"schema_version": 9}`))
	require.ErrorContains(t, err, "schema_version 9")
	_, err = ParseRecord([]byte(`{"schema_version": 1, "extra": true}`))
	require.ErrorContains(t, err, "not valid JSON")
}

func TestAMalformedRecordFileIsNamedWithItsLine(t *testing.T) {
	_, err := ParseRecordFile("zz-release.json", []byte("{\n  \"schema_version\": 1,\n  \"commit\": oops\n}\n"))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "release record zz-release.json:3: not valid JSON"), err.Error())

	_, err = ParseRecordFile("zz-release.json", []byte("{\n  \"schema_version\": \"one\"\n}"))
	require.ErrorContains(t, err, "release record zz-release.json:2: not valid JSON", "a wrong type names its line too")

	_, err = ParseRecordFile("zz-release.json", []byte(`{"schema_version": 7}`))
	require.ErrorContains(t, err, "release record zz-release.json: schema_version 7 is not supported")

	_, err = ParseRecordFile("", []byte(""))
	require.ErrorContains(t, err, "release record (unnamed file): not valid JSON")
}
