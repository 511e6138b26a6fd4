package cli

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/s3test"
)

// TestBuiltCommandAppendsAndReads builds cmd/ledger as the pipeline's image
// would and runs the binary itself against the fake S3 server, credentials
// only in its environment: main's wiring (arguments, streams, exit status)
// is what the other end-to-end tests assume.
func TestBuiltCommandAppendsAndReads(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not found on PATH: skipping the build of cmd/ledger")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "ledger")
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, "github.com/iceberg-lakehouse/iceberg-lakehouse/cmd/ledger")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/ledger:\n%s", out)

	srv := s3test.Start(t, bucket)
	home := t.TempDir()
	env := []string{
		"HOME=" + home,
		"AWS_ACCESS_KEY_ID=AKIDBUILDTEST",
		"AWS_SECRET_ACCESS_KEY=" + secretKey,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"HTTP_PROXY=http://127.0.0.1:9",
		"HTTPS_PROXY=http://127.0.0.1:9",
	}
	runBin := func(stdin string, args ...string) (int, string, string) {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		cmd.Stdin = bytes.NewBufferString(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		assert.NotContains(t, stdout.String()+stderr.String(), secretKey)
		return code, stdout.String(), stderr.String()
	}
	conn := []string{"--bucket", bucket, "--prefix", prefix, "--region", "us-east-1", "--endpoint", srv.URL, "--path-style"}

	code, stdout, stderr := runBin(`{"verdict":"pass"}`, append(append([]string{"append"}, conn...), "--file", "-")...)
	require.Equal(t, 0, code, stderr)
	assert.JSONEq(t, `{"seq":1,"key":"`+prefix+`/000001.json"}`, stdout)

	code, stdout, stderr = runBin("", append([]string{"read"}, conn...)...)
	require.Equal(t, 0, code, stderr)
	assert.JSONEq(t, `[{"seq":1,"key":"`+prefix+`/000001.json","body":{"verdict":"pass"}}]`, stdout)

	code, _, stderr = runBin("", "append", "--bucket", bucket)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "usage:")
}
