package terraform

import (
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deny statements of aws/storage.tf, as aws_iam_policy_document renders
// them.
const tlsOnly = `{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",
 "Resource":["arn:aws:s3:::zz","arn:aws:s3:::zz/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`

func doc(statements ...string) string {
	out := `{"Version":"2012-10-17","Statement":[`
	for i, s := range statements {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out + "]}"
}

func TestDenyStatementsKeptOrWeakened(t *testing.T) {
	allow := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::zz/*"}`
	tests := []struct {
		name   string
		after  string
		weaker bool
	}{
		{"unchanged", doc(tlsOnly), false},
		{"one statement object instead of a list", `{"Statement":` + tlsOnly + `}`, false},
		{"an allow statement added", doc(allow, tlsOnly), false},
		{"the principal as {AWS: *}", doc(`{"Sid":"x","Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":["arn:aws:s3:::zz*"],"Condition":{"Bool":{"aws:securetransport":["false"]}}}`), false},
		{"no condition at all (denies more)", doc(`{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}`), false},
		{"removed", doc(allow), true},
		{"fewer actions", doc(`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":["arn:aws:s3:::zz","arn:aws:s3:::zz/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), true},
		{"fewer resources", doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::zz","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), true},
		{"fewer principals", doc(`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), true},
		{"a condition added", doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:PrincipalAccount":"1"}}}`), true},
		{"a condition changed", doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`), true},
		{"an exclusion added (NotAction)", doc(`{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), true},
		{"everyone excluded (NotPrincipal *)", doc(`{"Effect":"Deny","NotPrincipal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), true},
		{"made an allow", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`), true},
		{"not a policy", "not json", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			weaker, was, now := keepsDenies(doc(tlsOnly), tt.after, Update)
			assert.Equal(t, tt.weaker, weaker, "%s -> %s", was, now)
		})
	}
	weaker, _, now := keepsDenies(doc(tlsOnly), unknownValue{}, Update)
	assert.True(t, weaker, "a policy known only after apply cannot show it keeps the denies")
	assert.Equal(t, "(known after apply)", now)
	weaker, _, _ = keepsDenies(doc(allow), doc(), Update)
	assert.False(t, weaker, "no deny before: nothing to weaken")
}

func TestGlobMatchesIAMWildcards(t *testing.T) {
	for _, m := range [][2]string{{"s3:*", "s3:PutObject"}, {"s3:*", "s3:Get*"}, {"s3:Get?bject", "s3:GetObject"}, {"*", ""}, {"arn:aws:s3:::zz*", "arn:aws:s3:::zz/a/b"}} {
		assert.True(t, globMatch(m[0], m[1], false), "%s ~ %s", m[0], m[1])
	}
	for _, m := range [][2]string{{"s3:Put*", "s3:GetObject"}, {"s3:GetObject", "s3:*"}, {"arn:aws:s3:::zz", "arn:aws:s3:::zz/*"}} {
		assert.False(t, globMatch(m[0], m[1], false), "%s !~ %s", m[0], m[1])
	}
	assert.True(t, globMatch("S3:putobject", "s3:PutObject", true))
}

func TestOpenCIDRIsTheInternetNotAPrivateOrSmallRange(t *testing.T) {
	for _, c := range []string{"0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "11.0.0.0/8", "2000::/3", "::ffff:0.0.0.0/96"} {
		assert.True(t, openCIDR(c), c)
	}
	for _, c := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "203.0.113.0/24", "fd00::/8", "2001:db8::/48", "not-a-cidr", ""} {
		assert.False(t, openCIDR(c), c)
	}
}

// Values not known until apply: refused where they could weaken what the
// resource has now, not where a new resource's computed rules are unknown.
func TestUnknownNetworkRulesAreRefusedOnUpdatesOnly(t *testing.T) {
	sg := map[string]any{"name": "zz", "ingress": []any{map[string]any{"cidr_blocks": []any{"10.0.0.0/8"}, "ipv6_cidr_blocks": []any{}}}}
	for _, tt := range []struct {
		actions []tfjson.Action
		refused bool
	}{{update, true}, {replace, false}, {create, false}} {
		change := rc("aws_security_group.zz", "aws_security_group", tt.actions...)
		if tt.actions[0] != tfjson.ActionCreate {
			change.Change.Before = jsonValue(t, sg)
		}
		change.Change.After = jsonValue(t, map[string]any{"name": "zz"})
		change.Change.AfterUnknown = jsonValue(t, map[string]any{"ingress": true})
		s := summarize(t, planJSON(t, change))
		assert.Equal(t, tt.refused, DefaultPolicy().Check("zzfixture/aws", s, nil) != nil, "%v", tt.actions)
	}
}

func TestSensitiveProtectionValuesAreNotShown(t *testing.T) {
	change := rc("aws_kms_key.zz", "aws_kms_key", tfjson.ActionUpdate)
	change.Change.Before = jsonValue(t, map[string]any{"is_enabled": true, "deletion_window_in_days": 30})
	change.Change.After = jsonValue(t, map[string]any{"is_enabled": true, "deletion_window_in_days": 7})
	change.Change.AfterSensitive = jsonValue(t, map[string]any{"deletion_window_in_days": true})
	s := summarize(t, planJSON(t, change))
	require.Len(t, s.Changes[0].Weakens, 1)
	assert.Equal(t, "30", s.Changes[0].Weakens[0].Before)
	assert.Equal(t, "(sensitive)", s.Changes[0].Weakens[0].After)
}

// The policy documents come from the plan, i.e. from user configuration.
func FuzzKeepsDenies(f *testing.F) {
	f.Add(doc(tlsOnly), doc())
	f.Add(doc(tlsOnly), `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"NotResource":"x"}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","Condition":{"Bool":7}}]}`, "[]")
	f.Fuzz(func(t *testing.T, before, after string) {
		keepsDenies(before, after, Update)
		if _, err := denyStatements(before); err == nil {
			weaker, _, _ := keepsDenies(before, before, Update)
			assert.False(t, weaker, "a policy always keeps its own denies")
		}
	})
}
