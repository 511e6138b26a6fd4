package environment

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tfvars(env string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte("project_name = \"lakehouse\"\nenvironment  = \"" + env + "\"\ncloud_provider = \"aws\"\n")}
}

func TestDiscoverFindsEveryTfvarsFileSorted(t *testing.T) {
	fsys := fstest.MapFS{
		"environments/prod.tfvars":    tfvars("prod"),
		"environments/dev.tfvars":     tfvars("dev"),
		"environments/staging.tfvars": tfvars("staging"),
		"environments/README.md":      {Data: []byte("not an environment")},
		"examples/zzexample.tfvars":   tfvars("zzexample"),
	}
	c, err := Discover(fsys)
	require.NoError(t, err)
	assert.Equal(t, []string{"dev", "prod", "staging"}, c.Names())

	env, err := c.Lookup("staging")
	require.NoError(t, err)
	assert.Equal(t, "staging", env.String())
	assert.Equal(t, "lakehouse", env.ProjectName())
	assert.Equal(t, "environments/staging.tfvars", env.TfvarsFile())
	assert.Equal(t, "dagster/.env.staging", env.EnvFile())
}

func TestAddingAnEnvironmentIsAddingAFile(t *testing.T) {
	fsys := fstest.MapFS{"environments/dev.tfvars": tfvars("dev")}
	c, err := Discover(fsys)
	require.NoError(t, err)
	_, err = c.Lookup("zzfixture")
	require.Error(t, err)

	fsys["environments/zzfixture.tfvars"] = tfvars("zzfixture")
	c, err = Discover(fsys)
	require.NoError(t, err)
	env, err := c.Lookup("zzfixture")
	require.NoError(t, err)
	assert.Equal(t, "zzfixture", env.Name())
}

func TestLookupOfUnknownEnvironmentListsKnownOnesAndHowToAdd(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{
		"environments/dev.tfvars":  tfvars("dev").Data,
		"environments/prod.tfvars": tfvars("prod").Data,
	})
	require.NoError(t, err)
	_, err = c.Lookup("stagign")
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `unknown environment "stagign"`)
	assert.Contains(t, msg, "dev, prod")
	assert.Contains(t, msg, `copy environments/dev.tfvars to environments/stagign.tfvars (set environment = "stagign" and promotion_upstream = "dev")`)
	assert.Contains(t, msg, "dagster/.env.stagign (set LAKEHOUSE_ENVIRONMENT=stagign")
}

func TestDiscoverRejectsInvalidEnvironments(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		want    []string
	}{
		{
			name:    "uppercase name",
			file:    "environments/Prod.tfvars",
			content: `environment = "Prod"`,
			want:    []string{"environments/Prod.tfvars", `"Prod" is not allowed`, "lowercase"},
		},
		{
			name:    "name with a slash-like character that would escape the state key",
			file:    "environments/pr-1.tfvars",
			content: `environment = "pr-1"`,
			want:    []string{"environments/pr-1.tfvars", "not allowed"},
		},
		{
			name:    "name too long",
			file:    "environments/productionx1.tfvars",
			content: `environment = "productionx1"`,
			want:    []string{"not allowed", "2-10 characters"},
		},
		{
			name:    "environment attribute differs from the file name",
			file:    "environments/staging.tfvars",
			content: "project_name = \"lakehouse\"\n\nenvironment = \"dev\"\ncloud_provider = \"aws\"\n",
			want:    []string{"environments/staging.tfvars:3", `environment = "dev"`, `set environment = "staging"`},
		},
		{
			name:    "environment attribute missing",
			file:    "environments/zzfixture.tfvars",
			content: `project_name = "lakehouse"`,
			want:    []string{"environments/zzfixture.tfvars", "missing environment"},
		},
		{
			name:    "environment attribute not a string",
			file:    "environments/zzfixture.tfvars",
			content: "project_name = \"lakehouse\"\nenvironment = 3\n",
			want:    []string{"environments/zzfixture.tfvars:2", "must be a string"},
		},
		{
			name:    "environment attribute refers to a variable",
			file:    "environments/zzfixture.tfvars",
			content: "environment = var.x\n",
			want:    []string{"environments/zzfixture.tfvars:1", "literal string"},
		},
		{
			name:    "cloud_provider missing",
			file:    "environments/zzfixture.tfvars",
			content: "project_name = \"lakehouse\"\nenvironment = \"zzfixture\"\n",
			want:    []string{"environments/zzfixture.tfvars", "missing cloud_provider", "aws, gcp"},
		},
		{
			name:    "cloud_provider not a cloud of the repository",
			file:    "environments/zzfixture.tfvars",
			content: "project_name = \"lakehouse\"\nenvironment = \"zzfixture\"\ncloud_provider = \"azure\"\n",
			want:    []string{"environments/zzfixture.tfvars:3", `cloud_provider = "azure"`, "allowed values are aws, gcp"},
		},
		// Terraform's validations of project_name (found by FuzzCatalog).
		{
			name:    "project_name empty",
			file:    "environments/zzfixture.tfvars",
			content: "project_name = \"\"\nenvironment = \"zzfixture\"\ncloud_provider = \"aws\"\n",
			want:    []string{"environments/zzfixture.tfvars:1", `project_name = ""`, "2-12 lowercase letters"},
		},
		{
			name:    "project_name with a double hyphen",
			file:    "environments/zzfixture.tfvars",
			content: "environment = \"zzfixture\"\nproject_name = \"lake--house\"\ncloud_provider = \"aws\"\n",
			want:    []string{"environments/zzfixture.tfvars:2", "double hyphen"},
		},
		{
			name:    "project_name starting with internal",
			file:    "environments/zzfixture.tfvars",
			content: "environment = \"zzfixture\"\ncloud_provider = \"aws\"\nproject_name = \"internalx\"\n",
			want:    []string{"environments/zzfixture.tfvars:3", `"internal"`},
		},
		{
			name:    "syntax error",
			file:    "environments/zzfixture.tfvars",
			content: "project_name = \"lakehouse\"\nenvironment = \n",
			want:    []string{"environments/zzfixture.tfvars:2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCatalog(map[string][]byte{
				"environments/dev.tfvars": tfvars("dev").Data,
				tt.file:                   []byte(tt.content),
			})
			require.NoError(t, err, "an invalid file must not fail the catalog")
			err = c.Err()
			require.Error(t, err, "checks must still fail on the invalid file")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			// The healthy environment stays usable; the broken one says why.
			_, err = c.Lookup("dev")
			require.NoError(t, err)
			require.Len(t, c.Invalid(), 1)
			assert.Equal(t, tt.file, c.Invalid()[0].File)
		})
	}
}

