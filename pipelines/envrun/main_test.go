package envrun_test

import (
	"os"
	"testing"
)

// TestMain keeps the tests on this machine: every request that is not to a
// loopback address (moto's server is on 127.0.0.1) goes through a proxy that
// does not exist, as Go never proxies loopback, so a client that reached for
// AWS fails instead of leaving the machine. Set before any request: Go reads
// the proxy variables once per process.
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
