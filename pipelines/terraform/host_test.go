package terraform

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/s3test"
)

// stateResources returns "address=output" for every managed resource
// instance in a state file.
func stateResources(t *testing.T, state []byte) map[string]string {
	t.Helper()
	var st struct {
		Serial    int `json:"serial"`
		Resources []struct {
			Module    string `json:"module"`
			Type      string `json:"type"`
			Name      string `json:"name"`
			Instances []struct {
				IndexKey   any            `json:"index_key"`
				Attributes map[string]any `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(state, &st))
	out := map[string]string{}
	for _, r := range st.Resources {
		addr := r.Type + "." + r.Name
		if r.Module != "" {
			addr = r.Module + "." + addr
		}
		for _, in := range r.Instances {
			a := addr
			if in.IndexKey != nil {
				a = fmt.Sprintf("%s[%v]", addr, in.IndexKey)
			}
			out[a] = fmt.Sprint(dynamicValue(in.Attributes["triggers_replace"]), "|", dynamicValue(in.Attributes["input"]))
		}
	}
	return out
}

// dynamicValue unwraps terraform_data's {"type":…, "value":…} encoding.
func dynamicValue(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["value"]
	}
	return v
}

func outputs(t *testing.T, c *checkout) map[string]any {
	t.Helper()
	var raw map[string]struct {
		Value any `json:"value"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.must(c.target.OutputJSON()).stdout), &raw))
	out := map[string]any{}
	for k, v := range raw {
		out[k] = v.Value
	}
	return out
}

func TestHostEachEnvironmentHasItsOwnStateAndApplyingDevNeverTouchesProd(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	// One checkout used for both environments, as a laptop would: init
	// -reconfigure switches the state key without migrating anything.
	dev := newCheckout(t, s3, "dev", nil)
	prod := *dev
	prodTarget, err := NewTarget(mustLookup(t, dev.root, "prod"), AWS)
	require.NoError(t, err)
	prod.target = prodTarget.WithLockTimeout(0)

	dev.init()
	require.True(t, dev.planSaved(dev.target.PlanFile()))
	dev.must(dev.target.Apply(dev.target.PlanFile()))

	prod.init()
	require.True(t, prod.planSaved(prod.target.PlanFile()), "prod must start from an empty state, not dev's")
	prod.must(prod.target.Apply(prod.target.PlanFile()))
	assert.Equal(t, "prod", outputs(t, &prod)["environment"])
	assert.Equal(t, "lakehouse-prod-lakehouse", outputs(t, &prod)["data_bucket"])

	devState, ok := dev.state()
	require.True(t, ok, "dev state object iceberg-lakehouse/dev/terraform.tfstate")
	prodBefore, ok := prod.state()
	require.True(t, ok, "prod state object iceberg-lakehouse/prod/terraform.tfstate")
	assert.NotEqual(t, devState, prodBefore)
	assert.Contains(t, string(devState), "lakehouse-dev-lakehouse")
	assert.NotContains(t, string(devState), "lakehouse-prod-lakehouse")

	// Change and apply dev only.
	dev.setVars(`revision = "2"`)
	dev.init()
	require.True(t, dev.planSaved(dev.target.PlanFile()))
	dev.must(dev.target.Apply(dev.target.PlanFile()))
	assert.Equal(t, "dev", outputs(t, dev)["environment"])

	devAfter, _ := dev.state()
	assert.NotEqual(t, devState, devAfter, "dev state must change")
	prodAfter, _ := prod.state()
	assert.Equal(t, prodBefore, prodAfter, "applying dev changed prod's state")

	// Drift: prod matches its config (0); dev's tfvars edited but not
	// applied is drift (2).
	prod.init()
	assert.Equal(t, 0, prod.must(prod.target.Drift(), 0, 2).code)
	dev.setVars(`revision = "3"`)
	dev.init()
	r := dev.must(dev.target.Drift(), 0, 2)
	drift, err := DetailedExitCode(r.code)
	require.NoError(t, err)
	assert.True(t, drift, "unapplied change must be reported as drift")

	// Nothing is left locked, and the drift checks took no lock at all.
	for _, c := range []*checkout{dev, &prod} {
		_, locked := s3.Object(stateBucket, c.target.Backend().LockObject())
		assert.False(t, locked, "%s left a lock behind", c.target)
	}
}

