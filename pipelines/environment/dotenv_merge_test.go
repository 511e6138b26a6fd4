package environment

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeDotenvKeepsTheFileAndSetsTerraformsValues(t *testing.T) {
	src := "# catalog\nLAKEHOUSE_ENVIRONMENT=e1\nICEBERG_CATALOG_URI=http://old/iceberg/main # stale\nLAKEHOUSE_ACCESS_LEVEL=reader\n"
	out, err := MergeDotenv("dagster/.env.e1", []byte(src), map[string]string{
		"ICEBERG_CATALOG_URI": "https://nessie.e1.internal/iceberg/main",
		"ICEBERG_WAREHOUSE":   "s3://lakehouse-e1-lakehouse/warehouse",
		"ALERT_SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:1:topic name",
	}, "terraform output of e1/aws")
	require.NoError(t, err)
	text := string(out)
	assert.True(t, strings.HasPrefix(text, "# catalog\nLAKEHOUSE_ENVIRONMENT=e1\nICEBERG_CATALOG_URI=https://nessie.e1.internal/iceberg/main\n"), text)
	assert.Contains(t, text, "# From terraform output of e1/aws.\nALERT_SNS_TOPIC_ARN='arn:aws:sns:us-east-1:1:topic name'\nICEBERG_WAREHOUSE=s3://lakehouse-e1-lakehouse/warehouse\n")
	vars, err := ParseDotenv("x", out)
	require.NoError(t, err)
	assert.Equal(t, "reader", vars["LAKEHOUSE_ACCESS_LEVEL"])
	assert.Equal(t, "arn:aws:sns:us-east-1:1:topic name", vars["ALERT_SNS_TOPIC_ARN"])
}

func TestMergeDotenvRefusesWhatAnEnvFileCannotHold(t *testing.T) {
	_, err := MergeDotenv("f", []byte("A=1\n"), map[string]string{"B": "two\nlines"}, "x")
	require.ErrorContains(t, err, "line break")
	_, err = MergeDotenv("f", []byte("A=1\nA=2\n"), nil, "x")
	require.Error(t, err, "a file the pipeline refuses is not merged into")
}

// A key is replaced on the line the parser read it from, however that line
// is written (found by FuzzParseDotenv: "export<tab>KEY=" was appended again
// as a duplicate, and the merge refused its own output).
func TestMergeDotenvReplacesTheLineTheKeyIsOn(t *testing.T) {
	src := "export\tA=1\n  B='two' # kept\n"
	out, err := MergeDotenv("f", []byte(src), map[string]string{"A": "9", "B": "2"}, "x")
	require.NoError(t, err)
	assert.Equal(t, "A=9\nB=2\n", string(out))
}
