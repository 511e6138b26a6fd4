package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/s3test"
)

// The end-to-end tests run this test binary as the command (TestMain calls
// Run when runAsLedger is set): a real process with real exit statuses,
// the credentials in its environment, the real SDK, and the in-process S3
// server of pipelines/internal/s3test on 127.0.0.1 as the only peer.

const (
	runAsLedger = "LEDGER_TEST_RUN_MAIN"
	bucket      = "lakehouse-tfstate"
	prefix      = "iceberg-lakehouse/staging/releases"
	secretKey   = "cmd-test-secret-access-key-never-printed"
	sessionTok  = "cmd-test-session-token-never-printed"
)

func TestMain(m *testing.M) {
	if os.Getenv(runAsLedger) == "1" {
		os.Exit(Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

// ledgerProcess runs the command with only the environment a pipeline
// container would give it: credentials as variables, no config files, no
// metadata endpoint. No Google credentials are found either:
// GOOGLE_APPLICATION_CREDENTIALS names a file that does not exist, so nothing
// probes for a metadata server.
func ledgerProcess(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{
		runAsLedger + "=1",
		"HOME=" + home,
		"AWS_ACCESS_KEY_ID=AKIDCMDTEST",
		"AWS_SECRET_ACCESS_KEY=" + secretKey,
		"AWS_SESSION_TOKEN=" + sessionTok,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"GOOGLE_APPLICATION_CREDENTIALS=" + filepath.Join(home, "no-such-credentials.json"),
		// Anything but loopback (never proxied) fails instead of leaving the machine.
		"HTTP_PROXY=http://127.0.0.1:9",
		"HTTPS_PROXY=http://127.0.0.1:9",
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	r := result{code: code, stdout: out.String(), stderr: errb.String()}
	for _, secret := range []string{secretKey, sessionTok} {
		require.NotContains(t, r.stdout+r.stderr, secret, "a credential was printed")
	}
	return r
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// appendTwiceThenRead runs the command as a deploy would against the store
// conn reaches: an entry from a file, one from stdin, each printed with its
// seq and key, the second stored as given (object reads what the server
// holds), then read back in order.
func appendTwiceThenRead(t *testing.T, conn []string, object func(bucket, key string) ([]byte, bool)) {
	t.Helper()
	first := ledgerProcess(t, "", append([]string{"append"}, append(conn, "--file", writeFile(t, "e.json", `{"release":"r1","verdict":"pass"}`))...)...)
	require.Equal(t, 0, first.code, first.stderr)
	assert.JSONEq(t, `{"seq":1,"key":"iceberg-lakehouse/staging/releases/000001.json"}`, first.stdout)

	second := ledgerProcess(t, `{"release":"r2","verdict":"failed"}`, append([]string{"append"}, append(conn, "--file", "-")...)...)
	require.Equal(t, 0, second.code, second.stderr)
	assert.JSONEq(t, `{"seq":2,"key":"iceberg-lakehouse/staging/releases/000002.json"}`, second.stdout)

	stored, ok := object(bucket, prefix+"/000002.json")
	require.True(t, ok)
	assert.JSONEq(t, `{"release":"r2","verdict":"failed"}`, string(stored))

	read := ledgerProcess(t, "", append([]string{"read"}, conn...)...)
	require.Equal(t, 0, read.code, read.stderr)
	assert.JSONEq(t, `[
	  {"seq":1,"key":"iceberg-lakehouse/staging/releases/000001.json","body":{"release":"r1","verdict":"pass"}},
	  {"seq":2,"key":"iceberg-lakehouse/staging/releases/000002.json","body":{"release":"r2","verdict":"failed"}}
	]`, read.stdout)
}

func TestEndToEndAppendThenRead(t *testing.T) {
	srv := s3test.Start(t, bucket)
	conn := []string{"--bucket", bucket, "--prefix", prefix, "--region", "us-east-1", "--endpoint", srv.URL, "--path-style"}

	appendTwiceThenRead(t, conn, srv.Object)

	for _, r := range srv.Requests() {
		if r.Method == http.MethodPut {
			assert.Equal(t, "*", r.IfNoneMatch, "%s %s was not a conditional create", r.Method, r.Path)
		}
	}
}

func TestEndToEndReadOfAnEmptyLedgerIsAnEmptyArray(t *testing.T) {
	srv := s3test.Start(t, bucket)
	r := ledgerProcess(t, "", "read", "--bucket", bucket, "--prefix", prefix, "--region", "us-east-1", "--endpoint", srv.URL, "--path-style")
	require.Equal(t, 0, r.code, r.stderr)
	assert.JSONEq(t, `[]`, r.stdout)
}

func TestEndToEndBucketAndRegionFromTheBackendFile(t *testing.T) {
	srv := s3test.Start(t, bucket)
	backend := writeFile(t, "backend.tfbackend", fmt.Sprintf("bucket = %q\nregion = \"eu-west-1\"\nuse_lockfile = true\n", bucket))
	r := ledgerProcess(t, `{"n":1}`, "append", "--backend", backend, "--prefix", prefix, "--endpoint", srv.URL, "--path-style", "--file", "-")
	require.Equal(t, 0, r.code, r.stderr)
	_, ok := srv.Object(bucket, prefix+"/000001.json")
	assert.True(t, ok)
}

func TestEndToEndAnotherDeployRecordingMeanwhileIsAConflictNotAnOverwrite(t *testing.T) {
	srv := s3test.Start(t, bucket)
	srv.Put(t, bucket, prefix+"/000001.json", []byte(`{"by":"earlier"}`))
	// Between the command's listing and its write, another deploy records
	// seq 2: a proxy in front of the server writes it right after
	// answering the first ListObjectsV2.
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var once sync.Once
	racing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxy.ServeHTTP(w, r)
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
			once.Do(func() { srv.Put(t, bucket, prefix+"/000002.json", []byte(`{"by":"other deploy"}`)) })
		}
	}))
	t.Cleanup(racing.Close)

	r := ledgerProcess(t, `{"by":"me"}`, "append", "--bucket", bucket, "--prefix", prefix, "--region", "us-east-1", "--endpoint", racing.URL, "--path-style", "--file", "-")
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "entry 000002")
	assert.Contains(t, r.stderr, "another deploy of this environment recorded meanwhile")
	b, _ := srv.Object(bucket, prefix+"/000002.json")
	assert.JSONEq(t, `{"by":"other deploy"}`, string(b), "the other deploy's record is intact")
	_, ok := srv.Object(bucket, prefix+"/000003.json")
	assert.False(t, ok, "no retry at the next seq")
}

