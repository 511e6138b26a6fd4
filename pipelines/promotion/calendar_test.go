package promotion

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func weekly(from, to string, days ...time.Weekday) environment.WeeklyWindow {
	minutes := func(s string) int {
		var h, m int
		_, _ = fmt.Sscanf(s, "%d:%d", &h, &m)
		return h*60 + m
	}
	return environment.WeeklyWindow{Days: days, From: minutes(from), To: minutes(to)}
}

func at(t testing.TB, rfc3339 string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, rfc3339)
	require.NoError(t, err)
	return v
}

func dated(t testing.TB, from, to string) environment.DatedWindow {
	return environment.DatedWindow{From: at(t, from), To: at(t, to)}
}

var weekend = []time.Weekday{time.Saturday, time.Sunday}

// The next allowed time is exact at window edges, across adjacent and
// overlapping windows, on daylight saving days (a skipped or repeated
// hour, a 30-minute shift, a change at midnight), in zones without DST,
// and in UTC.
func TestTheNextAllowedTimeIsTheFirstInstantNoWindowFreezes(t *testing.T) {
	cases := []struct {
		name    string
		zone    string
		weekly  []environment.WeeklyWindow
		dates   [][2]string
		now     string
		frozen  bool
		allowed string
	}{
		{"a minute before a weekend freeze", "Europe/Paris", []environment.WeeklyWindow{weekly("00:00", "24:00", weekend...)}, nil,
			"2026-12-04T23:59:59+01:00", false, "2026-12-04T23:59:59+01:00"},
		{"exactly at its start", "Europe/Paris", []environment.WeeklyWindow{weekly("00:00", "24:00", weekend...)}, nil,
			"2026-12-05T00:00:00+01:00", true, "2026-12-07T00:00:00+01:00"},
		{"its last second, to = 24:00", "Europe/Paris", []environment.WeeklyWindow{weekly("00:00", "24:00", weekend...)}, nil,
			"2026-12-06T23:59:59+01:00", true, "2026-12-07T00:00:00+01:00"},
		{"exactly at its end", "Europe/Paris", []environment.WeeklyWindow{weekly("00:00", "24:00", weekend...)}, nil,
			"2026-12-07T00:00:00+01:00", false, "2026-12-07T00:00:00+01:00"},
		{"adjacent windows chain", "Europe/Paris", []environment.WeeklyWindow{weekly("18:00", "24:00", time.Friday), weekly("00:00", "24:00", weekend...)}, nil,
			"2026-12-04T18:00:00+01:00", true, "2026-12-07T00:00:00+01:00"},
		{"overlapping windows merge", "UTC", []environment.WeeklyWindow{weekly("00:00", "12:00", time.Saturday), weekly("06:00", "18:00", time.Saturday)}, nil,
			"2026-12-05T05:00:00Z", true, "2026-12-05T18:00:00Z"},
		{"a dated freeze ending on a frozen weekend", "UTC", []environment.WeeklyWindow{weekly("00:00", "24:00", weekend...)}, [][2]string{{"2026-12-24T00:00:00Z", "2027-01-02T00:00:00Z"}},
			"2026-12-28T10:00:00Z", true, "2027-01-04T00:00:00Z"},
		{"a dated freeze given with an offset", "UTC", nil, [][2]string{{"2026-12-24T00:00:00+01:00", "2027-01-02T00:00:00+01:00"}},
			"2027-01-01T23:30:00Z", false, "2027-01-01T23:30:00Z"},
		{"a dated freeze's last second", "UTC", nil, [][2]string{{"2026-12-24T00:00:00+01:00", "2027-01-02T00:00:00+01:00"}},
			"2027-01-01T22:59:59Z", true, "2027-01-01T23:00:00Z"},
		{"exactly at a dated freeze's start", "UTC", nil, [][2]string{{"2026-12-24T00:00:00+01:00", "2027-01-02T00:00:00+01:00"}},
			"2026-12-23T23:00:00Z", true, "2027-01-01T23:00:00Z"},
		{"exactly at a dated freeze's end", "UTC", nil, [][2]string{{"2026-12-24T00:00:00+01:00", "2027-01-02T00:00:00+01:00"}},
			"2027-01-01T23:00:00Z", false, "2027-01-01T23:00:00Z"},
		{"no DST: Tokyo office hours", "Asia/Tokyo", []environment.WeeklyWindow{weekly("09:00", "17:00", time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)}, nil,
			"2026-12-02T16:59:00+09:00", true, "2026-12-02T17:00:00+09:00"},
		{"the same window in UTC is another instant", "UTC", []environment.WeeklyWindow{weekly("09:00", "17:00", time.Wednesday)}, nil,
			"2026-12-02T16:59:00+09:00", false, "2026-12-02T16:59:00+09:00"},
		{"spring forward: a window ending inside the skipped hour ends at the jump", "Europe/Paris", []environment.WeeklyWindow{weekly("00:00", "02:30", time.Sunday)}, nil,
			"2026-03-29T01:30:00+01:00", true, "2026-03-29T03:00:00+02:00"},
		{"spring forward: a window starting inside the skipped hour starts at the jump", "Europe/Paris", []environment.WeeklyWindow{weekly("02:30", "04:00", time.Sunday)}, nil,
			"2026-03-29T03:00:00+02:00", true, "2026-03-29T04:00:00+02:00"},
		{"spring forward: the day is 23 hours long", "Europe/Paris", []environment.WeeklyWindow{weekly("00:00", "24:00", time.Sunday)}, nil,
			"2026-03-29T00:00:00+01:00", true, "2026-03-30T00:00:00+02:00"},
		{"fall back: the repeated hour is frozen both times", "Europe/Paris", []environment.WeeklyWindow{weekly("02:00", "03:00", time.Sunday)}, nil,
			"2026-10-25T02:30:00+02:00", true, "2026-10-25T03:00:00+01:00"},
		{"fall back: the day is 25 hours long", "Europe/Paris", []environment.WeeklyWindow{weekly("00:00", "24:00", time.Sunday)}, nil,
			"2026-10-25T00:00:00+02:00", true, "2026-10-26T00:00:00+01:00"},
		{"fall back in New York", "America/New_York", []environment.WeeklyWindow{weekly("01:00", "02:00", time.Sunday)}, nil,
			"2026-11-01T01:30:00-04:00", true, "2026-11-01T02:00:00-05:00"},
		{"a 30-minute shift (Lord Howe)", "Australia/Lord_Howe", []environment.WeeklyWindow{weekly("01:30", "02:00", time.Sunday)}, nil,
			"2026-04-05T01:45:00+11:00", true, "2026-04-05T02:00:00+10:30"},
		{"a change at midnight skips it (Santiago)", "America/Santiago", []environment.WeeklyWindow{weekly("23:00", "24:00", time.Saturday), weekly("00:00", "02:00", time.Sunday)}, nil,
			"2026-09-05T23:30:00-04:00", true, "2026-09-06T02:00:00-03:00"},
		{"a change at midnight repeats the last hour (Santiago)", "America/Santiago", []environment.WeeklyWindow{weekly("23:00", "24:00", time.Saturday)}, nil,
			"2026-04-04T23:30:00-03:00", true, "2026-04-05T00:00:00-04:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cal := environment.Calendar{Location: zone(t, tc.zone), Weekly: tc.weekly}
			for _, d := range tc.dates {
				cal.Dates = append(cal.Dates, dated(t, d[0], d[1]))
			}
			now := at(t, tc.now)
			_, frozen := FrozenBy(cal, now)
			assert.Equal(t, tc.frozen, frozen)
			next, err := NextAllowed(cal, now)
			require.NoError(t, err)
			assert.True(t, next.Equal(at(t, tc.allowed)), "next allowed %s, want %s", next.In(cal.Location).Format(time.RFC3339), tc.allowed)
			if next.After(now) {
				_, stillFrozen := FrozenBy(cal, next.Add(-time.Second))
				assert.True(t, stillFrozen, "the second before the next allowed time is frozen")
			}
		})
	}
}

func TestACalendarWithNoOpenTimeSaysSo(t *testing.T) {
	cal := environment.Calendar{Location: time.UTC, Dates: []environment.DatedWindow{dated(t, "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z")}}
	_, err := NextAllowed(cal, at(t, "2026-06-01T00:00:00Z"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the freeze windows leave no time open in the 400 days from 2026-06-01T00:00:00Z")
	next, err := NextAllowed(cal, at(t, "2027-06-01T00:00:00Z"))
	require.NoError(t, err, "the search spans 400 days from where it starts")
	assert.True(t, next.Equal(at(t, "2028-01-01T00:00:00Z")))
}

func TestAFreezeIsNamedAsTheFileWritesIt(t *testing.T) {
	w := weekly("18:30", "24:00", time.Friday)
	w.Index = 1
	cal := environment.Calendar{Location: zone(t, "Europe/Paris"), Weekly: []environment.WeeklyWindow{w}}
	name, frozen := FrozenBy(cal, at(t, "2026-12-04T19:00:00+01:00"))
	require.True(t, frozen)
	assert.Equal(t, "promotion_freeze_weekly[1] (fri 18:30-24:00) in Europe/Paris", name)
}
