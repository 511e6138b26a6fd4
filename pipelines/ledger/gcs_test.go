package ledger

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/ledger/internal/gcstest"
)

// GCS host tests run the real storage client over real HTTP against
// fake-gcs-server's JSON API on 127.0.0.1 (internal/gcstest). TestMain
// (host_test.go) sends anything else to a dead proxy.

// hermeticGCP leaves the Google libraries nothing to find but what a test
// gives them: no credentials file (GOOGLE_APPLICATION_CREDENTIALS names one
// that does not exist, so the metadata server is never probed), no gcloud
// configuration, no emulator variable.
func hermeticGCP(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME":                           home,
		"CLOUDSDK_CONFIG":                filepath.Join(home, "gcloud"),
		"GOOGLE_APPLICATION_CREDENTIALS": filepath.Join(home, "no-such-credentials.json"),
		"STORAGE_EMULATOR_HOST":          "",
		"GCE_METADATA_HOST":              "",
		"GCE_METADATA_IP":                "",
		"GOOGLE_CLOUD_ENABLE_METRICS":    "",
	} {
		t.Setenv(k, v)
	}
}

func localGCS(t *testing.T, endpoint string) *GCS {
	t.Helper()
	s, err := NewGCS(context.Background(), GCSConfig{Bucket: bucket, Endpoint: endpoint})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestHostGCSAppendThenReadInOrderAcrossListPages(t *testing.T) {
	hermeticGCP(t)
	srv := gcstest.Start(t, bucket)
	s := localGCS(t, srv.URL)
	s.pageSize = 2 // five entries span three pages
	// The state sits beside the log, not in it.
	srv.Put(t, bucket, "iceberg-lakehouse/zzomega/default.tfstate", []byte(`{}`))
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		e, err := Append(ctx, s, prefix, fmt.Appendf(nil, `{"n":%d}`, i))
		require.NoError(t, err)
		require.Equal(t, i, e.Seq)
		require.Equal(t, Key(prefix, i), e.Key)
	}
	before := len(srv.Requests())
	entries, err := Read(ctx, s, prefix)
	require.NoError(t, err)
	require.Len(t, entries, 5)
	for i, e := range entries {
		assert.Equal(t, i+1, e.Seq)
		assert.JSONEq(t, fmt.Sprintf(`{"n":%d}`, i+1), string(e.Body))
	}
	var lists int
	for _, r := range srv.Requests()[before:] {
		if r.Method == http.MethodGet && r.Path == "/storage/v1/b/"+bucket+"/o" {
			lists++
		}
	}
	assert.Equal(t, 3, lists, "Read followed every page of the listing")
	stored, ok := srv.Object(bucket, Key(prefix, 5))
	require.True(t, ok)
	assert.JSONEq(t, `{"n":5}`, string(stored))
}