func TestDiscoverReportsEveryBrokenFileAtOnce(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{
		"environments/dev.tfvars": []byte(`environment = "prod"`),
		"environments/Qa.tfvars":  []byte(`environment = "Qa"`),
	})
	require.NoError(t, err)
	err = c.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environments/dev.tfvars:1")
	assert.Contains(t, err.Error(), "environments/Qa.tfvars")
}

func TestDiscoverWithoutEnvironmentsSaysHowToAddOne(t *testing.T) {
	_, err := Discover(fstest.MapFS{"README.md": {Data: []byte("x")}})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "add environments/<name>.tfvars"), err.Error())
}

// One malformed tfvars file must not block plan, drift or apply of the
// other environments: they stay usable, and using the broken one names it.
func TestABrokenEnvironmentFileLeavesTheOthersUsable(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{
		"environments/dev.tfvars":       tfvars("dev").Data,
		"environments/prod.tfvars":      tfvars("prod").Data,
		"environments/zzfixture.tfvars": []byte("project_name = \"lakehouse\"\nenvironment = \n"),
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"dev", "prod"}, c.Names())
	for _, name := range []string{"dev", "prod"} {
		env, err := c.Lookup(name)
		require.NoError(t, err)
		assert.Equal(t, name, env.Name())
	}
	_, err = c.Lookup("zzfixture")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environments/zzfixture.tfvars:2")
	assert.Contains(t, err.Error(), "other environments are unaffected")

	_, err = c.Lookup("zzunknown")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "known environments are dev, prod (invalid, not usable: environments/zzfixture.tfvars)")
}

func TestZeroEnvIsRecognisable(t *testing.T) {
	assert.True(t, Env{}.IsZero())
	c, err := NewCatalog(map[string][]byte{"environments/dev.tfvars": tfvars("dev").Data})
	require.NoError(t, err)
	assert.False(t, c.Envs()[0].IsZero())
}

func TestListingNamesUsableEnvironmentsAndReportsInvalidFiles(t *testing.T) {
	c, err := NewCatalog(map[string][]byte{
		"environments/dev.tfvars":       tfvars("dev").Data,
		"environments/zzfixture.tfvars": tfvars("zzfixture").Data,
		"environments/zzbroken.tfvars":  []byte(`environment = "dev"`),
	})
	require.NoError(t, err)
	raw, err := json.Marshal(c.Listing())
	require.NoError(t, err)
	var got struct {
		Names        []string `json:"names"`
		Environments []struct {
			Name, Tfvars string
			EnvFile      string `json:"env_file"`
		} `json:"environments"`
		Invalid []struct{ File, Error string } `json:"invalid"`
	}
	require.NoError(t, json.Unmarshal(raw, &got))
	assert.Equal(t, []string{"dev", "zzfixture"}, got.Names)
	require.Len(t, got.Environments, 2)
	assert.Equal(t, "environments/zzfixture.tfvars", got.Environments[1].Tfvars)
	assert.Equal(t, "dagster/.env.zzfixture", got.Environments[1].EnvFile)
	require.Len(t, got.Invalid, 1)
	assert.Equal(t, "environments/zzbroken.tfvars", got.Invalid[0].File)
	assert.Contains(t, got.Invalid[0].Error, `set environment = "zzbroken"`)
}
