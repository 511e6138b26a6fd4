package cli

import (
	"os"
	"testing"
)

// TestMain keeps the tests on this machine: every request that is not to a
// loopback address goes through a proxy that does not exist (Go never
// proxies loopback), and neither cloud's default credentials can find
// anything real (no key or config files, no metadata servers), so a client
// that reached for AWS or Google fails instead of leaving the machine. Set
// before any request: Go reads the proxy variables once per process.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "envrun-cli-test-home")
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
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": home + "/aws-config", "AWS_SHARED_CREDENTIALS_FILE": home + "/aws-credentials",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
	} {
		os.Setenv(k, v)
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// deadProxy refuses every connection.
const deadProxy = "http://127.0.0.1:9"
