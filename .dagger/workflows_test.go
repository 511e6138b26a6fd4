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

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
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
	Steps []wfStep `yaml:"steps"`
}

type wfStep struct {
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

// daggerCall is one dagger invocation flattened to a line (the action's
// args, or a run script's `dagger … call` command) and the step running it.
type daggerCall struct {
	line string
	step wfStep
}

func (j wfJob) daggerCalls() []daggerCall {
	var calls []daggerCall
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "dagger/dagger-for-github@") && s.With["args"] != "" {
			calls = append(calls, daggerCall{"dagger " + s.With["verb"] + " " + strings.Join(strings.Fields(s.With["args"]), " "), s})
		}
		if strings.Contains(s.Run, "dagger ") {
			script := strings.ReplaceAll(s.Run, "\\\n", " ")
			for _, line := range strings.Split(script, "\n") {
				if strings.Contains(line, "dagger ") && strings.Contains(line, " call ") {
					calls = append(calls, daggerCall{strings.Join(strings.Fields(line), " "), s})
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
				changing = changing || changesSomething.MatchString(call.line+" ")
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

var (
	credentialFlag = regexp.MustCompile(`--(access-key-id|secret-access-key|session-token|credentials|secret|postgres-password)[ =](\S+)`)
	cloudCondition = regexp.MustCompile(`^matrix\.cloud == '([a-z]+)'$`)
	// The only file a credential may be read from: the one
	// google-github-actions/auth writes (an external-account recipe that
	// refreshes itself from the job's OIDC token), by its step output.
	authFile = regexp.MustCompile(`^\$\{\{steps\.[a-z_]+\.outputs\.credentials_file_path\}\}$`)
	// An expression's inner spaces, dropped so a flag's value is one field.
	exprSpaces = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
)

// credentialSource resolves a flag value written in a step: a "$VAR" of a
// run script is the step's env entry.
func credentialSource(step wfStep, value string) string {
	value = strings.Trim(value, `"'`)
	scheme, rest, _ := strings.Cut(value, "://")
	if v, ok := step.Env[strings.TrimPrefix(rest, "$")]; ok && strings.HasPrefix(rest, "$") {
		rest = exprSpaces.ReplaceAllString(v, "$${{$1}}")
	}
	return scheme + "://" + rest
}

func TestDaggerCallsGetCredentialsOnlyAsSecrets(t *testing.T) {
	calls := 0
	for _, wf := range loadWorkflows(t) {
		for name, job := range wf.Jobs {
			clouds := map[string]bool{}
			for _, call := range job.daggerCalls() {
				calls++
				assert.NotContains(t, call.line, "${{ secrets.", "%s job %s: a secret interpolated into a command line", wf.file, name)
				needsCloud := changesSomething.MatchString(call.line+" ") || regexp.MustCompile(` (plan|drift|quality) `).MatchString(call.line+" ")
				if needsCloud {
					// Each environment's job reaches the cloud its file names.
					m := cloudCondition.FindStringSubmatch(call.step.If)
					if assert.NotNil(t, m, "%s job %s: %q needs cloud credentials: run it under if: matrix.cloud == '<cloud>'", wf.file, name, call.line) {
						assert.Contains(t, call.line, "with-"+m[1]+"-credentials", "%s job %s: %s", wf.file, name, call.line)
						clouds[m[1]] = true
					}
				}
				for _, m := range credentialFlag.FindAllStringSubmatch(exprSpaces.ReplaceAllString(call.line, "$${{$1}}"), -1) {
					src := credentialSource(call.step, m[2])
					switch {
					case strings.HasPrefix(src, "env://"):
					case strings.HasPrefix(src, "file://"):
						assert.Regexp(t, authFile, strings.TrimPrefix(src, "file://"), "%s job %s: --%s reads a file that is not the auth action's credentials file", wf.file, name, m[1])
					default:
						t.Errorf("%s job %s passes --%s as %q: credentials go in as env:// secrets (or the auth action's file://)", wf.file, name, m[1], m[2])
					}
				}
			}
			if len(clouds) > 0 {
				for _, cloud := range environment.Clouds {
					assert.True(t, clouds[cloud], "%s job %s has no step for environments on %s: an environment file may name it", wf.file, name, cloud)
				}
			}
		}
	}
	require.NotZero(t, calls)
}

// evalMatrix evaluates a matrix's include expression against an
// environments listing: fromJSON(needs.environments.outputs.catalog).FIELD,
// a list of {env, cloud} jobs.
func evalMatrix(t *testing.T, expr string, listingJSON string) []matrixJob {
	t.Helper()
	m := regexp.MustCompile(`^\$\{\{\s*fromJSON\(needs\.environments\.outputs\.catalog\)\.([a-z_]+)\s*\}\}$`).FindStringSubmatch(expr)
	require.NotNil(t, m, "matrix %q is not built from the module's environments", expr)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(listingJSON), &fields))
	var jobs []matrixJob
	require.NoError(t, json.Unmarshal(fields[m[1]], &jobs), "field %s", m[1])
	return jobs
}

type matrixJob struct {
	Env   string `json:"env"`
	Cloud string `json:"cloud"`
}

func envsOf(jobs []matrixJob) []string {
	var envs []string
	for _, j := range jobs {
		envs = append(envs, j.Env)
	}
	return envs
}

// listingOf is the module's environments listing of the repository at root.
func listingOf(t *testing.T, root string) string {
	t.Helper()
	m, eng := newModule(t)
	serveRepo(t, eng, root)
	listing, err := m.Environments(t.Context())
	require.NoError(t, err)
	return listing
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
	expr, _ := deploy.Strategy.Matrix["include"].(string)

	// The repository's environments, then with one added after the last.
	listing := listingOf(t, repoRoot(t))
	order := evalMatrix(t, expr, listing)
	assertPromotionOrder(t, listing, order)

	last := order[len(order)-1]
	added := regexp.MustCompile(`(?m)^promotion_upstream\s*=.*$`).ReplaceAllString(copyEnvironment(t, "zzfixture"), `promotion_upstream = "`+last.Env+`"`)
	listing = listingOf(t, repoWithExtraEnvironments(t, map[string]string{"zzfixture.tfvars": added}))
	withAdded := evalMatrix(t, expr, listing)
	assertPromotionOrder(t, listing, withAdded)
	assert.Equal(t, append(envsOf(order), "zzfixture"), envsOf(withAdded), "an added environment takes its place with no workflow edit")

	// A chain on the other cloud: its jobs follow, each with its cloud, so
	// the job's credentials and dagger call are that cloud's.
	listing = listingOf(t, gcpRepo(t))
	both := evalMatrix(t, expr, listing)
	assertPromotionOrder(t, listing, both)
	assert.Equal(t, append(order, matrixJob{"gone", "gcp"}, matrixJob{"gtwo", "gcp"}), both)
}

func TestPlanAndDriftJobsCoverEveryEnvironmentOnItsCloud(t *testing.T) {
	listing := listingOf(t, gcpRepo(t))
	for file, job := range map[string]string{"terraform-plan.yml": "plan", "drift.yml": "drift"} {
		expr, _ := loadWorkflowJob(t, file, job).Strategy.Matrix["include"].(string)
		jobs := evalMatrix(t, expr, listing)
		assertEachOnItsCloud(t, listing, jobs)
		assert.Contains(t, jobs, matrixJob{"gone", "gcp"}, "%s: an environment on gcp gets a job on gcp", file)
	}
}

// assertEachOnItsCloud: every environment once, on the cloud its file names.
func assertEachOnItsCloud(t *testing.T, listingJSON string, jobs []matrixJob) {
	t.Helper()
	var l struct {
		Names        []string `json:"names"`
		Environments []struct {
			Name  string `json:"name"`
			Cloud string `json:"cloud"`
		} `json:"environments"`
	}
	require.NoError(t, json.Unmarshal([]byte(listingJSON), &l))
	assert.ElementsMatch(t, l.Names, envsOf(jobs))
	cloud := map[string]string{}
	for _, e := range l.Environments {
		cloud[e.Name] = e.Cloud
	}
	for _, j := range jobs {
		assert.Equal(t, cloud[j.Env], j.Cloud, "job of %s", j.Env)
	}
}

// assertPromotionOrder: every environment once on its cloud, each after
// its upstream.
func assertPromotionOrder(t *testing.T, listingJSON string, order []matrixJob) {
	t.Helper()
	assertEachOnItsCloud(t, listingJSON, order)
	var l struct {
		Environments []struct {
			Name         string `json:"name"`
			PromotesFrom string `json:"promotes_from"`
		} `json:"environments"`
	}
	require.NoError(t, json.Unmarshal([]byte(listingJSON), &l))
	pos := map[string]int{}
	for i, j := range order {
		pos[j.Env] = i
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
