package runreport

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock advances one second per reading.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestAFailedStepFailsTheRunAndSaysHowToRerunIt(t *testing.T) {
	rec := New("deploy", "e1", fakeClock())
	rec.Fact("release", "abc123")
	require.NoError(t, rec.Run(context.Background(), "plan", "dagger call plan --env e1", func(context.Context) (string, error) { return "3 to add", nil }))
	err := rec.Run(context.Background(), "gate", "dagger call quality --env e1", func(context.Context) (string, error) {
		return "", errors.New("quality gate refuses promotion (fail): event_stream: rows (measured 0)")
	})
	require.Error(t, err)
	rec.Skip("record", "the gate failed")
	r := rec.Finish()
	assert.Equal(t, Failed, r.Verdict)
	require.NotNil(t, r.FirstFailure())
	assert.Equal(t, "gate", r.FirstFailure().Name)

	md := r.Markdown()
	assert.Contains(t, md, "## deploy e1: **FAILED**")
	assert.Contains(t, md, "| plan | ok | 1s | 3 to add |")
	assert.Contains(t, md, "### gate failed")
	assert.Contains(t, md, "event_stream: rows (measured 0)")
	assert.Contains(t, md, "Rerun only this step: `dagger call quality --env e1`")
	assert.Contains(t, md, "- release: `abc123`")

	raw, err := r.JSON()
	require.NoError(t, err)
	var back Report
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, r.Steps[1].Name, back.Steps[1].Name)
	assert.Equal(t, time.Second, back.Steps[0].Duration)
}

func TestConcurrentStepsAreAllRecordedInStartOrder(t *testing.T) {
	rec := New("ci", "e1", nil)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = rec.Run(context.Background(), "step", "", func(context.Context) (string, error) { return "", nil })
		}()
	}
	wg.Wait()
	r := rec.Finish()
	assert.Len(t, r.Steps, 20)
	assert.Equal(t, OK, r.Verdict)
	for i := 1; i < len(r.Steps); i++ {
		assert.False(t, r.Steps[i].StartedAt.Before(r.Steps[i-1].StartedAt))
	}
}

func TestMarkdownCellsCannotBreakTheTable(t *testing.T) {
	rec := New("ci", "e1", fakeClock())
	_ = rec.Run(context.Background(), "lint", "", func(context.Context) (string, error) { return "a|b\nc" + strings.Repeat("x", 300), nil })
	md := rec.Finish().Markdown()
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| lint") {
			assert.Equal(t, 5, strings.Count(line, "|")-strings.Count(line, "\\|"))
			assert.LessOrEqual(t, len(line), 220)
		}
	}
}
