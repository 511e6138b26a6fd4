package wap

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doc renders a document of cmd as lakehouse.wap prints it, edited by f.
func doc(cmd Command, f func(map[string]any)) []byte {
	d := map[string]any{
		"schema_version": 1, "command": string(cmd), "outcome": "ok", "exit_code": 0, "reason": nil,
		"environment": "zzfixture", "backend": "table-refs", "namespace": "lakehouse", "branch": "audit-0123456789abcdef",
	}
	pinned := func(ref string, id int64) map[string]any {
		return map[string]any{"ref": ref, "hash": nil, "tables": map[string]any{"event_stream": id, "empty_one": nil}}
	}
	switch cmd {
	case Begin:
		d["base"] = pinned("main", 100)
	case Status:
		d["published"], d["head"], d["changed"] = pinned("main", 100), pinned("audit-0123456789abcdef", 123), []string{"event_stream"}
	case Publish:
		d["expected"], d["method"], d["resumed"] = map[string]any{"event_stream": 123}, "per-table", false
		d["steps"] = []any{map[string]any{"table": "event_stream", "base": 100, "target": 123, "result": "applied"}}
		d["mismatches"], d["published"], d["branch_removed"] = nil, pinned("main", 123), true
	case Discard:
		d["removed"], d["dropped_tables"] = true, []string{}
	case PlanRollback, Rollback:
		d["branch"] = nil
		d["target"] = map[string]any{"event_stream": 100}
		d["changes"] = []any{map[string]any{"table": "event_stream", "current": 123, "target": 100, "action": "rollback",
			"rows_current": 20, "rows_target": 10, "relation": "target-is-ancestor", "snapshots_between": 1,
			"rows_added_between": 10, "rows_deleted_between": 0, "schema_changed": false, "schema_diff": nil, "reason": nil}}
		d["text"] = "event_stream: 123 -> 100"
		if cmd == Rollback {
			d["method"], d["resumed"] = "per-table", false
			d["steps"] = []any{map[string]any{"table": "event_stream", "base": 123, "target": 100, "result": "applied"}}
			d["moved_from"], d["published"] = map[string]any{"event_stream": 123}, pinned("main", 100)
		}
	}
	if f != nil {
		f(d)
	}
	raw, _ := json.MarshalIndent(d, "", "  ")
	return raw
}

func TestEveryCommandsDocumentReads(t *testing.T) {
	for _, cmd := range []Command{Begin, Status, Publish, Discard, PlanRollback, Rollback} {
		d, err := Parse(cmd, doc(cmd, nil), 0)
		require.NoError(t, err, cmd)
		assert.Equal(t, cmd, d.Command)
	}
	d, _ := Parse(Status, doc(Status, nil), 0)
	assert.Equal(t, Snapshots{"event_stream": 123}, d.Head.Snapshots(), "a table without a snapshot has none")
	d, _ = Parse(Rollback, doc(Rollback, nil), 0)
	assert.Equal(t, Snapshots{"event_stream": 123}, d.MovedFrom)
	assert.Equal(t, Snapshots{"event_stream": 100}, d.Published.Snapshots())
}

// A 64-bit snapshot id keeps every digit (a float64 reader would round it).
func TestSnapshotIdsKeepAll64Bits(t *testing.T) {
	raw := strings.Replace(string(doc(Publish, nil)), `"event_stream": 123`, `"event_stream": 9223372036854775807`, 1)
	d, err := Parse(Publish, []byte(raw), 0)
	require.NoError(t, err)
	assert.Equal(t, int64(9223372036854775807), d.Expected["event_stream"])
}

func TestARefusalOrErrorCarriesTheCommandsOwnReason(t *testing.T) {
	refused := doc(Publish, func(d map[string]any) {
		d["outcome"], d["exit_code"], d["reason"] = "refused", 1, "event_stream is at 124 on audit-x, not the expected 123"
		d["mismatches"] = []any{map[string]any{"table": "event_stream", "expected": 123, "actual": 124}}
		d["published"], d["steps"], d["branch_removed"] = nil, nil, false
	})
	d, err := Parse(Publish, refused, 1)
	require.Error(t, err)
	assert.True(t, Refused(err))
	assert.Contains(t, err.Error(), "lakehouse.wap publish refused: event_stream is at 124 on audit-x, not the expected 123")
	require.NotNil(t, d)
	assert.Len(t, d.Mismatches, 1)

	failed := doc(Begin, func(d map[string]any) {
		d["outcome"], d["exit_code"], d["reason"], d["base"] = "error", 3, "catalog unreachable: connection refused", nil
	})
	_, err = Parse(Begin, failed, 3)
	require.Error(t, err)
	assert.False(t, Refused(err))
	assert.Contains(t, err.Error(), "lakehouse.wap begin error: catalog unreachable: connection refused")
}

