package quality

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/fuzztest"
)

// FuzzParse: the report reader never panics or hangs, every refusal has
// its kind, and a report it accepts is one nobody can read another way:
// valid for the gate's JSON Schema (dagster/lakehouse/quality, formats
// asserted), without a key twice or two keys equal up to case in any
// object, finished no earlier than it started, and the same report once
// encoded again and read back.
func FuzzParse(f *testing.F) {
	for _, raw := range fuzztest.Files(f, "testdata/reports/*.json") {
		f.Add(raw)
	}
	f.Add(render(f, passing())) // small: mutations reach its every key

	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile("../../dagster/lakehouse/quality/gate_report.schema.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r *Report
		var err error
		fuzztest.Returns(t, raw, func() { r, err = Parse(raw) })
		if err != nil {
			if KindOf(err) == "" {
				t.Fatalf("a refusal without a kind: %v", err)
			}
			return
		}
		if err := validateWith(sch, raw); err != nil {
			t.Fatalf("%q accepted, but the schema refuses it: %v", raw, err)
		}
		if a, b, ok := sameKeysUpToCase(raw); ok {
			t.Fatalf("%q accepted with the keys %q and %q in one object", raw, a, b)
		}
		started, _ := time.Parse(time.RFC3339, r.StartedAt)
		finished, _ := time.Parse(time.RFC3339, r.FinishedAt)
		if finished.Before(started) {
			t.Fatalf("%q accepted, finished at %s before it started at %s", raw, r.FinishedAt, r.StartedAt)
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(again)
		if err != nil || !reflect.DeepEqual(r, back) {
			t.Fatalf("%q accepted, but encoded again (%s) it reads %+v (%v)", raw, again, back, err)
		}
	})
}

// sameKeysUpToCase returns two keys of one object of raw that are equal
// ignoring case (strings.EqualFold), ok false when there are none.
func sameKeysUpToCase(raw []byte) (string, string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var stack [][]string // keys of each open object; nil for an array
	expectKey := func() bool { return len(stack) > 0 && stack[len(stack)-1] != nil }
	afterKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, []string{})
			case '[':
				stack = append(stack, nil)
			default:
				stack = stack[:len(stack)-1]
			}
			afterKey = false
			continue
		case string:
			if expectKey() && !afterKey {
				keys := stack[len(stack)-1]
				for _, k := range keys {
					if strings.EqualFold(k, tok) {
						return k, tok, true
					}
				}
				stack[len(stack)-1] = append(keys, tok)
				afterKey = true
				continue
			}
		}
		afterKey = false
	}
}

func validateWith(sch *jsonschema.Schema, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}
