package ledger

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/s3test"
)

// Host tests run the real AWS SDK over real HTTP against the in-process
// S3-compatible server of pipelines/internal/s3test on 127.0.0.1.

const (
	bucket     = "lakehouse-tfstate"
	testSecret = "host-test-secret-access-key-do-not-print"
)

// TestMain routes every request that is not to a loopback address through a
// proxy that does not exist, so a test that reached for the network (a
// metadata endpoint, STS, AWS itself) fails instead of leaving the machine.
// Loopback addresses are never proxied. It is set before any request: Go
// reads the proxy variables once per process.
func TestMain(m *testing.M) {
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		os.Setenv(k, deadProxy)
	}
	os.Unsetenv("NO_PROXY")
	os.Unsetenv("no_proxy")
	os.Exit(m.Run())
}

// deadProxy refuses every connection.
const deadProxy = "http://127.0.0.1:9"

// hermeticAWS points the SDK's default chain at dummy credentials in the
// environment and nothing else: no shared config files, no profile, no web
// identity, no container or EC2 metadata endpoint, so nothing but the test
// server is ever contacted.
func hermeticAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":                      "AKIDHOSTTEST",
		"AWS_SECRET_ACCESS_KEY":                  testSecret,
		"AWS_SESSION_TOKEN":                      "",
		"AWS_REGION":                             "",
		"AWS_DEFAULT_REGION":                     "",
		"AWS_PROFILE":                            "",
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_ROLE_ARN":                           "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_ENDPOINT_URL":                       "",
		"AWS_ENDPOINT_URL_S3":                    "",
	} {
		t.Setenv(k, v)
	}
}

func localS3(t *testing.T, endpoint string) *S3 {
	t.Helper()
	s, err := NewS3(context.Background(), S3Config{Bucket: bucket, Region: "us-east-1", Endpoint: endpoint, PathStyle: true})
	require.NoError(t, err)
	return s
}

func TestHostConditionalPutRefusesToOverwrite(t *testing.T) {
	hermeticAWS(t)
	srv := s3test.Start(t, bucket)
	s := localS3(t, srv.URL)
	ctx := context.Background()
	key := Key(prefix, 1)

	require.NoError(t, s.Put(ctx, key, []byte(`{"v":1}`)))
	err := s.Put(ctx, key, []byte(`{"v":2}`))
	require.ErrorIs(t, err, ErrExists)
	assert.Contains(t, err.Error(), "s3://"+bucket+"/"+key)

	got, ok := srv.Object(bucket, key)
	require.True(t, ok)
	assert.JSONEq(t, `{"v":1}`, string(got), "the first write survives")
	var puts []s3test.Request
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPut {
			puts = append(puts, r)
		}
	}
	require.Len(t, puts, 2)
	for _, r := range puts {
		assert.Equal(t, "*", r.IfNoneMatch, "every write is conditional")
	}
	assert.Equal(t, http.StatusPreconditionFailed, puts[1].Status)

	b, err := s.Get(ctx, key)
	require.NoError(t, err)
	assert.JSONEq(t, `{"v":1}`, string(b))
	_, err = s.Get(ctx, Key(prefix, 2))
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestHostConcurrentAppendsOfOneEnvironmentCannotBothRecord(t *testing.T) {
	hermeticAWS(t)
	srv := s3test.Start(t, bucket)
	raceForOneSeq(t, func() Store { return localS3(t, srv.URL) })
}

