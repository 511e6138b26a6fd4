package quality

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A report that could be read two ways, or that the gate's schema
// refuses, is refused with what is wrong and where.
func TestParseRefusesReportsThatSayTwoThings(t *testing.T) {
	valid := render(t, passing())
	_, err := Parse(valid)
	require.NoError(t, err)
	// replaceFirst edits the rendered report as text: maps cannot hold a
	// key twice.
	replaceFirst := func(old, new string) []byte {
		require.Contains(t, string(valid), old)
		return []byte(strings.Replace(string(valid), old, new, 1))
	}
	cases := map[string]struct {
		raw  []byte
		kind Kind
		says string
	}{
		"a JSON array":                    {[]byte("[" + string(valid) + "]"), Malformed, "gate report: expected a JSON object, got a JSON array"},
		"a JSON string":                   {[]byte(`"pass"`), Malformed, "expected a JSON object, got a JSON string"},
		"JSON null":                       {[]byte(`null`), Malformed, "expected a JSON object, got JSON null"},
		"a key twice":                     {replaceFirst(`"outcome":"pass"`, `"outcome":"fail","outcome":"pass"`), Malformed, `repeats the key "outcome" in the report`},
		"a key twice in a table":          {replaceFirst(`"error":null`, `"error":"unreadable","error":null`), Malformed, `repeats the key "error" in /tables/0`},
		"keys differing by case":          {replaceFirst(`"outcome":"pass"`, `"Outcome":"fail","outcome":"pass"`), Malformed, `the keys "Outcome" and "outcome" in the report, which differ only by case`},
		"keys differing by a Kelvin sign": {replaceFirst(`"checks_file"`, "\"chec\u212as_file\":\"x\",\"checks_file\""), Malformed, "differ only by case"},
		"finished before it started":      {replaceFirst(`"finished_at":"2026-12-01T11:05:00Z"`, `"finished_at":"2026-12-01T10:55:00Z"`), Malformed, "finished_at 2026-12-01T10:55:00Z is before started_at 2026-12-01T11:00:00Z"},
		"cut short":                       {[]byte(`{"outcome":"pass","tables":[`), Unparsable, "not JSON"},
		"data after the object":           {append(slices.Clone(valid), " {}"...), Malformed, "data after its JSON object"},
		"nested without end":              {[]byte(`{"errors":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`), Malformed, "nests deeper than 32 levels"},
	}
	// What only the JSON Schema says: each was accepted before (FuzzParse
	// found the empty release, missing tool versions, a one-digit hour).
	for name, c := range map[string]struct {
		mutate func(map[string]any)
		says   string
	}{
		"catalog null": {func(r map[string]any) { r["catalog"] = nil }, "at /catalog: got null, want object"},
		"tables null": {func(r map[string]any) {
			r["tables"] = nil
			r["outcome"], r["exit_code"] = "error", 3
			r["summary"] = zeroSummary()
		}, "at /tables: got null, want array"},
		"no python version":          {func(r map[string]any) { delete(r["tool_versions"].(map[string]any), "python") }, "at /tool_versions: missing property 'python'"},
		"an unknown access level":    {func(r map[string]any) { r["access_level"] = "root" }, "at /access_level: value must be one of"},
		"a negative row count":       {func(r map[string]any) { firstTable(r)["row_count"] = -1 }, "at /tables/0/row_count: minimum"},
		"a boolean measured value":   {func(r map[string]any) { firstCheck(r)["measured_value"] = true }, "at /tables/0/checks/0/measured_value: got boolean"},
		"an unknown catalog setting": {func(r map[string]any) { r["catalog"].(map[string]any)["password"] = "x" }, "at /catalog: additional properties 'password' not allowed"},
		"a one-digit hour Go reads":  {func(r map[string]any) { r["started_at"] = "2026-12-01T1:00:00Z" }, "at /started_at: '2026-12-01T1:00:00Z' is not valid date-time"},
		"no release keys":            {func(r map[string]any) { r["release"] = map[string]any{} }, "at /release: missing properties 'commit', 'runtime_image', 'gate_image'"},
		"the branch main":            {func(r map[string]any) { r["branch"] = "main" }, "branch main: a report of the published state names no branch (null)"},
		"an empty branch":            {func(r map[string]any) { r["branch"] = "" }, "at /branch: '' does not match pattern"},
		"a branch that is a number":  {func(r map[string]any) { r["branch"] = 7 }, "branch"},
	} {
		r := passing()
		c.mutate(r)
		cases[name] = struct {
			raw  []byte
			kind Kind
			says string
		}{render(t, r), Malformed, c.says}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(c.raw)
			require.Error(t, err)
			assert.Equal(t, c.kind, KindOf(err), err.Error())
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func zeroSummary() map[string]any {
	return map[string]any{"tables": 0, "tables_with_errors": 0, "checks": 0, "pass": 0, "warn": 0, "fail": 0, "not_evaluated": 0}
}

// The reader validates against the schema the gate writes to.
func TestTheReaderEmbedsTheGatesSchema(t *testing.T) {
	gates, err := os.ReadFile(filepath.Join("..", "..", "dagster", "lakehouse", "quality", "gate_report.schema.json"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(gates, schemaJSON),
		"pipelines/quality/gate_report.schema.json differs from dagster/lakehouse/quality/gate_report.schema.json: copy the gate's schema over it")
	_, err = reportSchema()
	require.NoError(t, err)
}

// The branch whose head was judged is read as written; a report without
// the key (gates before 3.1.0) judged the published state.
func TestParseReadsTheJudgedBranch(t *testing.T) {
	r := passing()
	r["branch"] = "audit-zz.7_x"
	got, err := Parse(render(t, r))
	require.NoError(t, err)
	require.NotNil(t, got.Branch)
	assert.Equal(t, "audit-zz.7_x", *got.Branch)

	for _, published := range []func(map[string]any){
		func(r map[string]any) { r["branch"] = nil },
		func(r map[string]any) { delete(r, "branch") },
	} {
		r := passing()
		published(r)
		got, err := Parse(render(t, r))
		require.NoError(t, err)
		assert.Nil(t, got.Branch)
	}
}
