package environment

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Promotion is how releases reach an environment, read from the
// promotion_* variables of its tfvars file.
type Promotion struct {
	// Upstream is the environment whose passing release this one deploys;
	// "" for the first environment, which deploys releases from publish.
	Upstream string
	// WarningsBlock: a gate that passes with warnings does not promote.
	WarningsBlock bool
	// MaxEvidenceAge is how old the upstream's passing gate may be.
	MaxEvidenceAge time.Duration
	// RequiresApproval: a deploy waits for a human (the workflow's GitHub
	// environment protection rules).
	RequiresApproval bool
	// MinSoak is how long a release must have passed in the upstream
	// before it deploys here (0: no soak; always 0 for the first environment).
	MinSoak time.Duration
	// Freeze is when deploys here refuse (promotion_timezone and the
	// promotion_freeze_* windows).
	Freeze Calendar

	line int // of promotion_upstream, for errors
}

// The defaults fail closed: warnings block, evidence older than a week is stale.
const (
	defaultWarningsBlock  = true
	defaultMaxEvidenceAge = 168 * time.Hour
)

// parsePromotion reads the optional promotion_* attributes.
func parsePromotion(filename, self string, attrs hcl.Attributes) (Promotion, error) {
	p := Promotion{WarningsBlock: defaultWarningsBlock, MaxEvidenceAge: defaultMaxEvidenceAge}
	if a, ok := attrs["promotion_upstream"]; ok {
		v, err := literal(filename, a, cty.String)
		if err != nil {
			return p, err
		}
		p.Upstream, p.line = v.AsString(), a.Range.Start.Line
		if p.Upstream != "" && !namePattern.MatchString(p.Upstream) {
			return p, fmt.Errorf("%s:%d: promotion_upstream = %q is not an environment name: use \"\" for the first environment or the name of another environments/<name>.tfvars", filename, p.line, p.Upstream)
		}
		if p.Upstream == self {
			return p, fmt.Errorf("%s:%d: promotion_upstream = %q is this environment itself: use \"\" for the first environment or the name of the environment it promotes from", filename, p.line, p.Upstream)
		}
	}
	if a, ok := attrs["promotion_warnings_block"]; ok {
		v, err := literal(filename, a, cty.Bool)
		if err != nil {
			return p, err
		}
		p.WarningsBlock = v.True()
	}
	if a, ok := attrs["promotion_max_evidence_age_hours"]; ok {
		v, err := literal(filename, a, cty.Number)
		if err != nil {
			return p, err
		}
		hours, _ := v.AsBigFloat().Float64()
		if hours < 1 || hours > 2160 || hours != math.Trunc(hours) {
			return p, fmt.Errorf("%s:%d: promotion_max_evidence_age_hours = %v: use a whole number of hours from 1 to 2160", filename, a.Range.Start.Line, hours)
		}
		p.MaxEvidenceAge = time.Duration(hours) * time.Hour
	}
	if a, ok := attrs["promotion_requires_approval"]; ok {
		v, err := literal(filename, a, cty.Bool)
		if err != nil {
			return p, err
		}
		p.RequiresApproval = v.True()
	}
	if err := parseSoak(filename, attrs, &p); err != nil {
		return p, err
	}
	var err error
	p.Freeze, err = parseCalendar(filename, attrs)
	return p, err
}

// parseSoak reads promotion_min_soak_hours: whole hours, 0 in the first
// environment (it has no upstream to soak in), and shorter than the
// evidence may be old (else the evidence would expire before the soak ends).
func parseSoak(filename string, attrs hcl.Attributes, p *Promotion) error {
	a, ok := attrs["promotion_min_soak_hours"]
	if !ok {
		return nil
	}
	v, err := literal(filename, a, cty.Number)
	if err != nil {
		return err
	}
	line := a.Range.Start.Line
	hours, _ := v.AsBigFloat().Float64()
	switch {
	case hours < 0 || hours > 2160 || hours != math.Trunc(hours):
		return fmt.Errorf("%s:%d: promotion_min_soak_hours = %v: use a whole number of hours from 0 (no soak) to 2160", filename, line, hours)
	case hours > 0 && p.Upstream == "":
		return fmt.Errorf("%s:%d: promotion_min_soak_hours = %v, but this is a first environment (promotion_upstream = \"\"): a release has nowhere to soak before it; set 0", filename, line, hours)
	case time.Duration(hours)*time.Hour >= p.MaxEvidenceAge:
		return fmt.Errorf("%s:%d: promotion_min_soak_hours = %v is not less than promotion_max_evidence_age_hours = %v: the upstream's evidence would be too old by the time the soak ends; shorten the soak or allow older evidence",
			filename, line, hours, p.MaxEvidenceAge.Hours())
	}
	p.MinSoak = time.Duration(hours) * time.Hour
	return nil
}