func TestEndToEndFailuresExitOneWithTheServicesMessage(t *testing.T) {
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/staging-deploy/ci is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::lakehouse-tfstate"</Message><RequestId>R1</RequestId></Error>`)
	}))
	t.Cleanup(denied.Close)
	srv := s3test.Start(t, bucket)
	srv.Put(t, bucket, prefix+"/000001.json", []byte(`{}`))
	srv.Put(t, bucket, prefix+"/latest.json", []byte(`{}`))
	entry := writeFile(t, "e.json", `{}`)

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"access denied", []string{"read", "--bucket", bucket, "--prefix", prefix, "--region", "us-east-1", "--endpoint", denied.URL, "--path-style"},
			[]string{"AccessDenied: User: arn:aws:sts::123456789012:assumed-role/staging-deploy/ci is not authorized to perform: s3:ListBucket", "HTTP 403"}},
		{"no such bucket", []string{"append", "--bucket", "missing-bucket", "--prefix", prefix, "--region", "us-east-1", "--endpoint", srv.URL, "--path-style", "--file", entry},
			[]string{"s3://missing-bucket/" + prefix + "/", "NoSuchBucket"}},
		{"malformed ledger", []string{"read", "--bucket", bucket, "--prefix", prefix, "--region", "us-east-1", "--endpoint", srv.URL, "--path-style"},
			[]string{"unexpected object " + prefix + "/latest.json"}},
		{"entry not json", []string{"append", "--bucket", bucket, "--prefix", prefix, "--region", "us-east-1", "--file", writeFile(t, "bad.json", `{"a":`)},
			[]string{"is not a JSON document"}},
		{"entry missing", []string{"append", "--bucket", bucket, "--prefix", prefix, "--region", "us-east-1", "--file", "/nonexistent/entry.json"},
			[]string{"read entry", "/nonexistent/entry.json"}},
		{"backend file broken", []string{"read", "--backend", writeFile(t, "b.tfbackend", "bucket = 3\nregion = \"r\"\n"), "--prefix", prefix},
			[]string{"b.tfbackend:1: bucket must be a string"}},
		{"no region", []string{"read", "--bucket", bucket, "--prefix", prefix}, []string{"no region"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ledgerProcess(t, "", tc.args...)
			assert.Equal(t, 1, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w)
			}
			assert.NotContains(t, r.stderr, "usage:")
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "missing command"},
		{"unknown command", []string{"delete"}, `unknown command "delete"`},
		{"no bucket", []string{"read", "--prefix", prefix}, "missing --bucket"},
		{"no prefix", []string{"read", "--bucket", bucket}, "missing --prefix"},
		{"bad prefix", []string{"read", "--bucket", bucket, "--prefix", "/abs"}, "--prefix"},
		{"no file", []string{"append", "--bucket", bucket, "--prefix", prefix}, "missing --file"},
		{"file on read", []string{"read", "--bucket", bucket, "--prefix", prefix, "--file", "x"}, "flag provided but not defined: -file"},
		{"secret flag", []string{"read", "--bucket", bucket, "--prefix", prefix, "--secret-access-key", "x"}, "not defined"},
		{"positional", []string{"read", "--bucket", bucket, "--prefix", prefix, "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			assert.Equal(t, 2, code)
			assert.Contains(t, errb.String(), tc.want)
			assert.Contains(t, errb.String(), "usage:")
			assert.Empty(t, out.String())
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"read", "-h"}} {
		var out, errb bytes.Buffer
		assert.Equal(t, 0, Run(context.Background(), args, strings.NewReader(""), &out, &errb))
		assert.Contains(t, out.String(), "ledger append --bucket B --prefix P")
	}
}

func TestReadOutputEmbedsTheEntryAsJSON(t *testing.T) {
	// The body is embedded, not quoted: a consumer reads fields directly.
	srv := s3test.Start(t, bucket)
	srv.Put(t, bucket, prefix+"/000001.json", []byte(`{"verdict":"pass"}`))
	r := ledgerProcess(t, "", "read", "--bucket", bucket, "--prefix", prefix+"/", "--region", "us-east-1", "--endpoint", srv.URL, "--path-style")
	require.Equal(t, 0, r.code, r.stderr)
	var got []struct {
		Body struct{ Verdict string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	require.Len(t, got, 1)
	assert.Equal(t, "pass", got[0].Body.Verdict)
}
