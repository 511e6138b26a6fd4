package environment

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func promoting(env, upstream string, extra ...string) []byte {
	s := "project_name = \"lakehouse\"\nenvironment  = \"" + env + "\"\npromotion_upstream = \"" + upstream + "\"\n"
	for _, e := range extra {
		s += e + "\n"
	}
	return []byte(s + "cloud_provider = \"aws\"\n")
}

func order(t *testing.T, c *Catalog) []string {
	t.Helper()
	envs, err := c.PromotionOrder()
	require.NoError(t, err)
	var names []string
	for _, e := range envs {
		names = append(names, e.Name())
	}
	return names
}

func TestPromotionOrderComesFromTheFiles(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{
		"environments/a1.tfvars": promoting("a1", ""),
		"environments/b2.tfvars": promoting("b2", "a1", "promotion_warnings_block = false", "promotion_max_evidence_age_hours = 24"),
		"environments/c3.tfvars": promoting("c3", "b2", "promotion_requires_approval = true"),
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a1", "b2", "c3"}, order(t, c))

	b, _ := c.Lookup("b2")
	assert.Equal(t, Promotion{Upstream: "a1", WarningsBlock: false, MaxEvidenceAge: 24 * time.Hour, Freeze: Calendar{Location: time.UTC}, line: 3}, b.Promotion())
	a, _ := c.Lookup("a1")
	assert.True(t, a.Promotion().WarningsBlock, "warnings block unless a file says otherwise")
	assert.Equal(t, 168*time.Hour, a.Promotion().MaxEvidenceAge)
	cc, _ := c.Lookup("c3")
	assert.True(t, cc.Promotion().RequiresApproval)
}

// An environment added between two others takes its place by files only.
func TestAnAddedEnvironmentTakesItsPlaceInThePromotionOrder(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{
		"environments/a1.tfvars":        promoting("a1", ""),
		"environments/zzfixture.tfvars": promoting("zzfixture", "a1"),
		"environments/c3.tfvars":        promoting("c3", "zzfixture"),
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a1", "zzfixture", "c3"}, order(t, c))
}

func onCloud(env, cloud, upstream string) []byte {
	return []byte("project_name = \"lakehouse\"\nenvironment = \"" + env + "\"\ncloud_provider = \"" + cloud + "\"\npromotion_upstream = \"" + upstream + "\"\n")
}

// A repository may deploy to both clouds: one chain per cloud, each in
// order, and the deploy matrix carries each environment's cloud.
func TestEachCloudHasItsOwnChainAndTheListingCarriesTheCloud(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{
		"environments/g1.tfvars": onCloud("g1", "gcp", ""),
		"environments/a1.tfvars": onCloud("a1", "aws", ""),
		"environments/g2.tfvars": onCloud("g2", "gcp", "g1"),
		"environments/a2.tfvars": onCloud("a2", "aws", "a1"),
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a1", "a2", "g1", "g2"}, order(t, c), "one cloud's chain, then the other's, never interleaved")
	l := c.Listing()
	assert.Empty(t, l.PromotionError)
	assert.Equal(t, []Target{{"a1", "aws"}, {"a2", "aws"}, {"g1", "gcp"}, {"g2", "gcp"}}, l.DeployTargets)
	assert.Equal(t, []Target{{"a1", "aws"}, {"a2", "aws"}, {"g1", "gcp"}, {"g2", "gcp"}}, l.Targets)
	g, _ := c.Lookup("g2")
	assert.Equal(t, "gcp", g.Cloud())
}

func TestAPromotionChainStaysInOneCloud(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{
		"environments/a1.tfvars": onCloud("a1", "aws", ""),
		"environments/g2.tfvars": onCloud("g2", "gcp", "a1"),
	})
	require.NoError(t, err)
	_, err = c.PromotionOrder()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environments/g2.tfvars:4")
	assert.Contains(t, err.Error(), "a1 deploys to aws and g2 to gcp")
	assert.Contains(t, err.Error(), "stays in one cloud")
	l := c.Listing()
	assert.Empty(t, l.DeployTargets, "no deploy matrix from a broken order")
	assert.NotEmpty(t, l.PromotionError)

	c, err = NewCatalog(map[string][]byte{
		"environments/a1.tfvars": onCloud("a1", "aws", ""),
		"environments/a2.tfvars": onCloud("a2", "aws", ""),
		"environments/g1.tfvars": onCloud("g1", "gcp", ""),
	})
	require.NoError(t, err)
	_, err = c.PromotionOrder()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 first environments deploying to aws")
	assert.NotContains(t, err.Error(), "g1.tfvars", "gcp's single first environment is fine")
}

func TestPromotionOrderRefusesCyclesUnknownUpstreamsAndTwoFirstEnvironments(t *testing.T) {
	cases := map[string]struct {
		files map[string][]byte
		want  []string
	}{
		"cycle": {map[string][]byte{
			"environments/a1.tfvars": promoting("a1", ""),
			"environments/b2.tfvars": promoting("b2", "c3"),
			"environments/c3.tfvars": promoting("c3", "b2"),
		}, []string{"environments/b2.tfvars:3", "cycle", "b2 ← c3 ← b2"}},
		"unknown upstream": {map[string][]byte{
			"environments/a1.tfvars": promoting("a1", ""),
			"environments/b2.tfvars": promoting("b2", "stagign"),
		}, []string{"environments/b2.tfvars:3", `promotion_upstream = "stagign" is not an environment`, "known environments are a1, b2"}},
		"two first environments": {map[string][]byte{
			"environments/a1.tfvars": promoting("a1", ""),
			"environments/b2.tfvars": promoting("b2", ""),
		}, []string{"2 first environments", "environments/a1.tfvars", "environments/b2.tfvars"}},
		"no first environment": {map[string][]byte{
			"environments/a1.tfvars": promoting("a1", "b2"),
			"environments/b2.tfvars": promoting("b2", "a1"),
		}, []string{"cycle"}},
		"upstream is an invalid file": {map[string][]byte{
			"environments/a1.tfvars": promoting("a1", ""),
			"environments/b2.tfvars": []byte("environment = \"x\"\n"),
			"environments/c3.tfvars": promoting("c3", "b2"),
		}, []string{"environments/c3.tfvars:3", "environments/b2.tfvars is invalid"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := NewCatalog(tc.files)
			require.NoError(t, err)
			_, err = c.PromotionOrder()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestPromotionSettingsAreValidatedWithFileAndLine(t *testing.T) {
	for in, want := range map[string]string{
		`promotion_upstream = "Prod"`:              `environments/b2.tfvars:3: promotion_upstream = "Prod" is not an environment name`,
		`promotion_warnings_block = "yes"`:         "environments/b2.tfvars:3: promotion_warnings_block must be a bool",
		`promotion_upstream = "b2"`:                `environments/b2.tfvars:3: promotion_upstream = "b2" is this environment itself`,
		`promotion_max_evidence_age_hours = 0`:     "whole number of hours from 1 to 2160",
		`promotion_max_evidence_age_hours = 1.5`:   "whole number of hours",
		`promotion_requires_approval = var.x`:      "must be a literal value",
		`promotion_max_evidence_age_hours = "168"`: "must be a number",
	} {
		c, err := NewCatalog(map[string][]byte{
			"environments/a1.tfvars": promoting("a1", ""),
			"environments/b2.tfvars": []byte("project_name = \"lakehouse\"\nenvironment  = \"b2\"\n" + in + "\ncloud_provider = \"aws\"\n"),
		})
		require.NoError(t, err)
		require.Error(t, c.Err(), in)
		assert.Contains(t, c.Err().Error(), want, in)
	}
}

func TestRepositoryPromotionOrderIsValid(t *testing.T) {
	c, err := Discover(os.DirFS("../.."))
	require.NoError(t, err)
	envs, err := c.PromotionOrder()
	require.NoError(t, err)
	require.Len(t, envs, len(c.Envs()), "every environment is on the promotion path")
	assert.Empty(t, envs[0].Promotion().Upstream)
}
