package terraform

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/zclconf/go-cty/cty"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
	"google.golang.org/protobuf/encoding/protowire"
)

// Plans crafted field by field: the reader takes from a tfplan entry the
// binding protobuf's rules and Terraform's decoding give, and refuses what
// Terraform would refuse (each case found or checked by FuzzReadPlanBinding).

func bytesField(num protowire.Number, body []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), body)
}

func varintField(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func planOf(parts ...[]byte) []byte {
	return bytes.Join(append([][]byte{varintField(planVersion, 3)}, parts...), nil)
}

func dynamic(m []byte) []byte { return bytesField(dynamicMsgpack, m) }

func variable(name string, m []byte) []byte {
	return bytesField(planVariables, append(bytesField(mapKey, []byte(name)), bytesField(mapValue, dynamic(m))...))
}

func envValue(t *testing.T, v cty.Value) []byte {
	m, err := ctymsgpack.Marshal(v, cty.DynamicPseudoType)
	require.NoError(t, err)
	return m
}

// config encodes a backend config map with its pairs in order (keys may repeat).
func config(t *testing.T, pairs ...string) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	require.NoError(t, enc.EncodeMapLen(len(pairs)/2))
	for _, s := range pairs {
		require.NoError(t, enc.EncodeString(s))
	}
	return buf.Bytes()
}

func backendOf(parts ...[]byte) []byte { return bytesField(planBackend, bytes.Join(parts, nil)) }

func TestReadPlanBindingFollowsProtobufAndTerraform(t *testing.T) {
	env := variable(environmentVariable, envValue(t, cty.StringVal("zzfixture")))
	s3 := bytesField(backendType, []byte("s3"))
	ws := bytesField(backendWorkspace, []byte("default"))
	key := func(k string) []byte { return bytesField(backendConfig, dynamic(config(t, "bucket", "b", "key", k))) }
	want := PlanBinding{BackendType: "s3", StateKey: "p/zzfixture/terraform.tfstate", Workspace: "default", Environment: "zzfixture"}

	read := func(t *testing.T, entry []byte) (PlanBinding, error) {
		t.Helper()
		return ReadPlanBinding(zipOf(t, map[string][]byte{planEntry: entry}))
	}
	b, err := read(t, planOf(env, backendOf(s3, key(want.StateKey), ws)))
	require.NoError(t, err)
	assert.Equal(t, want, b)

	t.Run("a backend given twice merges, as protobuf merges messages", func(t *testing.T) {
		b, err := read(t, planOf(env, backendOf(s3, key(want.StateKey)), backendOf(ws)))
		require.NoError(t, err)
		assert.Equal(t, want, b, "the second message sets only the workspace")
		b, err = read(t, planOf(env, backendOf(s3, key("other"), ws), backendOf(key(want.StateKey))))
		require.NoError(t, err)
		assert.Equal(t, want, b, "the later config wins")
	})
	t.Run("the last environment entry wins, as in a protobuf map", func(t *testing.T) {
		b, err := read(t, planOf(variable(environmentVariable, envValue(t, cty.StringVal("other"))), env, backendOf(s3, key(want.StateKey), ws)))
		require.NoError(t, err)
		assert.Equal(t, want, b)
	})

	refused := map[string]struct {
		entry []byte
		is    error
	}{
		"a backend without a type":              {planOf(env, backendOf(key(want.StateKey), ws)), ErrPlanWithoutBackend},
		"a backend of another type":             {planOf(env, backendOf(bytesField(backendType, []byte("azurerm")), key(want.StateKey), ws)), ErrPlanWithoutBackend},
		"a backend without config":              {planOf(env, backendOf(s3, ws)), ErrNotPlanFile},
		"a backend type of another wire":        {planOf(env, backendOf(varintField(backendType, 1), key(want.StateKey), ws)), ErrNotPlanFile},
		"a state_store of another wire":         {planOf(env, backendOf(s3, key(want.StateKey), ws), varintField(planStore, 1)), ErrNotPlanFile},
		"a workspace that is not UTF-8":         {planOf(env, backendOf(s3, key(want.StateKey), bytesField(backendWorkspace, []byte{0xff}))), ErrNotPlanFile},
		"a variable name that is not UTF-8":     {planOf(env, variable("\xfe", envValue(t, cty.True)), backendOf(s3, key(want.StateKey), ws)), ErrNotPlanFile},
		"a variable without a value":            {planOf(env, bytesField(planVariables, bytesField(mapKey, []byte("x"))), backendOf(s3, key(want.StateKey), ws)), ErrNotPlanFile},
		"an environment not known at plan time": {planOf(variable(environmentVariable, envValue(t, cty.UnknownVal(cty.String))), backendOf(s3, key(want.StateKey), ws)), ErrNotPlanFile},
		"an environment that is a bare string":  {planOf(variable(environmentVariable, []byte{0xa3, 'd', 'e', 'v'}), backendOf(s3, key(want.StateKey), ws)), ErrNotPlanFile},
		"an environment that is a number":       {planOf(variable(environmentVariable, envValue(t, cty.NumberIntVal(7))), backendOf(s3, key(want.StateKey), ws)), ErrNotPlanFile},
		"a state key given twice":               {planOf(env, backendOf(s3, bytesField(backendConfig, dynamic(config(t, "key", "a", "key", "b"))), ws)), ErrNotPlanFile},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := read(t, tc.entry)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.is), "%v", err)
		})
	}
}