func TestHostSavedPlanAppliesExactlyWhatWasPlanned(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	c := newCheckout(t, s3, "staging", nil)
	c.init()
	plan := c.target.PlanFile()
	require.True(t, c.planSaved(plan))
	summary, err := Summarize(c.showJSON(plan))
	require.NoError(t, err)

	// The tfvars change after the plan was reviewed; apply must ignore it.
	c.setVars(`revision = "99"`)
	c.must(c.target.Apply(plan))

	state, ok := c.state()
	require.True(t, ok)
	got := stateResources(t, state)
	var planned []string
	for _, ch := range summary.Changes {
		require.Equal(t, Create, ch.Action)
		planned = append(planned, ch.Address)
	}
	assert.ElementsMatch(t, planned, keys(got), "state must hold exactly the planned resources")
	assert.Equal(t, "1|<nil>", got["terraform_data.slow"], "apply used a value that was not in the reviewed plan")
}

func TestHostStaleSavedPlanIsRefused(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	c := newCheckout(t, s3, "staging", nil)
	c.init()
	require.True(t, c.planSaved("first.tfplan"))
	require.True(t, c.planSaved("second.tfplan"))
	c.must(c.target.Apply("second.tfplan"))
	stateAfterSecond, _ := c.state()

	r := c.run(c.target.Apply("first.tfplan"))
	assert.Equal(t, 1, r.code, r.String())
	assert.Contains(t, r.stderr, "Saved plan is stale")
	stateNow, _ := c.state()
	assert.Equal(t, stateAfterSecond, stateNow, "a refused stale plan must not write state")
}

func TestHostConcurrentApplyOnTheSameEnvironmentIsRefusedByTheLock(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	// Two checkouts (two CI jobs) of an environment added as a file.
	added := map[string]string{"environments/zzfixture.tfvars": "project_name = \"lakehouse\"\nenvironment  = \"zzfixture\"\ncloud_provider = \"aws\"\n"}
	first := newCheckout(t, s3, "zzfixture", added)
	second := newCheckout(t, s3, "zzfixture", added)
	first.init()
	second.init()
	require.True(t, first.planSaved("zzfixture.tfplan"))
	require.True(t, second.planSaved("zzfixture.tfplan"))

	lock := first.target.Backend().LockObject()
	done := make(chan result, 1)
	go func() {
		done <- first.run(first.target.Apply("zzfixture.tfplan"), "FIXTURE_APPLY_SLEEP=3")
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, held := s3.Object(stateBucket, lock); held {
			break
		}
		require.True(t, time.Now().Before(deadline), "first apply never took the lock %s", lock)
		time.Sleep(20 * time.Millisecond)
	}

	r := second.run(second.target.Apply("zzfixture.tfplan"))
	assert.Equal(t, 1, r.code, r.String())
	assert.Contains(t, r.stderr, "Error acquiring the state lock")
	assert.Contains(t, r.stderr, "Lock Info:", "the refusal should say who holds the lock")

	firstResult := <-done
	assert.Equal(t, 0, firstResult.code, firstResult.String())
	_, held := s3.Object(stateBucket, lock)
	assert.False(t, held, "lock must be released after the first apply")

	// The refusal came from the server's conditional write.
	var refused int
	for _, req := range s3.Requests() {
		if req.Method == "PUT" && strings.HasSuffix(req.Path, ".tflock") && req.IfNoneMatch == "*" && req.Status == 412 {
			refused++
		}
	}
	assert.Positive(t, refused, "expected a 412 on PUT If-None-Match: * of the lock object")
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestHostLockLeftByACancelledRunBlocksUntilForceUnlocked(t *testing.T) {
	s3 := s3test.Start(t, stateBucket)
	c := newCheckout(t, s3, "prod", nil)
	c.init()
	require.True(t, c.planSaved("prod.tfplan"))

	// A cancelled CI job left its lock object behind.
	const lockID = "5f1d7c2e-cancelled-job"
	s3.Put(t, stateBucket, c.target.Backend().LockObject(), []byte(`{"ID":"`+lockID+`","Operation":"OperationTypeApply","Info":"","Who":"ci@runner","Version":"1.11.4","Created":"2026-01-01T00:00:00Z","Path":"lakehouse-tfstate/`+c.target.Backend().StateObject()+`"}`))

	r := c.run(c.target.Apply("prod.tfplan"))
	assert.Equal(t, 1, r.code, r.String())
	assert.Contains(t, r.stderr, "Error acquiring the state lock")
	assert.Contains(t, r.stderr, lockID, "the message must show the lock ID needed to unlock")
	_, wrote := c.state()
	assert.False(t, wrote, "no state may be written without the lock")

	c.must(c.target.ForceUnlock(lockID))
	c.must(c.target.Apply("prod.tfplan"))
	_, wrote = c.state()
	assert.True(t, wrote)
}
