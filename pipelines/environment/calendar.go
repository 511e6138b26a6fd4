package environment

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	// Zone names resolve the same in a container without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Calendar is when deploys to an environment may not run: recurring
// weekly windows on the wall clock of Location, and dated windows. The
// decision of whether an instant is frozen, and when the next allowed one
// is, lives in pipelines/promotion.
type Calendar struct {
	// Location is promotion_timezone: the zone of the weekly windows.
	Location *time.Location
	// Weekly are promotion_freeze_weekly, in file order.
	Weekly []WeeklyWindow
	// Dates are promotion_freeze_dates, in file order.
	Dates []DatedWindow
}

// WeeklyWindow freezes the wall-clock span [From, To) of each of Days.
type WeeklyWindow struct {
	Days []time.Weekday
	// From and To are minutes after local midnight, From < To <= 1440
	// (To = 1440 is "24:00", the end of the day).
	From, To int
	// Index is the window's place in promotion_freeze_weekly.
	Index int
}

// Has reports whether the window applies on day.
func (w WeeklyWindow) Has(day time.Weekday) bool { return slices.Contains(w.Days, day) }

// String names the window as the file writes it.
func (w WeeklyWindow) String() string {
	days := make([]string, len(w.Days))
	for i, d := range w.Days {
		days[i] = dayNames[d]
	}
	return fmt.Sprintf("promotion_freeze_weekly[%d] (%s %s-%s)", w.Index, strings.Join(days, ","), clock(w.From), clock(w.To))
}

// DatedWindow freezes the instants [From, To).
type DatedWindow struct {
	From, To time.Time
	// Index is the window's place in promotion_freeze_dates.
	Index int
}

