package environment

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustEnv(t *testing.T, name string) Env {
	t.Helper()
	c, err := NewCatalog(map[string][]byte{"environments/" + name + ".tfvars": tfvars(name).Data})
	require.NoError(t, err)
	env, err := c.Lookup(name)
	require.NoError(t, err)
	return env
}

const validDevEnv = `# dev runtime
LAKEHOUSE_ENVIRONMENT=dev
LAKEHOUSE_ACCESS_LEVEL=admin
LAKEHOUSE_ALERTING_ENABLED=false
LAKEHOUSE_DEPLOYED=false
export ICEBERG_CATALOG_URI="http://nessie:19120/iceberg"
ICEBERG_WAREHOUSE='s3://lakehouse-dev-lakehouse/warehouse' 
AWS_REGION=us-east-1 # ignored by the pipeline
`

func TestLoadRuntimeDecodesTheEnvFile(t *testing.T) {
	env := mustEnv(t, "dev")
	rt, err := LoadRuntime(fstest.MapFS{"dagster/.env.dev": {Data: []byte(validDevEnv)}}, env)
	require.NoError(t, err)
	assert.Equal(t, Runtime{
		Env: env,
		RuntimeVars: RuntimeVars{
			AccessLevel:     AccessAdmin,
			AlertingEnabled: false,
			Deployed:        false,
			CatalogURI:      "http://nessie:19120/iceberg",
			Warehouse:       "s3://lakehouse-dev-lakehouse/warehouse",
		},
	}, rt)
}

func TestLoadRuntimeOfMissingFileSaysHowToCreateIt(t *testing.T) {
	_, err := LoadRuntime(fstest.MapFS{}, mustEnv(t, "zzfixture"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "copy dagster/.env.example or another environment's file to dagster/.env.zzfixture")
}

func TestParseRuntimeRejectsInvalidFiles(t *testing.T) {
	base := map[string]string{
		"LAKEHOUSE_ENVIRONMENT":      "LAKEHOUSE_ENVIRONMENT=prod",
		"LAKEHOUSE_ACCESS_LEVEL":     "LAKEHOUSE_ACCESS_LEVEL=reader",
		"LAKEHOUSE_ALERTING_ENABLED": "LAKEHOUSE_ALERTING_ENABLED=true",
		"LAKEHOUSE_DEPLOYED":         "LAKEHOUSE_DEPLOYED=true",
		"ICEBERG_CATALOG_URI":        "ICEBERG_CATALOG_URI=http://nessie/iceberg",
		"ICEBERG_WAREHOUSE":          "ICEBERG_WAREHOUSE=s3://w",
	}
	order := []string{"LAKEHOUSE_ENVIRONMENT", "LAKEHOUSE_ACCESS_LEVEL", "LAKEHOUSE_ALERTING_ENABLED", "LAKEHOUSE_DEPLOYED", "ICEBERG_CATALOG_URI", "ICEBERG_WAREHOUSE"}
	build := func(override map[string]string, extra string) []byte {
		var s string
		for _, k := range order {
			line := base[k]
			if o, ok := override[k]; ok {
				line = o
			}
			if line != "" {
				s += line + "\n"
			}
		}
		return []byte(s + extra)
	}
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"environment of another env", build(map[string]string{"LAKEHOUSE_ENVIRONMENT": "LAKEHOUSE_ENVIRONMENT=dev"}, ""),
			[]string{"dagster/.env.prod:1", "LAKEHOUSE_ENVIRONMENT=dev", "set LAKEHOUSE_ENVIRONMENT=prod"}},
		{"environment missing", build(map[string]string{"LAKEHOUSE_ENVIRONMENT": ""}, ""),
			[]string{"missing LAKEHOUSE_ENVIRONMENT", "add LAKEHOUSE_ENVIRONMENT=prod"}},
		{"unknown access level", build(map[string]string{"LAKEHOUSE_ACCESS_LEVEL": "LAKEHOUSE_ACCESS_LEVEL=root"}, ""),
			[]string{`dagster/.env.prod:2: LAKEHOUSE_ACCESS_LEVEL: "root" is not an access level: allowed values are admin, reader`}},
		{"alerting not a strict bool", build(map[string]string{"LAKEHOUSE_ALERTING_ENABLED": "LAKEHOUSE_ALERTING_ENABLED=yes"}, ""),
			[]string{"dagster/.env.prod:3", "allowed values are true, false"}},
		{"alerting given as 1", build(map[string]string{"LAKEHOUSE_ALERTING_ENABLED": "LAKEHOUSE_ALERTING_ENABLED=1"}, ""),
			[]string{"allowed values are true, false"}},
		{"catalog uri missing", build(map[string]string{"ICEBERG_CATALOG_URI": ""}, ""),
			[]string{"dagster/.env.prod: missing ICEBERG_CATALOG_URI: add a line ICEBERG_CATALOG_URI="}},
		{"deployed missing", build(map[string]string{"LAKEHOUSE_DEPLOYED": ""}, ""),
			[]string{"dagster/.env.prod: missing LAKEHOUSE_DEPLOYED", "dagster/.env.example"}},
		{"deployed not a strict bool", build(map[string]string{"LAKEHOUSE_DEPLOYED": "LAKEHOUSE_DEPLOYED=1"}, ""),
			[]string{"dagster/.env.prod:4", "LAKEHOUSE_DEPLOYED", "allowed values are true, false"}},
		{"warehouse empty", build(map[string]string{"ICEBERG_WAREHOUSE": "ICEBERG_WAREHOUSE="}, ""),
			[]string{"dagster/.env.prod:6", "ICEBERG_WAREHOUSE is empty"}},
		{"malformed line", build(nil, "this is not a setting\n"),
			[]string{"dagster/.env.prod:7", "expected KEY=VALUE"}},
		{"unterminated quote", build(nil, "X=\"abc\n"),
			[]string{"dagster/.env.prod:7", "unterminated quote"}},
		{"duplicate key", build(nil, "LAKEHOUSE_ACCESS_LEVEL=admin\n"),
			[]string{"dagster/.env.prod:7", "already set on line 2"}},
	}
	env := mustEnv(t, "prod")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRuntime(env, env.EnvFile(), tt.data)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	t.Run("the valid base is accepted", func(t *testing.T) {
		rt, err := ParseRuntime(env, env.EnvFile(), build(nil, ""))
		require.NoError(t, err)
		assert.Equal(t, AccessReader, rt.AccessLevel)
		assert.True(t, rt.AlertingEnabled)
		assert.True(t, rt.Deployed)
	})
}

func TestParseRuntimeRefusesZeroEnv(t *testing.T) {
	_, err := ParseRuntime(Env{}, "dagster/.env.x", []byte(validDevEnv))
	require.Error(t, err)
}
