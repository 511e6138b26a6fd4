package promotion

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// BreakGlass is an explicit, recorded override of the target's soak and
// freeze (never of the evidence: a release that did not pass upstream is
// refused all the same).
type BreakGlass struct {
	// Reason says why the deploy may not wait.
	Reason string `json:"reason"`
	// By is who asked for it, when known.
	By string `json:"by,omitempty"`
	// Overrode are the refusals it overrode (none when nothing needed it).
	Overrode []Override `json:"overrode"`
}

// Override is one refusal a break-glass deploy went through.
type Override struct {
	Rule    Kind   `json:"rule"`
	Refusal string `json:"refusal"`
}

// maxReasonLength keeps a reason to a sentence or two: it is shown in run
// reports and job summaries.
const maxReasonLength = 500

// NewBreakGlass checks a --break-glass reason (and who gave it): nil when
// neither is given, an error when the reason is blank, multi-line or long.
func NewBreakGlass(reason, by string) (*BreakGlass, error) {
	reason, by = strings.TrimSpace(reason), strings.TrimSpace(by)
	if reason == "" && by == "" {
		return nil, nil
	}
	if err := checkReason(reason, by); err != nil {
		return nil, err
	}
	return &BreakGlass{Reason: reason, By: by, Overrode: []Override{}}, nil
}

func checkReason(reason, by string) error {
	if reason == "" {
		return fmt.Errorf("--break-glass needs a reason, e.g. --break-glass \"hotfix for the broken ingestion, approved by the on-call lead\": it is recorded in the ledger")
	}
	for name, s := range map[string]string{"--break-glass": reason, "--break-glass-by": by} {
		if len(s) > maxReasonLength {
			return fmt.Errorf("%s is %d characters: keep it to %d (it is shown in run reports)", name, len(s), maxReasonLength)
		}
		if strings.IndexFunc(s, unicode.IsControl) >= 0 {
			return fmt.Errorf("%s contains a line break or control character: give it on one line", name)
		}
	}
	return nil
}

// The refusal kinds of the target's calendar.
const (
	Soaking Kind = "soak"
	Frozen  Kind = "freeze"
)

// CheckCalendar refuses a deploy to req.Target while one of its freeze
// windows holds, saying when the next allowed time is; a break-glass
// request goes through, the override noted in the returned Decision. It
// needs no evidence, so a deploy asks it first, before anything is read
// or planned.
func CheckCalendar(req Request) (Decision, error) {
	d := Decision{BreakGlass: cloneGlass(req.BreakGlass)}
	return d, schedule(req, nil, &d)
}

// schedule applies the target's soak (measured from soakFrom, the upstream
// pass the release has held since; nil for the first environment or
// evidence-less checks) and freeze windows to an admitted release.
func schedule(req Request, soakFrom *Recorded, d *Decision) error {
	p := req.Target.Promotion()
	cal := p.Freeze
	loc := location(cal)
	var refusals []*Refusal
	soakEnd := req.Now
	if soakFrom != nil && p.MinSoak > 0 {
		released, err := time.Parse(time.RFC3339, soakFrom.Entry.RecordedAt)
		if err != nil {
			return refuse(Malformed, "entry %d in %s: recorded_at %q: %v", soakFrom.Seq, soakFrom.Entry.Environment, soakFrom.Entry.RecordedAt, err)
		}
		soakEnd = released.Add(p.MinSoak)
		if soakEnd.After(req.Now) {
			r := &Refusal{Kind: Soaking}
			next, err := NextAllowed(cal, soakEnd)
			allowed := ""
			if err != nil {
				allowed = "no time is allowed after it: " + err.Error()
			} else {
				r.AllowedFrom = next
				allowed = "allowed from " + when(next, loc)
				if next.After(soakEnd) {
					window, _ := FrozenBy(cal, soakEnd)
					allowed += fmt.Sprintf(" (the soak ends at %s, inside the freeze %s)", when(soakEnd, loc), window)
				}
			}
			r.Message = fmt.Sprintf("release %s was released to %s at %s (entry %d), and %s requires a soak of %s there: %s",
				req.Release.ID, soakFrom.Entry.Environment, when(released, loc), soakFrom.Seq, req.Target, hours(p.MinSoak), allowed)
			refusals = append(refusals, r)
		}
	}
	if window, frozen := FrozenBy(cal, req.Now); frozen {
		r := &Refusal{Kind: Frozen}
		next, err := NextAllowed(cal, req.Now)
		if err != nil {
			r.Message = fmt.Sprintf("%s is frozen by %s, and %v", req.Target, window, err)
		} else {
			r.AllowedFrom = next
			r.Message = fmt.Sprintf("%s is frozen by %s until %s", req.Target, window, when(next, loc))
		}
		refusals = append(refusals, r)
	}
	if len(refusals) == 0 {
		return nil
	}
	if req.BreakGlass == nil {
		r := refusals[0]
		r.Message += fmt.Sprintf("; to deploy anyway, give a reason with --break-glass \"...\" (recorded in %s's ledger)", req.Target)
		return r
	}
	for _, r := range refusals {
		d.BreakGlass.Overrode = append(d.BreakGlass.Overrode, Override{Rule: r.Kind, Refusal: r.Message})
	}
	return nil
}

// hours renders a soak the way the file writes it.
func hours(d time.Duration) string { return fmt.Sprintf("%g h", d.Hours()) }

func cloneGlass(g *BreakGlass) *BreakGlass {
	if g == nil {
		return nil
	}
	c := *g
	c.Overrode = append([]Override{}, g.Overrode...)
	return &c
}

// soakStart is the first pass of the release's latest unbroken run of
// passes in the upstream: the time it has held there. A failure or a
// rollback away from it starts the count again.
type soakStart struct{ first *Recorded }

func (s *soakStart) see(r *Recorded, passed bool) {
	switch {
	case !passed:
		s.first = nil
	case s.first == nil:
		s.first = r
	}
}