// String names the window as the file writes it.
func (w DatedWindow) String() string {
	return fmt.Sprintf("promotion_freeze_dates[%d] (%s to %s)", w.Index, w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
}

var dayNames = map[time.Weekday]string{
	time.Monday: "mon", time.Tuesday: "tue", time.Wednesday: "wed", time.Thursday: "thu",
	time.Friday: "fri", time.Saturday: "sat", time.Sunday: "sun",
}

const allowedDays = "mon, tue, wed, thu, fri, sat, sun"

func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// The forms Terraform's validations of the same variables accept (aws/ and
// gcp/variables.tf); FuzzCatalog holds this package to them.
var (
	clockPattern     = regexp.MustCompile(`^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`)
	timestampPattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$`)
	zonePattern      = regexp.MustCompile(`^(UTC|[A-Z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*)$`)
)

// defaultTimezone is the zone of the weekly windows when the file names none.
const defaultTimezone = "UTC"

// parseCalendar reads promotion_timezone, promotion_freeze_weekly and
// promotion_freeze_dates (each optional: no freeze, UTC).
func parseCalendar(filename string, attrs hcl.Attributes) (Calendar, error) {
	cal := Calendar{Location: time.UTC}
	if a, ok := attrs["promotion_timezone"]; ok {
		v, err := literal(filename, a, cty.String)
		if err != nil {
			return cal, err
		}
		if cal.Location, err = loadZone(v.AsString()); err != nil {
			return cal, fmt.Errorf("%s:%d: promotion_timezone = %q: %w", filename, a.Range.Start.Line, v.AsString(), err)
		}
	}
	if a, ok := attrs["promotion_freeze_weekly"]; ok {
		items, err := listOfObjects(filename, a)
		if err != nil {
			return cal, err
		}
		for i, item := range items {
			w, err := weeklyWindow(filename, fmt.Sprintf("%s[%d]", a.Name, i), item)
			if err != nil {
				return cal, err
			}
			w.Index = i
			cal.Weekly = append(cal.Weekly, w)
		}
		if len(cal.Weekly) > 0 && freezesTheWholeWeek(cal.Weekly) {
			return cal, fmt.Errorf("%s:%d: promotion_freeze_weekly freezes every minute of the week, so no deploy could ever run: remove or narrow a window", filename, a.Range.Start.Line)
		}
	}
	if a, ok := attrs["promotion_freeze_dates"]; ok {
		items, err := listOfObjects(filename, a)
		if err != nil {
			return cal, err
		}
		for i, item := range items {
			w, err := datedWindow(filename, fmt.Sprintf("%s[%d]", a.Name, i), item)
			if err != nil {
				return cal, err
			}
			w.Index = i
			cal.Dates = append(cal.Dates, w)
		}
	}
	return cal, nil
}

// loadZone resolves an IANA zone name; "Local" and "" are refused: they
// would mean whatever machine runs the deploy.
func loadZone(name string) (*time.Location, error) {
	if !zonePattern.MatchString(name) || name == "Local" {
		return nil, fmt.Errorf("use an IANA time zone name such as \"UTC\", \"Europe/Paris\" or \"America/New_York\"")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("not a known IANA time zone (e.g. \"UTC\", \"Europe/Paris\", \"America/New_York\"): %w", err)
	}
	return loc, nil
}

// field is one attribute of a literal object in a tfvars file.
type field struct {
	value cty.Value
	line  int
}

// object is a literal object of a list, with its line.
type object struct {
	fields map[string]field
	line   int
}

// listOfObjects reads a literal list of literal objects, keeping each
// attribute's line for errors.
func listOfObjects(filename string, a *hcl.Attribute) ([]object, error) {
	tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil, fmt.Errorf("%s:%d: %s must be a literal list of objects, e.g. [] or [{ ... }]", filename, a.Range.Start.Line, a.Name)
	}
	out := make([]object, 0, len(tuple.Exprs))
	for i, e := range tuple.Exprs {
		line := e.Range().Start.Line
		obj, ok := e.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil, fmt.Errorf("%s:%d: %s[%d] must be a literal object { ... }", filename, line, a.Name, i)
		}
		o := object{fields: map[string]field{}, line: line}
		for _, item := range obj.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || k.IsNull() || !k.Type().Equals(cty.String) {
				return nil, fmt.Errorf("%s:%d: %s[%d] has a key that is not a name", filename, item.KeyExpr.Range().Start.Line, a.Name, i)
			}
			v, diags := item.ValueExpr.Value(nil)
			vline := item.ValueExpr.Range().Start.Line
			if diags.HasErrors() {
				return nil, fmt.Errorf("%s:%d: %s[%d].%s must be a literal value: %w", filename, vline, a.Name, i, k.AsString(), diags)
			}
			if _, dup := o.fields[k.AsString()]; dup {
				return nil, fmt.Errorf("%s:%d: %s[%d] sets %s twice", filename, vline, a.Name, i, k.AsString())
			}
			o.fields[k.AsString()] = field{value: v, line: vline}
		}
		out = append(out, o)
	}
	return out, nil
}

// attributes returns the object's attributes, refusing missing and unknown
// ones and any but "days" that is not a string.
func (o object) attributes(filename, path string, names ...string) (map[string]field, error) {
	for k, f := range o.fields {
		if !slices.Contains(names, k) {
			return nil, fmt.Errorf("%s:%d: %s has no attribute %q: its attributes are %s", filename, f.line, path, k, strings.Join(names, ", "))
		}
	}
	for _, n := range names {
		f, ok := o.fields[n]
		if !ok {
			return nil, fmt.Errorf("%s:%d: %s is missing %s (it takes %s)", filename, o.line, path, n, strings.Join(names, ", "))
		}
		if n != "days" && (f.value.IsNull() || !f.value.Type().Equals(cty.String)) {
			return nil, fmt.Errorf("%s:%d: %s.%s must be a string, got %s", filename, f.line, path, n, f.value.Type().FriendlyName())
		}
	}
	return o.fields, nil
}

func weeklyWindow(filename, path string, o object) (WeeklyWindow, error) {
	f, err := o.attributes(filename, path, "days", "from", "to")
	if err != nil {
		return WeeklyWindow{}, err
	}
	var w WeeklyWindow
	days := f["days"]
	if days.value.IsNull() || !(days.value.Type().IsTupleType() || days.value.Type().IsListType()) || days.value.LengthInt() == 0 {
		return w, fmt.Errorf("%s:%d: %s.days must be a non-empty list of days, e.g. [\"sat\", \"sun\"] (allowed: %s)", filename, days.line, path, allowedDays)
	}
	for i, d := range days.value.AsValueSlice() {
		day, ok := time.Weekday(-1), false
		if !d.IsNull() && d.Type().Equals(cty.String) {
			for wd, name := range dayNames {
				if name == d.AsString() {
					day, ok = wd, true
				}
			}
		}
		if !ok {
			return w, fmt.Errorf("%s:%d: %s.days[%d] = %s: allowed days are %s", filename, days.line, path, i, shown(d), allowedDays)
		}
		if w.Has(day) {
			return w, fmt.Errorf("%s:%d: %s.days names %q twice", filename, days.line, path, dayNames[day])
		}
		w.Days = append(w.Days, day)
	}
	for _, end := range []struct {
		name string
		to   *int
	}{{"from", &w.From}, {"to", &w.To}} {
		s := f[end.name].value.AsString()
		if !clockPattern.MatchString(s) || (end.name == "from" && s == "24:00") {
			return w, fmt.Errorf("%s:%d: %s.%s = %q: use a wall-clock time HH:MM from 00:00 to 23:59 (\"to\" may be 24:00, the end of the day)", filename, f[end.name].line, path, end.name, s)
		}
		var h, m int
		_, _ = fmt.Sscanf(s, "%d:%d", &h, &m)
		*end.to = h*60 + m
	}
	if w.From >= w.To {
		return w, fmt.Errorf("%s:%d: %s: from = %q is not before to = %q: a window ends on the day it starts; split an overnight freeze in two (e.g. fri 18:00-24:00 and sat 00:00-06:00)",
			filename, o.line, path, clock(w.From), clock(w.To))
	}
	return w, nil
}

func datedWindow(filename, path string, o object) (DatedWindow, error) {
	f, err := o.attributes(filename, path, "from", "to")
	if err != nil {
		return DatedWindow{}, err
	}
	var w DatedWindow
	for _, end := range []struct {
		name string
		at   *time.Time
	}{{"from", &w.From}, {"to", &w.To}} {
		s := f[end.name].value.AsString()
		t, err := time.Parse(time.RFC3339, s)
		if !timestampPattern.MatchString(s) || err != nil {
			return w, fmt.Errorf("%s:%d: %s.%s = %q: use an RFC 3339 time with its offset, e.g. \"2026-12-24T00:00:00+01:00\" or \"2026-12-24T00:00:00Z\"", filename, f[end.name].line, path, end.name, s)
		}
		*end.at = t
	}
	if !w.From.Before(w.To) {
		return w, fmt.Errorf("%s:%d: %s: from = %q is not before to = %q", filename, o.line, path, f["from"].value.AsString(), f["to"].value.AsString())
	}
	return w, nil
}

// freezesTheWholeWeek reports whether the weekly windows leave no minute
// of the week's wall clock open.
func freezesTheWholeWeek(windows []WeeklyWindow) bool {
	var frozen [7][1440]bool
	for _, w := range windows {
		for _, d := range w.Days {
			for m := w.From; m < w.To; m++ {
				frozen[d][m] = true
			}
		}
	}
	for d := range frozen {
		for m := range frozen[d] {
			if !frozen[d][m] {
				return false
			}
		}
	}
	return true
}

// shown renders a value of a tfvars file for an error message.
func shown(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	if v.Type().Equals(cty.String) {
		return fmt.Sprintf("%q", v.AsString())
	}
	return "a " + v.Type().FriendlyName()
}
