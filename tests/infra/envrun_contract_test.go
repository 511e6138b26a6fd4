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
// each root's outputs strictly: a key added or renamed on one side only
// would fail a real deploy after its apply. These tests read the object keys
// of each target output in <root>/outputs.tf and compare them with the
// fields envrun decodes for that root's launchers.
func TestAwsOutputsMatchWhatEnvrunDecodes(t *testing.T) {
	outputKeys, serviceKeys := targetOutputKeys(t, "aws")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.Task{})), outputKeys[envrun.SmokeOutput], "smoke_run")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.GateTask{})), outputKeys[envrun.GateOutput], "quality_gate")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.Services{})), outputKeys[envrun.ServicesOutput], "dagster_services")
	for role, keys := range serviceKeys {
		assert.Equal(t, jsonFields(reflect.TypeOf(envrun.Service{})), keys, "dagster_services.services[%s]", role)
	}
	assert.NotEmpty(t, serviceKeys)
}

func TestGcpOutputsMatchWhatEnvrunDecodes(t *testing.T) {
	outputKeys, serviceKeys := targetOutputKeys(t, "gcp")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.CloudRunJob{})), outputKeys[envrun.SmokeOutput], "smoke_run")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.CloudRunGate{})), outputKeys[envrun.GateOutput], "quality_gate")
	assert.Equal(t, jsonFields(reflect.TypeOf(envrun.CloudRunServices{})), outputKeys[envrun.ServicesOutput], "dagster_services")
	assert.Equal(t, []string{"code_server", "daemon", "webserver"}, sortedKeys(serviceKeys), "every Dagster service is waited for")
	for role, keys := range serviceKeys {
		assert.Equal(t, jsonFields(reflect.TypeOf(envrun.CloudRunService{})), keys, "dagster_services.services[%s]", role)
	}
}

// Each target output names its launcher as a literal that envrun starts:
// ParseOutputs chooses the shape by it, and refuses outputs mixing clouds.
func TestTargetOutputsNameTheirRootsLauncher(t *testing.T) {
	want := map[string]map[string]string{
		"aws": {envrun.ServicesOutput: envrun.LauncherECS, envrun.SmokeOutput: envrun.LauncherECS, envrun.GateOutput: envrun.LauncherECS},
		"gcp": {envrun.ServicesOutput: envrun.LauncherCloudRun, envrun.SmokeOutput: envrun.LauncherCloudRunJob, envrun.GateOutput: envrun.LauncherCloudRunJob},
	}
	for root, outputs := range want {
		for _, block := range outputBlocks(t, root) {
			launcher, ok := outputs[block.Labels[0]]
			if !ok {
				continue
			}
			obj := objectOf(block.Body.Attributes["value"].Expr)
			require.NotNil(t, obj, "%s: output %s must be an object (or null)", root, block.Labels[0])
			got := ""
			for _, item := range obj.Items {
				if hcl.ExprAsKeyword(item.KeyExpr) == "launcher" {
					v, diags := item.ValueExpr.Value(nil)
					require.False(t, diags.HasErrors(), "%s: %s.launcher must be a literal", root, block.Labels[0])
					got = v.AsString()
				}
			}
			assert.Equal(t, launcher, got, "%s: output %s launcher", root, block.Labels[0])
		}
	}
}

func outputBlocks(t *testing.T, root string) []*hclsyntax.Block {
	t.Helper()
	path := filepath.Join(repoRoot(t), root, "outputs.tf")
	file, diags := hclparse.NewParser().ParseHCLFile(path)
	require.False(t, diags.HasErrors(), diags.Error())
	var blocks []*hclsyntax.Block
	for _, block := range file.Body.(*hclsyntax.Body).Blocks {
		if block.Type == "output" {
			blocks = append(blocks, block)
		}
	}
	return blocks
}

// targetOutputKeys lists the object keys of each object output of a root,
// and those of each entry of dagster_services.services (by role; "*" when
// the entries come from a for expression).
func targetOutputKeys(t *testing.T, root string) (outputKeys, serviceKeys map[string][]string) {
	t.Helper()
	outputKeys, serviceKeys = map[string][]string{}, map[string][]string{}
	for _, block := range outputBlocks(t, root) {
		value, ok := block.Body.Attributes["value"]
		if !ok {
			continue
		}
		obj := objectOf(value.Expr)
		if obj == nil {
			continue
		}
		outputKeys[block.Labels[0]] = keysOf(t, obj)
		if block.Labels[0] != envrun.ServicesOutput {
			continue
		}
		for _, item := range obj.Items {
			if hcl.ExprAsKeyword(item.KeyExpr) != "services" {
				continue
			}
			switch e := item.ValueExpr.(type) {
			case *hclsyntax.ForExpr:
				serviceKeys["*"] = keysOf(t, objectOf(e.ValExpr))
			case *hclsyntax.ObjectConsExpr:
				for _, svc := range e.Items {
					serviceKeys[hcl.ExprAsKeyword(svc.KeyExpr)] = keysOf(t, objectOf(svc.ValueExpr))
				}
			default:
				require.Failf(t, "services", "%s: dagster_services.services must be an object or a for expression over the services", root)
			}
		}
	}
	return outputKeys, serviceKeys
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
