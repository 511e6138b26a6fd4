package environment

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// policyOf reads b2 (promoting from a1) with the given lines from line 4 on.
func policyOf(t *testing.T, lines string) (Promotion, error) {
	t.Helper()
	c, err := NewCatalog(map[string][]byte{
		"environments/a1.tfvars": promoting("a1", ""),
		"environments/b2.tfvars": []byte("project_name = \"lakehouse\"\nenvironment  = \"b2\"\npromotion_upstream = \"a1\"\n" + lines + "\ncloud_provider = \"aws\"\n"),
	})
	require.NoError(t, err)
	if err := c.Err(); err != nil {
		return Promotion{}, err
	}
	b, err := c.Lookup("b2")
	require.NoError(t, err)
	return b.Promotion(), nil
}

func TestTheFreezeCalendarAndSoakComeFromTheFile(t *testing.T) {
	p, err := policyOf(t, `promotion_min_soak_hours = 48
promotion_timezone = "Europe/Paris"
promotion_freeze_weekly = [
  { days = ["sat", "sun"], from = "00:00", to = "24:00" },
  { days = ["fri"], from = "18:30", to = "24:00" },
]
promotion_freeze_dates = [{ from = "2026-12-24T00:00:00+01:00", to = "2027-01-02T00:00:00Z" }]`)
	require.NoError(t, err)
	assert.Equal(t, 48*time.Hour, p.MinSoak)
	assert.Equal(t, "Europe/Paris", p.Freeze.Location.String())
	require.Len(t, p.Freeze.Weekly, 2)
	assert.Equal(t, WeeklyWindow{Days: []time.Weekday{time.Saturday, time.Sunday}, From: 0, To: 1440, Index: 0}, p.Freeze.Weekly[0])
	assert.Equal(t, WeeklyWindow{Days: []time.Weekday{time.Friday}, From: 18*60 + 30, To: 1440, Index: 1}, p.Freeze.Weekly[1])
	assert.Equal(t, "promotion_freeze_weekly[1] (fri 18:30-24:00)", p.Freeze.Weekly[1].String())
	require.Len(t, p.Freeze.Dates, 1)
	assert.True(t, p.Freeze.Dates[0].From.Equal(time.Date(2026, 12, 23, 23, 0, 0, 0, time.UTC)))
	assert.True(t, p.Freeze.Dates[0].To.Equal(time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)))

	p, err = policyOf(t, "")
	require.NoError(t, err)
	assert.Equal(t, Promotion{Upstream: "a1", WarningsBlock: true, MaxEvidenceAge: 168 * time.Hour, Freeze: Calendar{Location: time.UTC}, line: 3}, p,
		"without the keys: no soak, no freeze, UTC")
}

