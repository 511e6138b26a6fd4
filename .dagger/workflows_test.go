package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// workflow is what these tests read of a GitHub Actions workflow.
type workflow struct {
	file string
	raw  string
	Jobs map[string]wfJob `yaml:"jobs"`
}

type wfJob struct {
	Needs       any               `yaml:"needs"`
	Outputs     map[string]string `yaml:"outputs"`
	Environment any               `yaml:"environment"`
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress any    `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Strategy struct {
		MaxParallel int            `yaml:"max-parallel"`
		FailFast    *bool          `yaml:"fail-fast"`
		Matrix      map[string]any `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []struct {
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
		Env  map[string]string `yaml:"env"`
	} `yaml:"steps"`
}

// daggerCalls are the dagger invocations of a job, flattened to one line
// each (the action's args, or a run script's `dagger … call` command).
func (j wfJob) daggerCalls() []string {
	var calls []string
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "dagger/dagger-for-github@") && s.With["args"] != "" {
			calls = append(calls, "dagger "+s.With["verb"]+" "+strings.Join(strings.Fields(s.With["args"]), " "))
		}
		if strings.Contains(s.Run, "dagger ") {
			script := strings.ReplaceAll(s.Run, "\\\n", " ")
			for _, line := range strings.Split(script, "\n") {
				if strings.Contains(line, "dagger ") && strings.Contains(line, " call ") {
					calls = append(calls, strings.Join(strings.Fields(line), " "))
				}
			}
		}
	}
	return calls
}

func loadWorkflows(t *testing.T) []workflow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), ".github", "workflows", "*.yml"))
	require.NoError(t, err)
	var out []workflow
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		wf := workflow{file: filepath.Base(f), raw: string(raw)}
		require.NoError(t, yaml.Unmarshal(raw, &wf), f)
		out = append(out, wf)
	}
	return out
}

// scalars lists every string value of a YAML document (not its comments).
func scalars(t *testing.T, raw string) []string {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(raw), &doc))
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			out = append(out, n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	return out
}

var word = regexp.MustCompile(`[A-Za-z0-9_]+`)

func TestNoWorkflowNamesAnEnvironment(t *testing.T) {
	envs := repoEnvironments(t, repoRoot(t))
	for _, wf := range loadWorkflows(t) {
		for _, s := range scalars(t, wf.raw) {
			for _, w := range word.FindAllString(s, -1) {
				assert.NotContains(t, envs, w, "%s names environment %q in %q: environments come from the module's environments function", wf.file, w, s)
			}
		}
	}
}

// changesSomething says whether a dagger call changes infrastructure or a
// ledger: those run only in a GitHub environment (approvals, its own role).
var changesSomething = regexp.MustCompile(` (deploy|promote|apply|apply-plan-file|unlock) `)

func TestEveryDeployJobRunsInItsEnvironmentAndNeverCancels(t *testing.T) {
	deployJobs := 0
	for _, wf := range loadWorkflows(t) {
		for name, job := range wf.Jobs {
			changing := false
			for _, call := range job.daggerCalls() {
				changing = changing || changesSomething.MatchString(call+" ")
			}
			if !changing {
				continue
			}
			deployJobs++
			env, _ := job.Environment.(string)
			assert.Equal(t, "${{ matrix.env }}", env, "%s job %s changes an environment: it must run in the GitHub environment of that name (approvals, deploy role)", wf.file, name)
			assert.Equal(t, "deploy-${{ matrix.env }}", job.Concurrency.Group, "%s job %s: one deploy per environment at a time", wf.file, name)
			assert.Equal(t, false, job.Concurrency.CancelInProgress, "%s job %s: a cancelled deploy can leave the state lock and an unrecorded apply", wf.file, name)
		}
	}
	require.NotZero(t, deployJobs, "no workflow deploys")
}

var credentialFlag = regexp.MustCompile(`--(access-key-id|secret-access-key|session-token|credentials|secret|postgres-password)[ =](\S+)`)

func TestDaggerCallsGetCredentialsOnlyAsSecrets(t *testing.T) {
	calls := 0
	for _, wf := range loadWorkflows(t) {
		for name, job := range wf.Jobs {
			for _, call := range job.daggerCalls() {
				calls++
				assert.NotContains(t, call, "${{ secrets.", "%s job %s: a secret interpolated into a command line", wf.file, name)
				needsAWS := changesSomething.MatchString(call+" ") || regexp.MustCompile(` (plan|drift) `).MatchString(call+" ")
				if needsAWS {
					assert.Contains(t, call, "with-aws-credentials", "%s job %s: %s", wf.file, name, call)
				}
				for _, m := range credentialFlag.FindAllStringSubmatch(call, -1) {
					assert.True(t, strings.HasPrefix(m[2], "env://"), "%s job %s passes --%s as %q: credentials go in as env:// secrets", wf.file, name, m[1], m[2])
				}
			}
		}
	}
	require.NotZero(t, calls)
}

