package ledger

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestS3ConfigFromTheCommittedBackendFile(t *testing.T) {
	src, err := os.ReadFile("../../aws/backend.tfbackend")
	require.NoError(t, err)
	cfg, err := S3ConfigFromBackend("aws/backend.tfbackend", src)
	require.NoError(t, err)
	assert.Equal(t, S3Config{Bucket: "replace-me-tfstate-bucket", Region: "us-east-1"}, cfg)
}

func TestS3ConfigFromBackendReadsALocalEndpoint(t *testing.T) {
	cfg, err := S3ConfigFromBackend("local.tfbackend", []byte(`
bucket         = "b"
region         = "eu-west-1"
use_path_style = true
endpoints      = { s3 = "http://127.0.0.1:8333", sts = "http://x" }
use_lockfile   = true
key            = "ignored"
`))
	require.NoError(t, err)
	assert.Equal(t, S3Config{Bucket: "b", Region: "eu-west-1", Endpoint: "http://127.0.0.1:8333", PathStyle: true}, cfg)
}

func TestS3ConfigFromBackendErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"missing bucket", "region = \"us-east-1\"\n", `aws/backend.tfbackend: missing bucket: add a line bucket = "..."`},
		{"missing region", "bucket = \"b\"\n", "aws/backend.tfbackend: missing region"},
		{"bucket not a string", "region = \"r\"\n\nbucket = 3\n", "aws/backend.tfbackend:3: bucket must be a string, got number"},
		{"empty bucket", "bucket = \"\"\nregion = \"r\"\n", "aws/backend.tfbackend:1: bucket is empty"},
		{"not literal", "bucket = var.b\nregion = \"r\"\n", "aws/backend.tfbackend:1: bucket must be a literal value"},
		{"path style not bool", "bucket = \"b\"\nregion = \"r\"\nuse_path_style = \"yes\"\n", "aws/backend.tfbackend:3: use_path_style must be a bool"},
		{"endpoints not object", "bucket = \"b\"\nregion = \"r\"\nendpoints = \"http://x\"\n", "aws/backend.tfbackend:3: endpoints must be an object"},
		{"syntax", "bucket = \n", "aws/backend.tfbackend:1"},
		{"block", "bucket = \"b\"\nregion = \"r\"\nassume_role {\n}\n", "aws/backend.tfbackend:3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := S3ConfigFromBackend("aws/backend.tfbackend", []byte(tc.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestGCSConfigFromTheCommittedBackendFile(t *testing.T) {
	src, err := os.ReadFile("../../gcp/backend.tfbackend")
	require.NoError(t, err)
	cfg, err := GCSConfigFromBackend("gcp/backend.tfbackend", src)
	require.NoError(t, err)
	assert.Equal(t, GCSConfig{Bucket: "replace-me-tfstate-bucket"}, cfg)
}

func TestGCSConfigFromBackendIgnoresTerraformsOtherSettings(t *testing.T) {
	// prefix is the state's; credentials and a custom endpoint are
	// Terraform's, never a source of the ledger's credentials or server.
	cfg, err := GCSConfigFromBackend("local.tfbackend", []byte(`
bucket                  = "b"
prefix                  = "iceberg-lakehouse/zzomega"
credentials             = "/secret/sa.json"
storage_custom_endpoint = "https://storage-private.example/storage/v1/"
`))
	require.NoError(t, err)
	assert.Equal(t, GCSConfig{Bucket: "b"}, cfg)
}

func TestGCSConfigFromBackendErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"missing bucket", "prefix = \"p\"\n", `gcp/backend.tfbackend: missing bucket: add a line bucket = "..."`},
		{"empty bucket", "# state\nbucket = \"\"\n", "gcp/backend.tfbackend:2: bucket is empty"},
		{"bucket not a string", "bucket = true\n", "gcp/backend.tfbackend:1: bucket must be a string, got bool"},
		{"not literal", "bucket = local.b\n", "gcp/backend.tfbackend:1: bucket must be a literal value"},
		{"syntax", "bucket = \n", "gcp/backend.tfbackend:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GCSConfigFromBackend("gcp/backend.tfbackend", []byte(tc.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
