package infra

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
)

// The pipeline's in-environment verification (pipelines/envrun) decodes
// the aws root's outputs strictly: a key added or renamed on one side only
// would fail a real deploy after its apply. This test reads the object keys
// of each output in aws/outputs.tf and compares them with the fields envrun
// decodes.
func TestAwsOutputsMatchWhatEnvrunDecodes(t *testing.T) {
	path := filepath.Join(repoRoot(t), "aws", "outputs.tf")
	file, diags := hclparse.NewParser().ParseHCLFile(path)
	require.False(t, diags.HasErrors(), diags.Error())
	body := file.Body.(*hclsyntax.Body)
	outputKeys := map[string][]string{}
	services := map[string][]string{}
	for _, block := range body.Blocks {
		if block.Type != "output" {
			continue
		}
		value, ok := block.Body.Attributes["value"]
		if !ok {
			continue
		}
		obj := objectOf(value.Expr)
		if obj == nil {
			continue
		}
		outputKeys[block.Labels[0]] = keysOf(t, obj)
		if block.Labels[0] == envrun.ServicesOutput {
			for _, item := range obj.Items {
				if hcl.ExprAsKeyword(item.KeyExpr) == "services" {
					forExpr, ok := item.ValueExpr.(*hclsyntax.ForExpr)
					require.True(t, ok, "dagster_services.services must be a for expression over the services")
					services["service"] = keysOf(t, objectOf(forExpr.ValExpr))
				}
			}
		}
	}
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.Task{})), outputKeys[envrun.SmokeOutput], "smoke_run")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.GateTask{})), outputKeys[envrun.GateOutput], "quality_gate")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.Services{})), outputKeys[envrun.ServicesOutput], "dagster_services")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.Service{})), services["service"], "dagster_services.services[*]")
}

// objectOf is the object of `cond ? {…} : null` or of a plain `{…}`.
func objectOf(expr hclsyntax.Expression) *hclsyntax.ObjectConsExpr {
	switch e := expr.(type) {
	case *hclsyntax.ObjectConsExpr:
		return e
	case *hclsyntax.ConditionalExpr:
		return objectOf(e.TrueResult)
	}
	return nil
}

func keysOf(t *testing.T, obj *hclsyntax.ObjectConsExpr) []string {
	t.Helper()
	require.NotNil(t, obj)
	var keys []string
	for _, item := range obj.Items {
		k := hcl.ExprAsKeyword(item.KeyExpr)
		require.NotEmpty(t, k, "object keys in outputs.tf must be plain names")
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonFields lists a struct's JSON names, embedded structs flattened.
func jsonFields(typ reflect.Type) []string {
	var names []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			names = append(names, jsonFields(f.Type)...)
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
