package cloudrun

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun/cloudruntest"
)

// TestMain keeps the tests on this machine: every request that is not to a
// loopback address goes through a proxy that does not exist (Go never
// proxies loopback), and Application Default Credentials can find nothing
// real (no key file, no gcloud login, no metadata server), so a client
// that reached for Google fails instead of leaving the machine. Set before
// any request: Go reads the proxy variables once per process.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "cloudrun-test-home")
	if err != nil {
		panic(err)
	}
	for k, v := range map[string]string{
		"HTTP_PROXY": deadProxy, "HTTPS_PROXY": deadProxy, "http_proxy": deadProxy, "https_proxy": deadProxy,
		"NO_PROXY": "", "no_proxy": "",
		"HOME": home, "CLOUDSDK_CONFIG": home + "/gcloud",
		"GOOGLE_APPLICATION_CREDENTIALS": home + "/no-credentials.json",
		"GCE_METADATA_HOST":              "", "GCE_METADATA_IP": "", "STORAGE_EMULATOR_HOST": "",
		"GOOGLE_API_USE_CLIENT_CERTIFICATE": "false", "GOOGLE_API_CERTIFICATE_CONFIG": home + "/no-certificate-config.json",
		"GCP_STORAGE_GO_ENABLE_OTEL_METRICS": "false", "GOOGLE_CLOUD_UNIVERSE_DOMAIN": "",
	} {
		os.Setenv(k, v)
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// deadProxy refuses every connection.
const deadProxy = "http://127.0.0.1:9"

// runner talks to the fake on its one endpoint, unauthenticated, polling
// fast.
func runner(t *testing.T, f *cloudruntest.Server) (*Runner, *[]string) {
	t.Helper()
	r, err := Connect(context.Background(), Options{Endpoint: f.URL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	var progress []string
	r.Poll = time.Millisecond
	r.Progress = func(s string) { progress = append(progress, s) }
	return r, &progress
}
