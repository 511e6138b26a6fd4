package cli

import (
	"os"
	"testing"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
)

// TestMain keeps the tests on this machine (see hosttest.Offline).
func TestMain(m *testing.M) { os.Exit(hosttest.Offline(m)) }