// evalMatrix evaluates the matrix expressions the workflows use against an
// environments listing: fromJSON(needs.environments.outputs.catalog).FIELD.
func evalMatrix(t *testing.T, expr string, listingJSON string) []string {
	t.Helper()
	m := regexp.MustCompile(`^\$\{\{\s*fromJSON\(needs\.environments\.outputs\.catalog\)\.([a-z_]+)\s*\}\}$`).FindStringSubmatch(expr)
	require.NotNil(t, m, "matrix %q is not built from the module's environments", expr)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(listingJSON), &fields))
	var values []string
	require.NoError(t, json.Unmarshal(fields[m[1]], &values), "field %s", m[1])
	return values
}

func TestDeployJobsFollowThePromotionOrderOfTheEnvironmentsFiles(t *testing.T) {
	deploy := loadWorkflowJob(t, "deploy.yml", "deploy")
	assert.ElementsMatch(t, []any{"environments", "release"}, deploy.Needs)
	// The release reaches the deploy jobs as an artifact: image references
	// can embed account ids, which GitHub drops from job outputs as secrets.
	release := loadWorkflowJob(t, "deploy.yml", "release")
	assert.Empty(t, release.Outputs, "the release job passes nothing through job outputs")
	downloads := false
	for _, s := range deploy.Steps {
		downloads = downloads || (strings.HasPrefix(s.Uses, "actions/download-artifact@") && s.With["name"] == "release")
	}
	assert.True(t, downloads, "each deploy job downloads the release artifact")
	assert.Equal(t, 1, deploy.Strategy.MaxParallel, "environments deploy one after another")
	require.NotNil(t, deploy.Strategy.FailFast)
	assert.True(t, *deploy.Strategy.FailFast, "a failed deploy stops the environments after it")
	expr, _ := deploy.Strategy.Matrix["env"].(string)

	// The repository's environments, then with one added after the last.
	m, eng := newModule(t)
	serveRepo(t, eng, repoRoot(t))
	listing, err := m.Environments(t.Context())
	require.NoError(t, err)
	order := evalMatrix(t, expr, listing)
	assertPromotionOrder(t, listing, order)

	last := order[len(order)-1]
	added := regexp.MustCompile(`(?m)^promotion_upstream\s*=.*$`).ReplaceAllString(copyEnvironment(t, "qa"), `promotion_upstream = "`+last+`"`)
	root := repoWithExtraEnvironments(t, map[string]string{"qa.tfvars": added})
	m, eng = newModule(t)
	serveRepo(t, eng, root)
	listing, err = m.Environments(t.Context())
	require.NoError(t, err)
	withQA := evalMatrix(t, expr, listing)
	assertPromotionOrder(t, listing, withQA)
	assert.Equal(t, append(order, "qa"), withQA, "an added environment takes its place with no workflow edit")
}

// assertPromotionOrder: every environment once, each after its upstream.
func assertPromotionOrder(t *testing.T, listingJSON string, order []string) {
	t.Helper()
	var l struct {
		Names        []string `json:"names"`
		Environments []struct {
			Name         string `json:"name"`
			PromotesFrom string `json:"promotes_from"`
		} `json:"environments"`
	}
	require.NoError(t, json.Unmarshal([]byte(listingJSON), &l))
	assert.ElementsMatch(t, l.Names, order)
	pos := map[string]int{}
	for i, e := range order {
		pos[e] = i
	}
	for _, e := range l.Environments {
		if e.PromotesFrom != "" {
			assert.Less(t, pos[e.PromotesFrom], pos[e.Name], "%s deploys before its upstream %s", e.Name, e.PromotesFrom)
		}
	}
}

func loadWorkflowJob(t *testing.T, file, job string) wfJob {
	t.Helper()
	for _, wf := range loadWorkflows(t) {
		if wf.file == file {
			j, ok := wf.Jobs[job]
			require.True(t, ok, "%s has no job %s", file, job)
			return j
		}
	}
	t.Fatalf("no workflow %s", file)
	return wfJob{}
}