func TestHostGCSConditionalPutRefusesToOverwrite(t *testing.T) {
	hermeticGCP(t)
	srv := gcstest.Start(t, bucket)
	s := localGCS(t, srv.URL)
	ctx := context.Background()
	key := Key(prefix, 1)

	require.NoError(t, s.Put(ctx, key, []byte(`{"v":1}`)))
	err := s.Put(ctx, key, []byte(`{"v":2}`))
	require.ErrorIs(t, err, ErrExists)
	assert.Contains(t, err.Error(), "objects.insert gs://"+bucket+"/"+key)

	got, ok := srv.Object(bucket, key)
	require.True(t, ok)
	assert.JSONEq(t, `{"v":1}`, string(got), "the first write survives")
	// The refusal is the server's: both uploads reached it with the
	// precondition and it answered the second with 412.
	ups := srv.Uploads()
	require.Len(t, ups, 2)
	for _, r := range ups {
		assert.Equal(t, "0", r.IfGenerationMatch, "every write is conditional")
	}
	assert.Equal(t, http.StatusOK, ups[0].Status)
	assert.Equal(t, http.StatusPreconditionFailed, ups[1].Status)

	b, err := s.Get(ctx, key)
	require.NoError(t, err)
	assert.JSONEq(t, `{"v":1}`, string(b))
	_, err = s.Get(ctx, Key(prefix, 2))
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestHostGCSConcurrentAppendsOfOneEnvironmentCannotBothRecord(t *testing.T) {
	hermeticGCP(t)
	srv := gcstest.Start(t, bucket)
	winner, entries := raceForOneSeq(t, func() Store { return localGCS(t, srv.URL) })
	assert.JSONEq(t, fmt.Sprintf(`{"deploy":%d}`, winner), string(entries[1].Body), "seq 2 is the winner's, not overwritten by the loser")
	var refused int
	for _, r := range srv.Uploads() {
		if r.Status == http.StatusPreconditionFailed {
			refused++
		}
	}
	assert.Equal(t, 1, refused, "the server refused the losing write")
}

func TestHostGCSRetriedCreateWhoseResponseWasLostIsNotAConflict(t *testing.T) {
	hermeticGCP(t)
	srv := gcstest.Start(t, bucket)
	s := localGCS(t, srv.URL)
	// The first upload reaches the server and creates the object, but its
	// response is lost: the client sees 503 and retries.
	var once sync.Once
	srv.Intercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		lost := false
		if r.Method == http.MethodPost {
			once.Do(func() { lost = true })
		}
		if !lost {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":{"code":503,"message":"Backend Error","errors":[{"reason":"backendError","message":"Backend Error"}]}}`)
	})
	key := Key(prefix, 1)

	require.NoError(t, s.Put(context.Background(), key, []byte(`{"v":1}`)), "the retry found this write's own object")

	ups := srv.Uploads()
	require.Len(t, ups, 2, "the client retried the upload")
	for _, r := range ups {
		assert.Equal(t, "0", r.IfGenerationMatch, "the retry is conditional too")
	}
	assert.Equal(t, http.StatusOK, ups[0].Status)
	assert.Equal(t, http.StatusPreconditionFailed, ups[1].Status, "the retry could not overwrite")
	got, _ := srv.Object(bucket, key)
	assert.JSONEq(t, `{"v":1}`, string(got))
}

func TestHostGCSReadOfAnEmptyLedgerIsEmpty(t *testing.T) {
	hermeticGCP(t)
	srv := gcstest.Start(t, bucket)
	entries, err := Read(context.Background(), localGCS(t, srv.URL), prefix)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestHostGCSMissingBucketIsNamedWithWhereItCameFrom(t *testing.T) {
	hermeticGCP(t)
	srv := gcstest.Start(t, bucket)
	s, err := NewGCS(context.Background(), GCSConfig{Bucket: "no-such-bucket", Endpoint: srv.URL})
	require.NoError(t, err)
	_, err = Append(context.Background(), s, prefix, []byte(`{}`))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "objects.list gs://no-such-bucket/"+prefix+"/: notFound")
	assert.Contains(t, msg, "(HTTP 404)")
	assert.Contains(t, msg, "the bucket does not exist; check the bucket attribute of gcp/backend.tfbackend (or --bucket)")
	assert.Empty(t, srv.Uploads(), "nothing was written")
}

// denyingGCS answers every request as GCS does for an identity without
// access.
func denyingGCS(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const msg = `ci@lakehouse-zzomega.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket. Permission 'storage.objects.list' denied on resource (or it may not exist).`
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"error":{"code":403,"message":%q,"errors":[{"message":%q,"domain":"global","reason":"forbidden"}]}}`, msg, msg)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHostGCSErrorsCarryTheServicesMessage(t *testing.T) {
	hermeticGCP(t)
	s := localGCS(t, denyingGCS(t).URL)
	_, err := Append(context.Background(), s, prefix, []byte(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "objects.list gs://"+bucket+"/"+prefix+"/: forbidden: ci@lakehouse-zzomega.iam.gserviceaccount.com does not have storage.objects.list access")
	assert.Contains(t, err.Error(), "(HTTP 403)")

	err = s.Put(context.Background(), Key(prefix, 1), []byte(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "objects.insert gs://"+bucket+"/"+Key(prefix, 1)+": forbidden")
	assert.NotErrorIs(t, err, ErrExists)
}
