package promotion

import (
	"fmt"
	"time"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// SearchSpan bounds the search for the next allowed time: a calendar that
// leaves no instant open for this long is reported as having none.
const SearchSpan = 400 * 24 * time.Hour

// FrozenBy returns the freeze window of cal that instant t is in, if any.
// A weekly window holds on its days' wall clock in cal's zone, so across a
// daylight saving change it keeps its local hours: on a spring-forward day
// the skipped hour belongs to no window, on a fall-back day the repeated
// hour is frozen both times if its wall-clock time is.
func FrozenBy(cal environment.Calendar, t time.Time) (string, bool) {
	for _, w := range cal.Dates {
		if !t.Before(w.From) && t.Before(w.To) {
			return w.String(), true
		}
	}
	local := t.In(location(cal))
	second := local.Hour()*3600 + local.Minute()*60 + local.Second()
	for _, w := range cal.Weekly {
		if w.Has(local.Weekday()) && second >= w.From*60 && second < w.To*60 {
			return fmt.Sprintf("%s in %s", w, location(cal)), true
		}
	}
	return "", false
}

// NextAllowed returns the earliest instant at or after from that no window
// of cal freezes, or an error when none exists within SearchSpan.
func NextAllowed(cal environment.Calendar, from time.Time) (time.Time, error) {
	limit := from.Add(SearchSpan)
	for t := from; !t.After(limit); {
		if _, frozen := FrozenBy(cal, t); !frozen {
			return t, nil
		}
		t = nextChange(cal, t)
	}
	return time.Time{}, fmt.Errorf("the freeze windows leave no time open in the %d days from %s: narrow or remove a window", int(SearchSpan.Hours()/24), when(from, location(cal)))
}

// nextChange returns the first instant after t at which whether t is
// frozen may change: a window edge on the wall clock, local midnight (the
// weekday changes), a change of the zone's offset, or a dated window edge.
// Between t and it nothing changes, so stepping from change to change
// finds the exact first allowed instant without sampling.
func nextChange(cal environment.Calendar, t time.Time) time.Time {
	// Inside a dated window nothing is allowed before its end.
	for _, w := range cal.Dates {
		if !t.Before(w.From) && t.Before(w.To) {
			return w.To
		}
	}
	local := t.In(location(cal))
	_, offset := local.Zone()
	// The wall clock as if it were UTC: plain arithmetic, no zone rules.
	wall := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), time.UTC)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	edge := midnight.Add(24 * time.Hour)
	for _, w := range cal.Weekly {
		if !w.Has(local.Weekday()) {
			continue
		}
		for _, m := range []int{w.From, w.To} {
			if b := midnight.Add(time.Duration(m) * time.Minute); b.After(wall) && b.Before(edge) {
				edge = b
			}
		}
	}
	// The wall-clock edge is an instant only while the offset holds.
	next := edge.Add(-time.Duration(offset) * time.Second)
	if _, end := local.ZoneBounds(); !end.IsZero() && end.Before(next) {
		next = end
	}
	for _, w := range cal.Dates {
		if w.From.After(t) && w.From.Before(next) {
			next = w.From
		}
	}
	return next
}

func location(cal environment.Calendar) *time.Location {
	if cal.Location == nil {
		return time.UTC
	}
	return cal.Location
}

// when renders an instant for a refusal: RFC 3339 on the environment's
// wall clock, with the zone named, and in UTC when that differs.
func when(t time.Time, loc *time.Location) string {
	local := t.In(loc).Format(time.RFC3339)
	if loc == time.UTC || loc.String() == "UTC" {
		return local + " (UTC)"
	}
	return local + " (" + loc.String() + ", " + t.UTC().Format(time.RFC3339) + ")"
}
