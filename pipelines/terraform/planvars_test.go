package terraform

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

const testDigest = "ghcr.io/acme/lakehouse@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestPlanWithVarsPassesReleaseInputsAfterTheVarFile(t *testing.T) {
	tg := target(t, "zzomega", AWS)
	got := tg.PlanWithVars("zzomega.tfplan", map[string]string{
		"gate_image":    testDigest + "-gate",
		"dagster_image": testDigest,
	})
	assert.Equal(t, []string{"terraform", "plan", "-input=false", "-no-color",
		"-lock-timeout=5m",
		"-var-file=../environments/zzomega.tfvars",
		"-var=dagster_image=" + testDigest,
		"-var=gate_image=" + testDigest + "-gate",
		"-out=zzomega.tfplan",
		"-detailed-exitcode"}, got)
	// -var after -var-file: Terraform takes the last value, so a committed
	// tfvars value can never shadow the release's.
	assert.Greater(t, slices.Index(got, "-var=dagster_image="+testDigest), slices.Index(got, "-var-file=../environments/zzomega.tfvars"))
}

func TestPlanWithVarsWithoutVarsIsPlan(t *testing.T) {
	tg := target(t, "zzalpha", GCP)
	assert.Equal(t, tg.Plan("zzalpha.tfplan"), tg.PlanWithVars("zzalpha.tfplan", nil))
	assert.Equal(t, tg.Drift(), tg.DriftWithVars(map[string]string{}))
}

func TestDriftWithVarsKeepsDriftSemantics(t *testing.T) {
	tg := target(t, "zzgamma", AWS)
	got := tg.DriftWithVars(map[string]string{"dagster_image": testDigest})
	assert.Equal(t, []string{"terraform", "plan", "-input=false", "-no-color",
		"-lock=false",
		"-var-file=../environments/zzgamma.tfvars",
		"-var=dagster_image=" + testDigest,
		"-detailed-exitcode"}, got)
	assert.NotContains(t, got, "-out=zzgamma.tfplan", "a drift check saves no plan")
}

func TestPlanWithVarsKeepsValuesWhole(t *testing.T) {
	// argv, not a shell line: a value with spaces or = stays one element.
	got := target(t, "zzalpha", AWS).PlanWithVars("zzalpha.tfplan", map[string]string{"note": "a b=c"})
	assert.Contains(t, got, "-var=note=a b=c")
}
