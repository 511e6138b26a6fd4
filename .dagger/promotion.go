package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// The promotion decision of a deploy, and the run report's words for the
// calendar and a break-glass.

// evidence admits the release on the upstream's ledger (or the entry given
// by hand) and the target's soak and freeze, or refuses with what is
// missing or when the next allowed time is.
func (m *Lakehouse) evidence(ctx context.Context, t terraform.Target, rel release.Record, given *dagger.File, glass *promotion.BreakGlass) (promotion.Decision, error) {
	target := t.Env()
	req := promotion.Request{Target: target, Release: rel, Now: time.Now().UTC(), BreakGlass: glass}
	up := target.Promotion().Upstream
	if up == "" {
		return promotion.Decide(req, nil)
	}
	var raw []promotion.RawEntry
	if given != nil {
		body, err := given.Contents(ctx)
		if err != nil {
			return promotion.Decision{}, fmt.Errorf("read --evidence: %w", err)
		}
		raw = []promotion.RawEntry{{Seq: 0, Key: "--evidence", Body: []byte(body)}}
	} else {
		entries, err := m.readLedger(ctx, m.ledgerClient(t), m.stateLedger(t, up))
		if err != nil {
			return promotion.Decision{}, err
		}
		raw = entries
	}
	entries, err := promotion.ParseEntries(raw)
	if err != nil {
		return promotion.Decision{}, err
	}
	return promotion.Decide(req, entries)
}

// calendarDetail is the calendar step's detail: open, or what was overridden.
func calendarDetail(d promotion.Decision) string {
	if d.BreakGlass != nil && len(d.BreakGlass.Overrode) > 0 {
		return "frozen; overridden by --break-glass (the refusal is in the facts above)"
	}
	return "no freeze window holds"
}

// overrides says which refusals a break-glass went through ("" for none).
func overrides(g *promotion.BreakGlass) string {
	if g == nil || len(g.Overrode) == 0 {
		return ""
	}
	rules := make([]string, len(g.Overrode))
	for i, o := range g.Overrode {
		rules[i] = string(o.Rule)
	}
	return "; " + strings.Join(rules, " and ") + " overridden by --break-glass"
}

// breakGlassFact is the break-glass as the run report records it.
func breakGlassFact(g *promotion.BreakGlass) string {
	s := "\"" + g.Reason + "\""
	if g.By != "" {
		s += " by " + g.By
	}
	if len(g.Overrode) == 0 {
		return s + " (nothing to override)"
	}
	var refusals []string
	for _, o := range g.Overrode {
		refusals = append(refusals, string(o.Rule)+": "+o.Refusal)
	}
	return s + "; overrode " + strings.Join(refusals, "; ")
}
