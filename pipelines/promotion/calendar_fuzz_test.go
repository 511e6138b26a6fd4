package promotion

import (
	"strings"
	"testing"
	"time"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// fuzzZones have DST or not, whole-hour, half-hour and 45-minute offsets,
// and changes at 02:00, at midnight and by 30 minutes.
var fuzzZones = []string{"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Asia/Kolkata",
	"Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham"}

// fuzzCalendar builds a calendar from fuzz bytes: per weekly window a day
// mask and two wall-clock minutes, per dated window a start and a length
// in minutes around base.
func fuzzCalendar(loc *time.Location, base time.Time, weeklyBytes, datedBytes []byte) environment.Calendar {
	cal := environment.Calendar{Location: loc}
	for i := 0; i+4 < len(weeklyBytes) && len(cal.Weekly) < 6; i += 5 {
		b := weeklyBytes[i : i+5]
		var days []time.Weekday
		for d := time.Sunday; d <= time.Saturday; d++ {
			if b[0]&(1<<d) != 0 {
				days = append(days, d)
			}
		}
		from := int(b[1])<<8 | int(b[2])
		to := int(b[3])<<8 | int(b[4])
		from, to = from%1440, 1+to%1440
		if len(days) == 0 || from >= to {
			continue
		}
		cal.Weekly = append(cal.Weekly, environment.WeeklyWindow{Days: days, From: from, To: to, Index: len(cal.Weekly)})
	}
	for i := 0; i+3 < len(datedBytes) && len(cal.Dates) < 4; i += 4 {
		start := int(int16(uint16(datedBytes[i])<<8 | uint16(datedBytes[i+1])))
		length := 1 + int(uint16(datedBytes[i+2])<<8|uint16(datedBytes[i+3]))
		from := base.Add(time.Duration(start) * time.Minute)
		cal.Dates = append(cal.Dates, environment.DatedWindow{From: from, To: from.Add(time.Duration(length) * time.Minute), Index: len(cal.Dates)})
	}
	return cal
}

// frozenOracle is the definition of a freeze, written independently of
// FrozenBy: the wall clock rendered as text and compared as text.
func frozenOracle(cal environment.Calendar, t time.Time) bool {
	for _, w := range cal.Dates {
		if !t.Before(w.From) && t.Before(w.To) {
			return true
		}
	}
	local := t.In(cal.Location)
	day := strings.ToLower(local.Format("Mon"))
	clock := local.Format("15:04:05")
	for _, w := range cal.Weekly {
		s := w.String() // "promotion_freeze_weekly[i] (sat,sun 00:00-24:00)"
		spec := s[strings.Index(s, "(")+1 : len(s)-1]
		days, span, _ := strings.Cut(spec, " ")
		from, to, _ := strings.Cut(span, "-")
		if strings.Contains(","+days+",", ","+day+",") && clock >= from+":00" && clock < to+":00" {
			return true
		}
	}
	return false
}

// The next allowed time is not frozen, and no earlier minute (nor the
// second just before it) is open; when none is found, no minute of the
// first weeks is open either. Starts cluster around DST changes.
func FuzzNextAllowedIsTheFirstOpenMinute(f *testing.F) {
	// Bytes per weekly window: day mask (bit 0 = sunday), from, to - 1.
	f.Add(uint8(1), uint16(86), int32(-90), []byte{0x41, 0, 0, 0x05, 0x9f}, []byte{})                            // Paris, weekend, spring forward
	f.Add(uint8(1), uint16(297), int32(30), []byte{0x01, 0, 120, 0, 179}, []byte{})                              // Paris, sun 02:00-03:00, fall back
	f.Add(uint8(6), uint16(248), int32(-60), []byte{0x40, 0x05, 0x64, 0x05, 0x9f, 0x01, 0, 0, 0, 119}, []byte{}) // Santiago, sat 23:00-24:00 and sun 00:00-02:00, midnight change
	f.Add(uint8(5), uint16(94), int32(0), []byte{0x01, 0, 90, 0, 119}, []byte{0, 10, 0, 60})                     // Lord Howe, sun 01:30-02:00, 30-minute shift
	f.Add(uint8(0), uint16(0), int32(0), []byte{0x7f, 0, 0, 0x05, 0x9f}, []byte{})                               // every day frozen: none open
	f.Add(uint8(3), uint16(300), int32(17), []byte{0x3e, 0x02, 0x1c, 0x03, 0xfc}, []byte{0xff, 0x00, 0x10, 0x00})
	f.Fuzz(func(t *testing.T, zoneIndex uint8, day uint16, offsetMinutes int32, weeklyBytes, datedBytes []byte) {
		loc, err := time.LoadLocation(fuzzZones[int(zoneIndex)%len(fuzzZones)])
		if err != nil {
			t.Fatal(err)
		}
		// Start near the first zone change after a day of 2026-2027.
		anchor := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).AddDate(0, 0, int(day%730))
		if _, end := anchor.ZoneBounds(); !end.IsZero() {
			anchor = end
		}
		start := anchor.Add(time.Duration(offsetMinutes%(30*24*60)) * time.Minute).Add(time.Duration(uint32(offsetMinutes)%60) * time.Second)
		cal := fuzzCalendar(loc, start, weeklyBytes, datedBytes)

		next, err := NextAllowed(cal, start)
		const checked = 9 * 24 * time.Hour
		if err != nil {
			for m := start; m.Before(start.Add(checked)); m = m.Add(time.Minute) {
				if !frozenOracle(cal, m) {
					t.Fatalf("no allowed time reported from %s, but %s is open", start, m)
				}
			}
			return
		}
		if next.Before(start) {
			t.Fatalf("next allowed %s is before the start %s", next, start)
		}
		if frozenOracle(cal, next) {
			t.Fatalf("next allowed %s is frozen", next.Format(time.RFC3339))
		}
		if next.After(start) && !frozenOracle(cal, next.Add(-time.Second)) {
			t.Fatalf("next allowed %s, but the second before it is open", next.Format(time.RFC3339))
		}
		until := next
		if until.Sub(start) > checked {
			until = start.Add(checked)
		}
		for m := start; m.Before(until); m = m.Truncate(time.Minute).Add(time.Minute) {
			if !frozenOracle(cal, m) {
				t.Fatalf("next allowed %s, but %s (in %s) is open earlier", next.In(loc).Format(time.RFC3339), m.In(loc).Format(time.RFC3339), loc)
			}
		}
	})
}