func TestADocumentThatIsNotExactlyTheSchemasIsRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		cmd  Command
		body []byte
		code int
		says string
	}{
		"not JSON":        {Begin, []byte("Traceback (most recent call last):"), 3, "not a JSON object"},
		"empty":           {Begin, nil, 0, "not a JSON object"},
		"schema 2":        {Begin, doc(Begin, func(d map[string]any) { d["schema_version"] = 2 }), 0, "schema_version 2 is not supported (expected 1)"},
		"no schema":       {Begin, doc(Begin, func(d map[string]any) { delete(d, "schema_version") }), 0, "schema_version (missing)"},
		"unknown field":   {Begin, doc(Begin, func(d map[string]any) { d["extra"] = 1 }), 0, "unknown [extra]"},
		"other command's": {Begin, doc(Begin, func(d map[string]any) { d["published"] = nil }), 0, "unknown [published]"},
		"missing field":   {Status, doc(Status, func(d map[string]any) { delete(d, "changed") }), 0, "missing [changed]"},
		"other command":   {Publish, doc(Status, nil), 0, `of command "status", not "publish"`},
		"null command": {Begin, doc(Begin, func(d map[string]any) {
			d["command"], d["outcome"], d["exit_code"], d["reason"] = nil, "error", 3, "no such command: frobnicate"
		}), 3, "no such command: frobnicate"},
		"exit code lies":       {Begin, doc(Begin, nil), 1, "says exit code 0 but the process exited with 1"},
		"ok with a reason":     {Begin, doc(Begin, func(d map[string]any) { d["reason"] = "x" }), 0, "outcome ok with exit code 0"},
		"refused, exit 3":      {Begin, doc(Begin, func(d map[string]any) { d["outcome"], d["exit_code"], d["reason"] = "refused", 3, "x" }), 3, "outcome refused with exit code 3"},
		"refused, no reason":   {Begin, doc(Begin, func(d map[string]any) { d["outcome"], d["exit_code"] = "refused", 1 }), 1, "outcome refused without a reason"},
		"unknown outcome":      {Begin, doc(Begin, func(d map[string]any) { d["outcome"], d["exit_code"], d["reason"] = "maybe", 1, "x" }), 1, `outcome "maybe"`},
		"float snapshot":       {Begin, []byte(strings.Replace(string(doc(Begin, nil)), `"event_stream": 100`, `"event_stream": 100.5`, 1)), 0, "event_stream"},
		"string snapshot":      {Publish, []byte(strings.Replace(string(doc(Publish, nil)), `"event_stream": 123`, `"event_stream": "123"`, 1)), 0, "expected"},
		"unknown step result":  {Publish, doc(Publish, func(d map[string]any) { d["steps"].([]any)[0].(map[string]any)["result"] = "maybe" }), 0, `result "maybe"`},
		"unknown step field":   {Publish, doc(Publish, func(d map[string]any) { d["steps"].([]any)[0].(map[string]any)["x"] = 1 }), 0, `unknown field "x"`},
		"unknown method":       {Publish, doc(Publish, func(d map[string]any) { d["method"] = "teleport" }), 0, `method "teleport"`},
		"unknown backend":      {Begin, doc(Begin, func(d map[string]any) { d["backend"] = "lakefs" }), 0, `backend "lakefs"`},
		"null flag":            {Publish, doc(Publish, func(d map[string]any) { d["resumed"] = nil }), 0, "resumed is null"},
		"pinned without ref":   {Begin, doc(Begin, func(d map[string]any) { d["base"].(map[string]any)["ref"] = "" }), 0, "base: a pinned state needs ref and tables"},
		"unknown action":       {Rollback, doc(Rollback, func(d map[string]any) { d["changes"].([]any)[0].(map[string]any)["action"] = "maybe" }), 0, `action "maybe"`},
		"two documents":        {Begin, append(doc(Begin, nil), doc(Begin, nil)...), 0, "not a JSON object"},
		"snapshot out of i64":  {Begin, []byte(strings.Replace(string(doc(Begin, nil)), `"event_stream": 100`, `"event_stream": 92233720368547758070`, 1)), 0, "event_stream"},
		"pinned unknown field": {Begin, doc(Begin, func(d map[string]any) { d["base"].(map[string]any)["x"] = 1 }), 0, `unknown field "x"`},
	} {
		_, err := Parse(tc.cmd, tc.body, tc.code)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.says, name)
		var wapErr *Error
		assert.NotErrorAs(t, err, &wapErr, "%s: a malformed document is not the command's own refusal", name)
	}
}

// FuzzParse: no input panics; whatever reads is a document of the command
// asked for whose outcome agrees with its exit code, and a refusal or
// error always carries a reason.
func FuzzParse(f *testing.F) {
	for _, cmd := range []Command{Begin, Status, Publish, Discard, PlanRollback, Rollback} {
		f.Add(string(cmd), doc(cmd, nil), 0)
	}
	f.Add("publish", doc(Publish, func(d map[string]any) { d["outcome"], d["exit_code"], d["reason"] = "refused", 1, "r" }), 1)
	f.Add("begin", []byte(`{"schema_version":1}`), 0)
	f.Fuzz(func(t *testing.T, cmd string, body []byte, code int) {
		d, err := Parse(Command(cmd), body, code)
		if d == nil {
			require.Error(t, err)
			return
		}
		require.Equal(t, Command(cmd), d.Command)
		require.Equal(t, code, d.ExitCode)
		if d.Outcome == "ok" {
			require.NoError(t, err)
			require.Nil(t, d.Reason)
			return
		}
		var wapErr *Error
		require.ErrorAs(t, err, &wapErr)
		require.NotEmpty(t, strings.TrimSpace(wapErr.Reason))
		require.Equal(t, map[string]int{"refused": 1, "error": 3}[d.Outcome], code)
	})
}
