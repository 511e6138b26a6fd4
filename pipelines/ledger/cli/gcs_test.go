package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/ledger/internal/gcstest"
)

// The GCS end-to-end tests run the command as a process (ledgerProcess)
// against fake-gcs-server's JSON API on 127.0.0.1 (internal/gcstest), the
// way a GCP environment's deploy runs it: --store gcs, the bucket from the
// committed backend file.

func gcsBackend(t *testing.T, bucketName string) string {
	return writeFile(t, "backend.tfbackend", fmt.Sprintf("# Partial GCS backend settings\nbucket = %q\n", bucketName))
}

func TestEndToEndGCSAppendThenReadWithTheBackendFile(t *testing.T) {
	srv := gcstest.Start(t, bucket)
	conn := []string{"--store", "gcs", "--backend", gcsBackend(t, bucket), "--endpoint", srv.URL, "--prefix", prefix}

	appendTwiceThenRead(t, conn, srv.Object)

	ups := srv.Uploads()
	require.Len(t, ups, 2)
	for _, r := range ups {
		assert.Equal(t, "0", r.IfGenerationMatch, "%s %s was not a conditional create", r.Method, r.Path)
	}
}

func TestEndToEndGCSBucketFlagWinsOverTheBackendFile(t *testing.T) {
	srv := gcstest.Start(t, bucket)
	r := ledgerProcess(t, `{"n":1}`, "append", "--store", "gcs", "--backend", gcsBackend(t, "not-this-one"), "--bucket", bucket, "--endpoint", srv.URL, "--prefix", prefix, "--file", "-")
	require.Equal(t, 0, r.code, r.stderr)
	_, ok := srv.Object(bucket, prefix+"/000001.json")
	assert.True(t, ok)
}

func TestEndToEndGCSReadOfAnEmptyLedgerIsAnEmptyArray(t *testing.T) {
	srv := gcstest.Start(t, bucket)
	r := ledgerProcess(t, "", "read", "--store", "gcs", "--bucket", bucket, "--endpoint", srv.URL, "--prefix", prefix)
	require.Equal(t, 0, r.code, r.stderr)
	assert.JSONEq(t, `[]`, r.stdout)
}

func TestEndToEndGCSAnotherDeployRecordingMeanwhileIsAConflictNotAnOverwrite(t *testing.T) {
	srv := gcstest.Start(t, bucket)
	srv.Put(t, bucket, prefix+"/000001.json", []byte(`{"by":"earlier"}`))
	// Between the command's listing and its write, another deploy records
	// seq 2: it is stored right after the first objects.list is answered.
	var once sync.Once
	srv.Intercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(w, r)
		if r.Method == http.MethodGet && r.URL.Path == "/storage/v1/b/"+bucket+"/o" {
			once.Do(func() { srv.Put(t, bucket, prefix+"/000002.json", []byte(`{"by":"other deploy"}`)) })
		}
	})

	r := ledgerProcess(t, `{"by":"me"}`, "append", "--store", "gcs", "--bucket", bucket, "--endpoint", srv.URL, "--prefix", prefix, "--file", "-")
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "entry 000002")
	assert.Contains(t, r.stderr, "another deploy of this environment recorded meanwhile")
	b, _ := srv.Object(bucket, prefix+"/000002.json")
	assert.JSONEq(t, `{"by":"other deploy"}`, string(b), "the other deploy's record is intact")
	_, ok := srv.Object(bucket, prefix+"/000003.json")
	assert.False(t, ok, "no retry at the next seq")
	ups := srv.Uploads()
	require.Len(t, ups, 1)
	assert.Equal(t, http.StatusPreconditionFailed, ups[0].Status, "GCS refused the write")
}

func TestEndToEndGCSFailuresExitOneWithWhatToDo(t *testing.T) {
	srv := gcstest.Start(t, bucket)
	gcpBackend := gcsBackend(t, bucket)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no such bucket", []string{"append", "--store", "gcs", "--bucket", "no-such-bucket", "--endpoint", srv.URL, "--prefix", prefix, "--file", writeFile(t, "e.json", `{}`)},
			[]string{"objects.list gs://no-such-bucket/" + prefix + "/", "HTTP 404", "the bucket does not exist; check the bucket attribute of gcp/backend.tfbackend (or --bucket)"}},
		{"no credentials", []string{"read", "--store", "gcs", "--backend", gcpBackend, "--prefix", prefix},
			[]string{"no-such-credentials.json cannot be used", "GOOGLE_APPLICATION_CREDENTIALS", "with-gcp-credentials"}},
		{"backend file broken", []string{"read", "--store", "gcs", "--backend", writeFile(t, "b.tfbackend", "bucket = 3\n"), "--prefix", prefix},
			[]string{"b.tfbackend:1: bucket must be a string"}},
		{"gcs backend file without --store gcs", []string{"read", "--backend", gcpBackend, "--prefix", prefix},
			[]string{"missing region", "add --store gcs"}},
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
	assert.Empty(t, srv.Uploads(), "nothing was written")
}

func TestStoreUsageErrorsExitTwo(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown store", []string{"read", "--store", "azure", "--bucket", bucket, "--prefix", prefix}, `read: unknown --store "azure": use s3 or gcs`},
		{"region with gcs", []string{"read", "--store", "gcs", "--bucket", bucket, "--prefix", prefix, "--region", "europe-west1"}, "read: --region is for --store s3 only"},
		{"path style with gcs", []string{"append", "--store", "gcs", "--bucket", bucket, "--prefix", prefix, "--path-style", "--file", "-"}, "append: --path-style is for --store s3 only"},
		{"both with gcs", []string{"read", "--region", "r", "--path-style", "--store", "gcs", "--bucket", bucket, "--prefix", prefix}, "--path-style and --region are for --store s3 only"},
		{"gcs without bucket", []string{"read", "--store", "gcs", "--prefix", prefix}, "missing --bucket (or --backend FILE)"},
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

func TestHelpNamesBothStoresAndTheirCredentials(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, Run(context.Background(), []string{"--help"}, strings.NewReader(""), &out, &errb))
	for _, w := range []string{"--store gcs", "gcp/backend.tfbackend", "GOOGLE_APPLICATION_CREDENTIALS", "AWS_ACCESS_KEY_ID"} {
		assert.Contains(t, out.String(), w)
	}
}
