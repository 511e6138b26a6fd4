package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"dagger/lakehouse/internal/enginetest"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

// gateReportJSON is a schema-2 report of env with one table and outcome.
func gateReportJSON(env, outcome string, rel *release.Record) string {
	return gateReportJSONAt(env, outcome, rel, mustParse("2026-12-01T11:01:00Z"))
}

func mustParse(s string) time.Time {
	v, _ := time.Parse(time.RFC3339, s)
	return v
}

// gateReportJSONAt is gateReportJSON finishing at finished.
func gateReportJSONAt(env, outcome string, rel *release.Record, finished time.Time) string {
	code := map[string]int{"pass": 0, "fail": 1, "warn": 2}[outcome]
	summary := map[string]int{"tables": 1, "tables_with_errors": 0, "checks": 1, "pass": 0, "warn": 0, "fail": 0, "not_evaluated": 0}
	summary[outcome] = 1
	var relJSON any = map[string]any{"commit": nil, "runtime_image": nil, "gate_image": nil}
	if rel != nil {
		relJSON = map[string]any{"commit": rel.Commit, "runtime_image": rel.RuntimeImage, "gate_image": rel.GateImage}
	}
	raw, _ := json.Marshal(map[string]any{
		"schema_version": 2, "environment": env, "access_level": "admin", "outcome": outcome, "exit_code": code,
		"started_at": finished.Add(-time.Minute).Format(time.RFC3339), "finished_at": finished.Format(time.RFC3339), "mode": "full", "release": relJSON,
		"catalog": map[string]any{}, "tool_versions": map[string]any{"lakehouse-gate": "2", "python": "3.11"}, "summary": summary,
		"tables": []any{map[string]any{"name": "event_stream", "checks_file": "x.yaml", "outcome": outcome, "mode": "full", "row_count": 3,
			"snapshot_id": "42", "base_snapshot_id": nil, "error": nil,
			"checks": []any{map[string]any{"name": "rows", "outcome": outcome, "measured_value": 3, "column": nil, "definition": nil}}}},
		"errors": []any{},
	})
	return string(raw)
}

// withJudgedBranch sets the report's branch to the gate's --branch, as the
// gate does (a report without one judged the published state).
func withJudgedBranch(report string, gateArgv []string) string {
	for i, arg := range gateArgv {
		if arg != "--branch" || i+1 >= len(gateArgv) {
			continue
		}
		var doc map[string]any
		if json.Unmarshal([]byte(report), &doc) != nil {
			return report
		}
		doc["branch"] = gateArgv[i+1]
		raw, _ := json.Marshal(doc)
		return string(raw)
	}
	return report
}

func serveGate(eng *enginetest.Engine, report string, code int) {
	eng.AnswerFunc("contents", func(c enginetest.Chain) (any, bool) {
		if c.Has("file", "path", gateJSONPath) {
			return withJudgedBranch(report, c.LastExec()), true
		}
		if c.Has("file", "path", gateMDPath) {
			return "# Quality gate", true
		}
		return nil, false
	})
	eng.AnswerFunc("exitCode", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 2 && last[2] == "lakehouse.quality.gate" {
			return code, true
		}
		return nil, false
	})
}

func TestStackQualityRunsTheGateImageAgainstTheStacksCatalogAndBindsTheRelease(t *testing.T) {
	env := localEnv(t)
	s, eng, err := stackEngine(t, repoRoot(t), env, false)
	require.NoError(t, err)
	id, _ := release.NewIdentity(testCommit, false, mustTime(t, testCommitTime), "")
	rec, err := release.NewRecord(id, "registry.example/lakehouse@sha256:"+strings.Repeat("a", 64), "registry.example/lakehouse@sha256:"+strings.Repeat("b", 64), nil, mustTime(t, testCommitTime))
	require.NoError(t, err)
	raw, _ := rec.JSON()
	serveGate(eng, gateReportJSON(env, "pass", &rec), 0)
	eng.AnswerFunc("contents", func(c enginetest.Chain) (any, bool) {
		return string(raw), c.Has("file", "path", "release.json")
	})

	g, err := s.Quality(t.Context(), dag.Directory().WithNewFile("release.json", string(raw)).File("release.json"))
	require.NoError(t, err)
	assert.Equal(t, "pass", g.Outcome)
	require.NoError(t, g.RequirePass())

	gate := ran(t, eng, "python", "-m", "lakehouse.quality.gate")
	assert.Equal(t, "registry.example/lakehouse-gate:test", gate.From())
	assert.Contains(t, gate.ExecLines(), fmt.Sprintf("python -m lakehouse.quality.gate --env %s --project-dir %s --out %s --markdown %s --duckdb-path :memory:", env, appDir, gateJSONPath, gateMDPath))
	assert.Contains(t, gate.FileMounts()[appDir+"/.env."+env], "file(path:dagster/.env."+env+")")
	assert.Equal(t, testCommit, gate.Env()["LAKEHOUSE_RELEASE_COMMIT"])
	assert.Equal(t, rec.GateImage, gate.Env()["LAKEHOUSE_GATE_IMAGE"])
	assert.Contains(t, gate.ServiceBindings(), s.CatalogHost, "the gate reaches the stack's catalog")
	assert.Contains(t, gate.ServiceBindings(), s.ObjectStoreHost, "and its object store")
}

func TestRequirePassFollowsTheOutcomeAndTheEnvironmentsPolicy(t *testing.T) {
	env := localEnv(t)
	for outcome, ok := range map[string]bool{"pass": true, "fail": false} {
		s, eng, err := stackEngine(t, repoRoot(t), env, false)
		require.NoError(t, err)
		serveGate(eng, gateReportJSON(env, outcome, nil), map[string]int{"pass": 0, "fail": 1}[outcome])
		g, err := s.Quality(t.Context(), nil)
		require.NoError(t, err, "a failing gate is an outcome, not an error")
		if ok {
			assert.NoError(t, g.RequirePass())
		} else {
			err := g.RequirePass()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "checks failed: event_stream: rows")
		}
	}
	s, eng, err := stackEngine(t, repoRoot(t), env, false)
	require.NoError(t, err)
	serveGate(eng, gateReportJSON("other", "pass", nil), 0)
	g, err := s.Quality(t.Context(), nil)
	require.NoError(t, err)
	assert.ErrorContains(t, g.RequirePass(), "is for environment other")
}
