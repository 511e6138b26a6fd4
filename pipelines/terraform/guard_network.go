package terraform

import (
	"encoding/json"
	"net/netip"
	"slices"
	"sort"
)

// The catalog (Nessie) and the Dagster webserver have no authentication of
// their own: the roots keep them behind internal load balancers, Cloud Run
// internal ingress and security groups admitting private ranges only. No
// ingress of either root is meant to admit the internet, so every ingress
// rule, security group, firewall and public IAM member is judged, by type:
// a rename or a new rule cannot slip past.

// opens judges a setting by the sources it admits: it is weakened when
// after admits an open source (see open) that before did not. sources
// lists a value's sources and whether some are not known until apply.
// Unknown sources count as opened on an update only: on a create or
// replace they belong to a new resource, whose computed rules the
// configuration does not open.
func opens(sources func(v any) (all []string, unknown bool), open func(string) bool) func(before, after any, act Action) (bool, string, string) {
	return func(before, after any, act Action) (bool, string, string) {
		was, _ := sources(before)
		now, unknown := sources(after)
		shown := func(l []string, u bool) string {
			switch {
			case u:
				return "(known after apply)"
			case len(l) == 0:
				return "none"
			}
			return render(l)
		}
		if unknown && act == Update {
			return true, shown(was, false), shown(now, unknown)
		}
		for _, s := range now {
			if open(s) && !slices.Contains(was, s) {
				return true, shown(was, false), shown(now, unknown)
			}
		}
		return false, "", ""
	}
}

// privateRanges are the address ranges no internet host has.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("::1/128"),
}

// openCIDR reports whether a source range admits the internet or a large
// part of it: public addresses in a range of /8 or wider (IPv4) or /32 or
// wider (IPv6). 0.0.0.0/0 and ::/0 are open; so is 0.0.0.0/1, which a
// validation against the literal 0.0.0.0/0 lets through. A single public
// office range (/24, /48) is not.
func openCIDR(s string) bool {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return false // the provider rejects it before anything opens
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 { // ::ffff:a.b.c.d/n is IPv4
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	widest := 8
	if p.Addr().Is6() {
		widest = 32
	}
	if p.Bits() > widest {
		return false
	}
	for _, r := range privateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return false
		}
	}
	return true
}

// publicMember reports whether an IAM member is everyone.
func publicMember(m string) bool {
	return m == "allUsers" || m == "allAuthenticatedUsers" || m == "principalSet://goog/public:all"
}

// stringsOf collects the strings of v (a string, a list or set of strings),
// noting unknown parts.
func stringsOf(v any) ([]string, bool) {
	switch x := v.(type) {
	case unknownValue:
		return nil, true
	case string:
		if x == "" {
			return nil, false
		}
		return []string{x}, false
	case []any:
		var out []string
		unknown := false
		for _, e := range x {
			s, u := stringsOf(e)
			out, unknown = append(out, s...), unknown || u
		}
		return out, unknown
	}
	return nil, false
}

// fieldsOf collects the strings of fields of one object.
func fieldsOf(v any, fields ...string) ([]string, bool) {
	if isUnknown(v) {
		return nil, true
	}
	m, _ := v.(map[string]any)
	var out []string
	unknown := false
	for _, f := range fields {
		s, u := stringsOf(m[f])
		out, unknown = append(out, s...), unknown || u
	}
	sort.Strings(out)
	return slices.Compact(out), unknown
}

// eachFieldsOf collects fields over a list of objects (inline ingress
// blocks, authorized networks).
func eachFieldsOf(fields ...string) func(v any) ([]string, bool) {
	return func(v any) ([]string, bool) {
		if isUnknown(v) {
			return nil, true
		}
		l, _ := v.([]any)
		var out []string
		unknown := false
		for _, e := range l {
			s, u := fieldsOf(e, fields...)
			out, unknown = append(out, s...), unknown || u
		}
		sort.Strings(out)
		return slices.Compact(out), unknown
	}
}

// ingressSources reads aws_security_group_rule: the CIDRs of an ingress
// rule (an egress rule admits nothing).
func ingressSources(v any) ([]string, bool) {
	m, _ := v.(map[string]any)
	if m != nil && m["type"] != "ingress" && !isUnknown(m["type"]) {
		return nil, false
	}
	return fieldsOf(v, "cidr_blocks", "ipv6_cidr_blocks")
}

// firewallSources reads google_compute_firewall: the source ranges of an
// enabled ingress rule that allows traffic.
func firewallSources(v any) ([]string, bool) {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil, isUnknown(v)
	}
	allows, _ := m["allow"].([]any)
	if m["disabled"] == true || (m["direction"] != nil && m["direction"] != "INGRESS") || (len(allows) == 0 && !isUnknown(m["allow"])) {
		return nil, false
	}
	return fieldsOf(v, "source_ranges")
}

// iamMembers reads the google_*_iam_member, _iam_binding and _iam_policy
// resources: their members, or those of every binding of policy_data.
func iamMembers(v any) ([]string, bool) {
	m, _ := v.(map[string]any)
	if m == nil || m["policy_data"] == nil {
		return fieldsOf(v, "member", "members")
	}
	if isUnknown(m["policy_data"]) {
		return nil, true
	}
	s, _ := m["policy_data"].(string)
	var doc struct {
		Bindings []struct {
			Members []string `json:"members"`
		} `json:"bindings"`
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return nil, s != ""
	}
	var out []string
	for _, b := range doc.Bindings {
		out = append(out, b.Members...)
	}
	sort.Strings(out)
	return slices.Compact(out), false
}
