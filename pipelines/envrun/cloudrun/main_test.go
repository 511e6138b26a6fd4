package cloudrun

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun/cloudruntest"
)

// TestMain keeps the tests on this machine (see hosttest.Offline).
func TestMain(m *testing.M) { os.Exit(hosttest.Offline(m)) }

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
