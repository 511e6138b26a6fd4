package redact

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTextRemovesCredentialsToolsPrint(t *testing.T) {
	cases := map[string]struct{ in, secret string }{
		"aws access key id":  {"Error: InvalidClientTokenId for AKIAIOSFODNN7EXAMPLE in us-east-1", "AKIAIOSFODNN7EXAMPLE"},
		"temporary key id":   {"key ASIAXXXXXXXXXXXXXXXX expired", "ASIAXXXXXXXXXXXXXXXX"},
		"password in a URI":  {"cannot connect to postgresql://dagster:hunter2@db:5432/dagster", "hunter2"},
		"secret label":       {`Error: aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, "wJalrXUtnFEMI"},
		"json private key":   {`{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}`, "MIIE"},
		"password attribute": {`  + password = "s3cr3t-value"`, "s3cr3t-value"},
		"slack webhook":      {"post to https://hooks.slack.com/services/T000/B000/XXXXSECRET failed", "XXXXSECRET"},
		"bearer token":       {"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"},
		"session token env":  {"AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLE", "FwoGZXIvYXdzEXAMPLE"},
		"pem block":          {"-----BEGIN RSA PRIVATE KEY-----\nabcdef\n-----END RSA PRIVATE KEY-----", "abcdef"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := Text(tc.in)
			assert.NotContains(t, out, tc.secret)
			assert.Contains(t, out, Mask)
		})
	}
}

func TestTextKeepsOrdinaryDiagnostics(t *testing.T) {
	for _, s := range []string{
		`Error: Saved plan is stale`,
		`Lock Info:\n  ID:        4d5c0c86-8a3f-11ee-b9d1-0242ac120002\n  Path:      lakehouse-state/iceberg-lakehouse/prod/terraform.tfstate`,
		`│ Error: No valid credential sources found`,
		`Warning: Value for undeclared variable`,
		`Error: validating provider credentials: retrieving caller identity from STS: operation error STS`,
		`Error: No valid credential sources found for AWS Provider.`,
		`The given key does not identify an element in this collection value.`,
	} {
		assert.Equal(t, s, Text(s))
	}
}

func TestTailKeepsTheEndAndSaysItWasCut(t *testing.T) {
	lines := make([]string, 100)
	for i := range lines {
		lines[i] = strings.Repeat("x", 10)
	}
	lines[99] = "Error: Saved plan is stale"
	out := Tail(strings.Join(lines, "\n"), 5, 4000)
	assert.True(t, strings.HasPrefix(out, "…\n"))
	assert.True(t, strings.HasSuffix(out, "Error: Saved plan is stale"))
	assert.Len(t, strings.Split(out, "\n"), 6)
	assert.Equal(t, "short", Tail("  short\n", 5, 100))
	assert.LessOrEqual(t, len(Tail(strings.Repeat("é", 3000), 100, 1001)), 1001+len("…\n"))
}
