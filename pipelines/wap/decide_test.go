package wap

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/quality"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
)

func TestTheAuditBranchIsNamedAfterTheReleaseID(t *testing.T) {
	rel := release.Record{ID: "0123456789abcdef"}
	assert.Equal(t, "audit-0123456789abcdef", AuditBranch(rel))
	assert.NotEqual(t, AuditBranch(rel), AuditBranch(release.Record{ID: "fedcba9876543210"}))
}

func report(tables map[string]*string) *quality.Report {
	r := &quality.Report{Branch: ptr("audit-x")}
	for name, id := range tables {
		r.Tables = append(r.Tables, quality.Table{Name: name, SnapshotID: id})
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func statusDoc(t *testing.T, head map[string]any, changed []string) *Document {
	t.Helper()
	d, err := Parse(Status, doc(Status, func(d map[string]any) {
		d["head"] = map[string]any{"ref": "audit-x", "hash": nil, "tables": head}
		d["changed"] = changed
	}), 0)
	require.NoError(t, err)
	return d
}

func TestThePublishExpectsExactlyWhatTheGateJudgedAtTheBranchHead(t *testing.T) {
	status := statusDoc(t, map[string]any{"event_stream": 123, "orders": 77, "empty_one": nil}, []string{"event_stream"})
	got, err := Expectation(report(map[string]*string{"event_stream": ptr("123"), "orders": ptr("77"), "empty_one": nil}), status)
	require.NoError(t, err)
	assert.Equal(t, Snapshots{"event_stream": 123, "orders": 77}, got)
	assert.Equal(t, `{"event_stream":123,"orders":77}`, got.JSON())

	for name, tc := range map[string]struct {
		gate    map[string]*string
		changed []string
		says    string
	}{
		"judged another snapshot":          {map[string]*string{"event_stream": ptr("122"), "orders": ptr("77")}, []string{"event_stream"}, "event_stream judged at 122, branch head 123"},
		"judged a table not on the branch": {map[string]*string{"event_stream": ptr("123"), "ghost": ptr("5")}, nil, "ghost judged at 5, branch head (none)"},
		"a changed table nobody judged":    {map[string]*string{"orders": ptr("77")}, []string{"event_stream"}, "the audit branch changed event_stream, which the gate did not judge"},
		"nothing judged":                   {map[string]*string{"event_stream": nil}, nil, "judged no table"},
		"not an id":                        {map[string]*string{"event_stream": ptr("12x")}, nil, `snapshot_id "12x"`},
	} {
		_, err := Expectation(report(tc.gate), statusDoc(t, map[string]any{"event_stream": 123, "orders": 77}, tc.changed))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.says, name)
	}
	published := report(map[string]*string{"event_stream": ptr("123"), "orders": ptr("77")})
	published.Branch = nil
	_, err = Expectation(published, status)
	assert.ErrorContains(t, err, "judged the published state, not the audit branch audit-x")
	other := report(map[string]*string{"event_stream": ptr("123"), "orders": ptr("77")})
	other.Branch = ptr("audit-y")
	_, err = Expectation(other, status)
	assert.ErrorContains(t, err, "judged branch audit-y, not the audit branch audit-x")

	_, err = Expectation(report(nil), nil)
	assert.ErrorContains(t, err, "no branch head")
}

func TestSnapshotsRoundTripThroughTheLedgersStrings(t *testing.T) {
	s := Snapshots{"event_stream": -9223372036854775808, "orders": 7}
	back, err := FromStrings(s.Strings())
	require.NoError(t, err)
	assert.Equal(t, s, back)
	_, err = FromStrings(map[string]string{"orders": "seven"})
	assert.ErrorContains(t, err, `"orders": snapshot "seven"`)
	assert.Equal(t, "event_stream@-9223372036854775808, orders@7", s.Text())
	assert.True(t, strings.HasPrefix(s.JSON(), `{"event_stream":-92`))
}
