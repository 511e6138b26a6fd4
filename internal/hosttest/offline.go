package hosttest

import (
	"os"
	"path/filepath"
	"testing"
)

// DeadProxy refuses every connection: the proxy every non-loopback request
// of an Offline test binary goes through (Go never proxies loopback).
const DeadProxy = "http://127.0.0.1:9"

// Offline runs a test binary that must never leave the machine: requests to
// anything but a loopback address go to DeadProxy, and neither cloud's
// default credentials can find anything real (no key or config files, no
// gcloud login, no metadata servers, no emulator variables), so a client
// that reached for AWS or Google fails instead. It is set before any
// request, as Go reads the proxy variables once per process. Use it as
// TestMain: func TestMain(m *testing.M) { os.Exit(hosttest.Offline(m)) }.
func Offline(m *testing.M) int {
	home, err := os.MkdirTemp("", "offline-test-home")
	if err != nil {
		return 1
	}
	defer os.RemoveAll(home)
	for k, v := range map[string]string{
		"HTTP_PROXY": DeadProxy, "HTTPS_PROXY": DeadProxy, "http_proxy": DeadProxy, "https_proxy": DeadProxy,
		"NO_PROXY": "", "no_proxy": "",
		"HOME": home, "CLOUDSDK_CONFIG": filepath.Join(home, "gcloud"),
		"GOOGLE_APPLICATION_CREDENTIALS": filepath.Join(home, "no-credentials.json"),
		"GCE_METADATA_HOST":              "", "GCE_METADATA_IP": "", "STORAGE_EMULATOR_HOST": "",
		"GOOGLE_API_USE_CLIENT_CERTIFICATE": "false", "GOOGLE_API_CERTIFICATE_CONFIG": filepath.Join(home, "no-certificate-config.json"),
		"GCP_STORAGE_GO_ENABLE_OTEL_METRICS": "false", "GOOGLE_CLOUD_UNIVERSE_DOMAIN": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(home, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
	} {
		os.Setenv(k, v)
	}
	return m.Run()
}