func literal(filename string, a *hcl.Attribute, want cty.Type) (cty.Value, error) {
	line := a.Range.Start.Line
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s:%d: %s must be a literal value: %w", filename, line, a.Name, diags)
	}
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(want) {
		return cty.NilVal, fmt.Errorf("%s:%d: %s must be a %s, got %s", filename, line, a.Name, want.FriendlyName(), v.Type().FriendlyName())
	}
	return v, nil
}

// Promotion returns how releases reach e.
func (e Env) Promotion() Promotion { return e.promotion }

// PromotionOrder returns the environments in the order a release moves
// through them (the first environment, then each one's downstream). The
// order must be one chain or tree per cloud, each with exactly one first
// environment, every upstream a usable environment of the same cloud, and no
// cycle; otherwise the error names each offending file and line. Chains of
// different clouds follow each other in the order of Clouds.
func (c *Catalog) PromotionOrder() ([]Env, error) {
	byName := map[string]Env{}
	for _, e := range c.envs {
		byName[e.name] = e
	}
	invalid := map[string]string{}
	for _, inv := range c.invalid {
		invalid[inv.Name] = inv.File
	}
	var errs []error
	var roots []Env
	for _, e := range c.envs {
		up := e.promotion.Upstream
		switch {
		case up == "":
			roots = append(roots, e)
		case invalid[up] != "":
			errs = append(errs, fmt.Errorf("%s:%d: promotion_upstream = %q, but %s is invalid: fix it first", e.TfvarsFile(), e.promotion.line, up, invalid[up]))
		case byName[up].IsZero():
			errs = append(errs, fmt.Errorf("%s:%d: promotion_upstream = %q is not an environment: known environments are %s", e.TfvarsFile(), e.promotion.line, up, strings.Join(c.Names(), ", ")))
		case byName[up].cloud != e.cloud:
			// The upstream's evidence is in its cloud's ledger and the
			// release's images in one registry: a chain stays in one cloud.
			errs = append(errs, fmt.Errorf("%s:%d: promotion_upstream = %q, but %s deploys to %s and %s to %s: a release's evidence lives in its cloud's state bucket, so a promotion chain stays in one cloud; set the same cloud_provider in both files or start a chain in %s (promotion_upstream = \"\")",
				e.TfvarsFile(), e.promotion.line, up, up, byName[up].cloud, e.name, e.cloud, e.cloud))
		}
	}
	if len(roots) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("no first environment: every environments/*.tfvars names a promotion_upstream; set promotion_upstream = \"\" in the environment that deploys releases from publish"))
	}
	// One chain per cloud: each starts at exactly one first environment.
	rootsByCloud := map[string][]string{}
	for _, r := range roots {
		rootsByCloud[r.cloud] = append(rootsByCloud[r.cloud], r.TfvarsFile())
	}
	for _, cloud := range Clouds {
		if files := rootsByCloud[cloud]; len(files) > 1 {
			errs = append(errs, fmt.Errorf("%d first environments deploying to %s (%s) have promotion_upstream = \"\": exactly one per cloud may; set the others' promotion_upstream to the environment they promote from", len(files), cloud, strings.Join(files, ", ")))
		}
	}
	for _, e := range c.envs {
		if cycle := cycleFrom(e, byName); cycle != nil {
			errs = append(errs, fmt.Errorf("%s:%d: promotion_upstream forms a cycle %s: one environment in it must come first", e.TfvarsFile(), e.promotion.line, strings.Join(cycle, " ← ")))
			break
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Each chain before the next: a release moves through one cloud's
	// environments in order, whatever another cloud's chain does.
	var order []Env
	for _, cloud := range Clouds {
		for _, root := range roots {
			if root.cloud == cloud {
				order = append(order, downstreamOf(root, c.envs)...)
			}
		}
	}
	return order, nil
}

// downstreamOf lists root and every environment below it, breadth first.
func downstreamOf(root Env, envs []Env) []Env {
	var order []Env
	for queue := []Env{root}; len(queue) > 0; {
		next := queue[0]
		queue = queue[1:]
		order = append(order, next)
		for _, e := range envs {
			if e.promotion.Upstream == next.name {
				queue = append(queue, e)
			}
		}
	}
	return order
}

// cycleFrom follows upstreams from e and returns the cycle it enters, if any.
func cycleFrom(e Env, byName map[string]Env) []string {
	seen := map[string]int{}
	var path []string
	for cur := e; !cur.IsZero(); cur = byName[cur.promotion.Upstream] {
		if i, ok := seen[cur.name]; ok {
			return append(path[i:], cur.name)
		}
		seen[cur.name] = len(path)
		path = append(path, cur.name)
		if cur.promotion.Upstream == "" {
			return nil
		}
	}
	return nil
}
