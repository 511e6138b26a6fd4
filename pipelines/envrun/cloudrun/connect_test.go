package cloudrun

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun/cloudruntest"
)

// federation is a fake of Google's Security Token Service and IAM
// Credentials API on 127.0.0.1: what an external_account file of workload
// identity federation (e.g. from google-github-actions/auth) makes the
// client call to trade a CI token for an access token.
type federation struct {
	*httptest.Server
	mu       sync.Mutex
	subjects []string
	refuse   bool
}

func newFederation(t *testing.T) *federation {
	f := &federation{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/token":
			form, _ := url.ParseQuery(string(body))
			f.subjects = append(f.subjects, form.Get("subject_token"))
			if f.refuse {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"The audience in ID Token does not match the expected audience."}`)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "federated-token", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600})
		case strings.HasSuffix(r.URL.Path, ":generateAccessToken") && r.Header.Get("Authorization") == "Bearer federated-token":
			_ = json.NewEncoder(w).Encode(map[string]any{"accessToken": "deployer-token", "expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// externalAccountFile writes an external_account file as workload
// identity federation with service account impersonation uses it.
func externalAccountFile(t *testing.T, fed *federation) string {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "ci-oidc-token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("ci-oidc-jwt"), 0o600))
	cfg := map[string]any{
		"type":                              "external_account",
		"audience":                          "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci/providers/github",
		"subject_token_type":                "urn:ietf:params:oauth:token-type:jwt",
		"token_url":                         fed.URL + "/v1/token",
		"service_account_impersonation_url": fed.URL + "/v1/projects/-/serviceAccounts/deployer@lake-qa-1234.iam.gserviceaccount.com:generateAccessToken",
		"credential_source":                 map[string]any{"file": tokenFile},
	}
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	path := filepath.Join(dir, "gcp-credentials.json")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	return path
}

func TestDefaultCredentialsFromWorkloadIdentityFederation(t *testing.T) {
	fed := newFederation(t)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", externalAccountFile(t, fed))
	creds, err := DefaultCredentials(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"ci-oidc-jwt"}, fed.subjects, "the CI token was exchanged once, up front")

	// The impersonated token authenticates the API calls.
	f := cloudruntest.New(t)
	allReady(f)
	r, err := Connect(context.Background(), Options{Credentials: creds, Endpoint: f.URL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	require.NoError(t, r.WaitServices(context.Background(), dagsterServices(), dagsterImage, time.Minute))
	require.NotEmpty(t, f.Authorizations())
	for _, a := range f.Authorizations() {
		assert.Equal(t, "Bearer deployer-token", a)
	}
}

func TestDefaultCredentialsSayWhatToFix(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	_, err := DefaultCredentials(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GOOGLE_APPLICATION_CREDENTIALS=")
	assert.Contains(t, err.Error(), "missing.json")
	assert.Contains(t, err.Error(), "external_account file of workload identity federation")

	fed := newFederation(t)
	fed.refuse = true
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", externalAccountFile(t, fed))
	_, err = DefaultCredentials(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gave no token")
	assert.Contains(t, err.Error(), "does not match the expected audience", "STS's own words reach the user")
	assert.Contains(t, err.Error(), "workloadIdentityUser")
}
