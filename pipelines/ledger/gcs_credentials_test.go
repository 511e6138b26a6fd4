package ledger

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostNewGCSWithoutCredentialsFailsEarlyWithTheNextStep(t *testing.T) {
	hermeticGCP(t)
	missing := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS")
	start := time.Now()
	_, err := NewGCS(context.Background(), GCSConfig{Bucket: bucket})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GOOGLE_APPLICATION_CREDENTIALS="+missing+" cannot be used")
	assert.Contains(t, err.Error(), "workload identity federation (external_account) JSON file")
	assert.Contains(t, err.Error(), "with-gcp-credentials")
	assert.Contains(t, err.Error(), "no such file or directory")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestHostNewGCSRefusesMissingSettingsBeforeAnyRequest(t *testing.T) {
	hermeticGCP(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  GCSConfig
		want string
	}{
		{"no bucket", GCSConfig{Endpoint: "http://127.0.0.1:4443"}, "no bucket given: name the state bucket (the bucket attribute of gcp/backend.tfbackend)"},
		{"endpoint without scheme", GCSConfig{Bucket: bucket, Endpoint: "127.0.0.1:4443"}, `endpoint "127.0.0.1:4443" is not an http(s) URL, e.g. http://127.0.0.1:4443`},
		{"endpoint with another path", GCSConfig{Bucket: bucket, Endpoint: "http://127.0.0.1:4443/gcs"}, "give the server's root URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGCS(ctx, tc.cfg)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestHostNewGCSRefusesAnEmulatorVariableThatWouldDivertTheLedger(t *testing.T) {
	hermeticGCP(t)
	t.Setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:4443")
	_, err := NewGCS(context.Background(), GCSConfig{Bucket: bucket})
	assert.ErrorContains(t, err, "STORAGE_EMULATOR_HOST=127.0.0.1:4443 is set, so the ledger would be written there instead of gs://"+bucket)
}

// sts is a token exchange endpoint for a workload identity federation
// (external_account) credentials file, on 127.0.0.1.
type sts struct {
	*httptest.Server
	mu       sync.Mutex
	subjects []string
}

func startSTS(t *testing.T, status int, answer string) *sts {
	s := &sts{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		s.mu.Lock()
		s.subjects = append(s.subjects, form.Get("subject_token"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, answer)
	}))
	t.Cleanup(s.Close)
	return s
}

// federationFile writes an external_account file whose subject token is
// read from a file, as CI's OIDC token is, and points
// GOOGLE_APPLICATION_CREDENTIALS at it.
func federationFile(t *testing.T, tokenURL string) {
	dir := t.TempDir()
	subject := filepath.Join(dir, "oidc-token")
	require.NoError(t, os.WriteFile(subject, []byte("ci-oidc-subject-token"), 0o600))
	creds := filepath.Join(dir, "federation.json")
	require.NoError(t, os.WriteFile(creds, fmt.Appendf(nil, `{
  "type": "external_account",
  "audience": "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/github",
  "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
  "token_url": %q,
  "credential_source": {"file": %q}
}`, tokenURL+"/v1/token", subject), 0o600))
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", creds)
}

func TestHostNewGCSExchangesAWorkloadIdentityFileOnce(t *testing.T) {
	hermeticGCP(t)
	s := startSTS(t, http.StatusOK, `{"access_token":"ya29.federated","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}`)
	federationFile(t, s.URL)
	g, err := NewGCS(context.Background(), GCSConfig{Bucket: bucket})
	require.NoError(t, err)
	t.Cleanup(func() { g.Close() })
	assert.Equal(t, []string{"ci-oidc-subject-token"}, s.subjects, "the CI token was exchanged once, before any storage call")
}

func TestHostNewGCSReportsAWorkloadIdentityPoolsRefusalBeforeAnyStorageCall(t *testing.T) {
	hermeticGCP(t)
	s := startSTS(t, http.StatusBadRequest, `{"error":"invalid_grant","error_description":"The audience in ID Token [https://github.com/acme] does not match the expected audience."}`)
	federationFile(t, s.URL)
	_, err := NewGCS(context.Background(), GCSConfig{Bucket: bucket})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gcs ledger: the Google credentials cannot get an access token")
	assert.Contains(t, err.Error(), "does not match the expected audience")
}
