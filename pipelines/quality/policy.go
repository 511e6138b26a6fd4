package quality

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind names why a report does not promote.
type Kind string

// The refusal kinds; each has its own message.
const (
	Missing       Kind = "missing"
	Unparsable    Kind = "unparsable"
	UnknownSchema Kind = "unknown-schema"
	Malformed     Kind = "malformed"
	OtherEnv      Kind = "other-environment"
	OtherRelease  Kind = "other-release"
	NoChecks      Kind = "no-checks"
	Errored       Kind = "error"
	Failed        Kind = "fail"
	WarningsBlock Kind = "warn-blocks"
	Stale         Kind = "stale"
	FromTheFuture Kind = "future"
)

// Refusal is why a report does not let a release promote.
type Refusal struct {
	Kind    Kind
	Message string
}

func (r *Refusal) Error() string {
	return "quality gate refuses promotion (" + string(r.Kind) + "): " + r.Message
}

func refuse(kind Kind, format string, a ...any) error {
	return &Refusal{Kind: kind, Message: fmt.Sprintf(format, a...)}
}

// KindOf returns the refusal kind of err, or "" if err is not a refusal.
func KindOf(err error) Kind {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Kind
	}
	return ""
}

// Expectation is what a report must show to promote.
type Expectation struct {
	// Environment the gate must have scanned.
	Environment string
	// Commit, RuntimeImage and GateImage of the release being promoted
	// (images as repository@sha256:…); all three must match the report.
	Commit, RuntimeImage, GateImage string
	// AnyRelease skips the release check: only for judging a gate run that
	// was not made for a release (a local run). Promotion never sets it.
	AnyRelease bool
	// WarningsBlock: the environment's policy refuses a warn outcome.
	WarningsBlock bool
	// MaxAge refuses reports that finished longer ago than this (0: any age).
	MaxAge time.Duration
	// Now is the time the decision is made.
	Now time.Time
}

// Decide returns nil when raw is a valid report that lets the expected
// release promote, and a *Refusal saying why not otherwise.
func Decide(raw []byte, want Expectation) (*Report, error) {
	r, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	return r, r.Allows(want)
}

// Allows judges a parsed report against want.
func (r *Report) Allows(want Expectation) error {
	if r.Environment != want.Environment {
		return refuse(OtherEnv, "the report is for environment %s, not %s: run the gate in %s", r.Environment, want.Environment, want.Environment)
	}
	if !want.AnyRelease {
		if err := r.sameRelease(want); err != nil {
			return err
		}
	}
	if want.MaxAge > 0 {
		finished, _ := time.Parse(time.RFC3339, r.FinishedAt)
		age := want.Now.Sub(finished)
		if age > want.MaxAge {
			return refuse(Stale, "the report finished %s ago (%s), older than the %s the policy allows: run the gate in %s again", age.Round(time.Minute), r.FinishedAt, want.MaxAge, r.Environment)
		}
		if age < -5*time.Minute {
			return refuse(FromTheFuture, "the report says it finished at %s, after now (%s): the clock of the machine that ran it is wrong", r.FinishedAt, want.Now.UTC().Format(time.RFC3339))
		}
	}
	var noChecks []string
	for _, t := range r.Tables {
		evaluated := 0
		for _, c := range t.Checks {
			if c.Outcome != NotEvaluated {
				evaluated++
			}
		}
		if evaluated == 0 {
			noChecks = append(noChecks, t.Name)
		}
	}
	if len(noChecks) > 0 {
		return refuse(NoChecks, "no check was evaluated on %s: a gate that checked nothing proves nothing (%s)", strings.Join(noChecks, ", "), r.firstProblem())
	}
	switch r.Outcome {
	case Error:
		return refuse(Errored, "the gate could not judge the data: %s", r.firstProblem())
	case Fail:
		return refuse(Failed, "checks failed: %s", r.failing(Fail))
	case Warn:
		if want.WarningsBlock {
			return refuse(WarningsBlock, "checks warned and %s's policy blocks on warnings (promotion_warnings_block): %s", want.Environment, r.failing(Warn))
		}
	}
	return nil
}

func (r *Report) sameRelease(want Expectation) error {
	got := map[string]*string{"commit": r.Release.Commit, "runtime image": r.Release.RuntimeImage, "gate image": r.Release.GateImage}
	exp := map[string]string{"commit": want.Commit, "runtime image": want.RuntimeImage, "gate image": want.GateImage}
	for _, k := range []string{"commit", "runtime image", "gate image"} {
		switch {
		case exp[k] == "":
			return refuse(OtherRelease, "no %s of the release to compare the report with", k)
		case got[k] == nil:
			return refuse(OtherRelease, "the report names no %s: it was not made for a release (run the gate image of the release)", k)
		case *got[k] != exp[k]:
			return refuse(OtherRelease, "the report judged %s %s, not the release's %s", k, *got[k], exp[k])
		}
	}
	return nil
}

func (r *Report) firstProblem() string {
	if len(r.Errors) > 0 {
		return r.Errors[0]
	}
	for _, t := range r.Tables {
		if t.Error != nil {
			return t.Name + ": " + *t.Error
		}
		for _, c := range t.Checks {
			if c.Outcome == NotEvaluated {
				return t.Name + ": check " + c.Name + " was not evaluated"
			}
		}
	}
	return "no table was scanned"
}

func (r *Report) failing(outcome string) string {
	var out []string
	for _, t := range r.Tables {
		for _, c := range t.Checks {
			if c.Outcome == outcome {
				out = append(out, fmt.Sprintf("%s: %s (measured %v)", t.Name, c.Name, c.MeasuredValue))
			}
		}
	}
	return strings.Join(out, "; ")
}