func TestBadSoakAndFreezeSettingsNameTheFileLineKeyAndAllowedValues(t *testing.T) {
	for in, want := range map[string]string{
		`promotion_min_soak_hours = -1`:                                                            "environments/b2.tfvars:4: promotion_min_soak_hours = -1: use a whole number of hours from 0 (no soak) to 2160",
		`promotion_min_soak_hours = 2.5`:                                                           "whole number of hours",
		`promotion_min_soak_hours = 168`:                                                           "environments/b2.tfvars:4: promotion_min_soak_hours = 168 is not less than promotion_max_evidence_age_hours = 168",
		`promotion_min_soak_hours = "24"`:                                                          "promotion_min_soak_hours must be a number",
		`promotion_timezone = "Mars/Olympus"`:                                                      `environments/b2.tfvars:4: promotion_timezone = "Mars/Olympus": not a known IANA time zone (e.g. "UTC", "Europe/Paris", "America/New_York")`,
		`promotion_timezone = "Local"`:                                                             `promotion_timezone = "Local": use an IANA time zone name`,
		`promotion_timezone = "../../etc/passwd"`:                                                  `use an IANA time zone name`,
		`promotion_timezone = ""`:                                                                  `use an IANA time zone name`,
		`promotion_freeze_weekly = { days = ["sat"] }`:                                             "environments/b2.tfvars:4: promotion_freeze_weekly must be a literal list of objects",
		`promotion_freeze_weekly = ["sat 00:00-24:00"]`:                                            "promotion_freeze_weekly[0] must be a literal object",
		`promotion_freeze_weekly = [{ days = ["sunday"], from = "00:00", to = "24:00" }]`:          `environments/b2.tfvars:4: promotion_freeze_weekly[0].days[0] = "sunday": allowed days are mon, tue, wed, thu, fri, sat, sun`,
		`promotion_freeze_weekly = [{ days = ["Sat"], from = "00:00", to = "24:00" }]`:             "allowed days are mon, tue",
		`promotion_freeze_weekly = [{ days = [], from = "00:00", to = "24:00" }]`:                  "promotion_freeze_weekly[0].days must be a non-empty list of days",
		`promotion_freeze_weekly = [{ days = ["sat", "sat"], from = "00:00", to = "24:00" }]`:      `promotion_freeze_weekly[0].days names "sat" twice`,
		`promotion_freeze_weekly = [{ days = ["sat"], from = "22:00", to = "06:00" }]`:             `promotion_freeze_weekly[0]: from = "22:00" is not before to = "06:00": a window ends on the day it starts; split an overnight freeze in two`,
		`promotion_freeze_weekly = [{ days = ["sat"], from = "10:00", to = "10:00" }]`:             "is not before",
		`promotion_freeze_weekly = [{ days = ["sat"], from = "24:00", to = "24:00" }]`:             `promotion_freeze_weekly[0].from = "24:00": use a wall-clock time HH:MM from 00:00 to 23:59`,
		`promotion_freeze_weekly = [{ days = ["sat"], from = "9:00", to = "10:00" }]`:              `from = "9:00": use a wall-clock time HH:MM`,
		`promotion_freeze_weekly = [{ days = ["sat"], from = "09:00", to = "24:01" }]`:             `to = "24:01"`,
		`promotion_freeze_weekly = [{ days = ["sat"], from = "09:00" }]`:                           "promotion_freeze_weekly[0] is missing to (it takes days, from, to)",
		`promotion_freeze_weekly = [{ days = ["sat"], from = "09:00", to = "10:00", tz = "UTC" }]`: `promotion_freeze_weekly[0] has no attribute "tz": its attributes are days, from, to`,
		`promotion_freeze_weekly = [{ days = ["sat"], from = 900, to = "10:00" }]`:                 "promotion_freeze_weekly[0].from must be a string, got number",
		`promotion_freeze_weekly = [{ days = ["mon","tue","wed","thu"], from = "00:00", to = "24:00" }, { days = ["fri","sat","sun"], from = "00:00", to = "24:00" }]`: "freezes every minute of the week, so no deploy could ever run",
		`promotion_freeze_dates = [{ from = "2026-12-24", to = "2027-01-02" }]`:                                                                                        `promotion_freeze_dates[0].from = "2026-12-24": use an RFC 3339 time with its offset`,
		`promotion_freeze_dates = [{ from = "2026-12-24T00:00:00", to = "2027-01-02T00:00:00Z" }]`:                                                                     "use an RFC 3339 time with its offset",
		`promotion_freeze_dates = [{ from = "2026-02-30T00:00:00Z", to = "2027-01-02T00:00:00Z" }]`:                                                                    "use an RFC 3339 time",
		`promotion_freeze_dates = [{ from = "2026-12-24T00:00:00.5Z", to = "2027-01-02T00:00:00Z" }]`:                                                                  "use an RFC 3339 time",
		`promotion_freeze_dates = [{ from = "2027-01-02T00:00:00Z", to = "2026-12-24T00:00:00+01:00" }]`:                                                               `promotion_freeze_dates[0]: from = "2027-01-02T00:00:00Z" is not before to = "2026-12-24T00:00:00+01:00"`,
	} {
		_, err := policyOf(t, in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
}

// Errors inside a multi-line list point at the line of the bad value.
func TestAFreezeErrorPointsAtTheLineOfTheBadValue(t *testing.T) {
	_, err := policyOf(t, "promotion_freeze_weekly = [\n  { days = [\"sat\"], from = \"00:00\", to = \"24:00\" },\n  { days = [\"sun\"],\n    from = \"25:00\", to = \"24:00\" },\n]")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `environments/b2.tfvars:7: promotion_freeze_weekly[1].from = "25:00"`)
}

func TestTheFirstEnvironmentHasNoSoak(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{"environments/a1.tfvars": promoting("a1", "", "promotion_min_soak_hours = 24")})
	require.NoError(t, err)
	require.Error(t, c.Err())
	assert.Contains(t, c.Err().Error(), `environments/a1.tfvars:4: promotion_min_soak_hours = 24, but this is a first environment (promotion_upstream = ""): a release has nowhere to soak before it; set 0`)
}
