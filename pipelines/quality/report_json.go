package quality

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// maxDepth bounds nesting: a report is five levels deep, and a reader
// that recursed without end on [[[[… would run out of stack.
const maxDepth = 32

// checkShape reads the report token by token before anything decodes it:
// the document must be one JSON object, and no object in it may repeat a
// key or hold two keys that differ only by case. encoding/json would keep
// the last of two equal keys and match struct fields ignoring case, so
// either would let the report say two things and the reader pick one.
func checkShape(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return refuse(Unparsable, "the gate report is not JSON: %v", err)
	}
	if tok != json.Delim('{') {
		return refuse(Malformed, "gate report: expected a JSON object, got %s", kindOf(tok))
	}
	if err := walkObject(dec, "", 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return refuse(Malformed, "the gate report has data after its JSON object")
	}
	return nil
}

func walkObject(dec *json.Decoder, path string, depth int) error {
	keys := map[string]string{} // case-folded key: the key as written
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return refuse(Unparsable, "the gate report is not JSON: %v", err)
		}
		key, _ := tok.(string) // Token returns an object's keys as strings
		where := "the report"
		if path != "" {
			where = path
		}
		switch prev, seen := keys[foldKey(key)]; {
		case seen && prev == key:
			return refuse(Malformed, "the gate report repeats the key %q in %s: keep one (readers disagree on which one counts)", key, where)
		case seen:
			return refuse(Malformed, "the gate report has the keys %q and %q in %s, which differ only by case: keep the one the schema names", prev, key, where)
		}
		keys[foldKey(key)] = key
		if err := walkValue(dec, path+"/"+key, depth); err != nil {
			return err
		}
	}
	return closing(dec)
}

func walkValue(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return refuse(Unparsable, "the gate report is not JSON: %v", err)
	}
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	if depth >= maxDepth {
		return refuse(Malformed, "the gate report nests deeper than %d levels at %s", maxDepth, path)
	}
	if tok == json.Delim('{') {
		return walkObject(dec, path, depth+1)
	}
	for i := 0; dec.More(); i++ {
		if err := walkValue(dec, fmt.Sprintf("%s/%d", path, i), depth+1); err != nil {
			return err
		}
	}
	return closing(dec)
}

// closing reads the brace or bracket that ends an object or array.
func closing(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		return refuse(Unparsable, "the gate report is not JSON: %v (is it cut short?)", err)
	}
	return nil
}

// foldKey maps every key to one spelling per case-insensitive class: each
// rune becomes the smallest rune it folds to (the equivalence encoding/json
// uses to match keys with fields).
func foldKey(key string) string {
	return strings.Map(func(r rune) rune {
		smallest := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			smallest = min(smallest, f)
		}
		return smallest
	}, key)
}

func kindOf(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "a JSON array"
	case string:
		return "a JSON string"
	case json.Number:
		return "a JSON number"
	case bool:
		return "a JSON boolean"
	}
	return "JSON null"
}

// schemaJSON is dagster/lakehouse/quality/gate_report.schema.json, the
// schema the gate writes to (TestTheReaderEmbedsTheGatesSchema keeps the
// copy equal).
//
//go:embed gate_report.schema.json
var schemaJSON []byte

const schemaURL = "gate_report.schema.json"

// reportSchema is the compiled schema, formats asserted (date-time).
var reportSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
})

// validateSchema refuses a report the gate's JSON Schema refuses: nulls
// where objects belong, values outside an enum, missing tool versions, ...
func validateSchema(raw []byte) error {
	sch, err := reportSchema()
	if err != nil {
		return fmt.Errorf("quality: the embedded report schema does not compile: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return refuse(Unparsable, "the gate report is not JSON: %v", err)
	}
	err = sch.Validate(inst)
	var invalid *jsonschema.ValidationError
	if errors.As(err, &invalid) {
		return refuse(Malformed, "the gate report does not match schema %d: %s", SchemaVersion, schemaProblems(invalid))
	}
	return err
}

// schemaProblems lists where the report breaks the schema and how, one
// "at /path: reason" per problem (the leaves of the error tree).
func schemaProblems(e *jsonschema.ValidationError) string {
	p := message.NewPrinter(language.English)
	var out []string
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, fmt.Sprintf("at /%s: %s", strings.Join(e.InstanceLocation, "/"), e.ErrorKind.LocalizedString(p)))
		}
		for _, c := range e.Causes {
			leaves(c)
		}
	}
	leaves(e)
	sort.Strings(out)
	return strings.Join(out, "; ")
}