func TestHostReadReturnsEntriesInOrderAcrossListPages(t *testing.T) {
	hermeticAWS(t)
	srv := s3test.Start(t, bucket)
	s := localS3(t, srv.URL)
	ctx := context.Background()
	const n = 1005 // more than one ListObjectsV2 page (1000 keys)
	for i := 1; i <= n; i++ {
		srv.Put(t, bucket, Key(prefix, i), fmt.Appendf(nil, `{"n":%d}`, i))
	}
	srv.Put(t, bucket, "iceberg-lakehouse/zzomega/terraform.tfstate", []byte(`{}`)) // beside the log, not in it
	e, err := Append(ctx, s, prefix, []byte(`{"n":"last"}`))
	require.NoError(t, err)
	assert.Equal(t, n+1, e.Seq)

	entries, err := Read(ctx, s, prefix)
	require.NoError(t, err)
	require.Len(t, entries, n+1)
	for i, e := range entries[:n] {
		require.Equal(t, i+1, e.Seq)
		require.JSONEq(t, fmt.Sprintf(`{"n":%d}`, i+1), string(e.Body))
	}
	assert.JSONEq(t, `{"n":"last"}`, string(entries[n].Body))
}

func TestHostReadNamesAnUnexpectedObject(t *testing.T) {
	hermeticAWS(t)
	srv := s3test.Start(t, bucket)
	srv.Put(t, bucket, Key(prefix, 1), []byte(`{}`))
	srv.Put(t, bucket, prefix+"/notes.txt", []byte(`hi`))
	_, err := Read(context.Background(), localS3(t, srv.URL), prefix)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unexpected object "+prefix+"/notes.txt")
}

// denying answers every request as S3 does for a principal without access.
func denying(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("x-amz-request-id", "REQ123")
		w.WriteHeader(http.StatusForbidden)
		if r.Method == http.MethodHead {
			return
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/zzomega-plan/ci is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::%s%s" because no identity-based policy allows the s3:PutObject action</Message><RequestId>REQ123</RequestId></Error>`, bucket, strings.TrimPrefix(r.URL.Path, "/"+bucket))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHostS3ErrorsCarryTheServicesMessageAndNoSecret(t *testing.T) {
	hermeticAWS(t)
	srv := denying(t)
	s := localS3(t, srv.URL)
	_, err := Append(context.Background(), s, prefix, []byte(`{}`))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "ListObjectsV2 s3://"+bucket+"/"+prefix+"/: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/zzomega-plan/ci is not authorized")
	assert.Contains(t, msg, "HTTP 403")
	assert.Contains(t, msg, "request id REQ123")
	assert.NotContains(t, msg, testSecret)

	err = s.Put(context.Background(), Key(prefix, 1), []byte(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PutObject s3://"+bucket+"/"+Key(prefix, 1)+": AccessDenied")
	assert.Contains(t, err.Error(), "s3:PutObject on resource")
	assert.NotErrorIs(t, err, ErrExists)
}

func TestHostNewS3RefusesMissingSettingsBeforeAnyRequest(t *testing.T) {
	hermeticAWS(t)
	ctx := context.Background()
	_, err := NewS3(ctx, S3Config{Region: "us-east-1"})
	assert.ErrorContains(t, err, "no bucket given")
	_, err = NewS3(ctx, S3Config{Bucket: bucket})
	assert.ErrorContains(t, err, "no region")
	_, err = NewS3(ctx, S3Config{Bucket: bucket, Region: "us-east-1", Endpoint: "127.0.0.1:9000"})
	assert.ErrorContains(t, err, "not an http(s) URL")

	// No credentials anywhere, metadata disabled: a clear error, quickly,
	// without reaching for the network.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	start := time.Now()
	_, err = NewS3(ctx, S3Config{Bucket: bucket, Region: "us-east-1"})
	assert.ErrorContains(t, err, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestHostRegionFromTheEnvironment(t *testing.T) {
	hermeticAWS(t)
	t.Setenv("AWS_REGION", "eu-central-1")
	srv := s3test.Start(t, bucket)
	s, err := NewS3(context.Background(), S3Config{Bucket: bucket, Endpoint: srv.URL, PathStyle: true})
	require.NoError(t, err)
	_, err = Append(context.Background(), s, prefix, []byte(`{}`))
	require.NoError(t, err)
}
