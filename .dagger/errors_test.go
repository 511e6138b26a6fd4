package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"dagger/lakehouse/internal/dagger"
	"dagger/lakehouse/internal/enginetest"
)

// cliMessage is what `dagger call` prints for an error a function returns.
// The generated module runtime (convertError and findSingleGQLError in
// cmd/codegen/generator/go/templates/modules.go, dagger v0.21.8) reports the
// GraphQL error at the end of a single unwrap chain by its own message,
// dropping everything wrapped around it, and any other error by Error().
func cliMessage(err error) string {
	for e := err; e != nil; {
		if g, ok := e.(*gqlerror.Error); ok {
			return g.Message
		}
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			return err.Error()
		case interface{ Unwrap() error }:
			e = x.Unwrap()
		default:
			return err.Error()
		}
	}
	return ""
}

// The emulation itself: a %w-wrapped SDK exec error loses its context,
// which is the defect surface exists for.
func TestCLIMessageDropsContextWrappedAroundAnSDKError(t *testing.T) {
	exec := &gqlerror.Error{Message: "process \"terraform validate\" did not complete successfully: exit code: 1"}
	assert.Equal(t, exec.Message, cliMessage(fmt.Errorf("validate gcp: %w", exec)))
	assert.Equal(t, "validate gcp: boom", cliMessage(fmt.Errorf("validate gcp: %w", errors.New("boom"))))
	assert.Contains(t, cliMessage(surface(fmt.Errorf("validate gcp: %w", exec))), "validate gcp: process")

	// What a real engine (the rig) returns: its trace id after the message.
	traced := &gqlerror.Error{Message: "plan dev/aws: exit code: 1 [traceparent:612e4db51ced91bdda1a8561ed1cef90-682c5c4ef7c191dc]"}
	assert.Equal(t, "deploy: plan dev/aws: exit code: 1", cliMessage(surface(fmt.Errorf("deploy: %w", traced))))
}

func firstEnv(t testing.TB) string {
	t.Helper()
	return repoEnvironments(t, repoRoot(t))[0]
}

func TestLintFailureNamesTheLinterAndCarriesItsOutput(t *testing.T) {
	m, eng := newModule(t)
	eng.FailExec(1, "", "# github.com/x/y\n./main.go:3:2: unreachable code", "go", "vet")
	err := m.Lint(t.Context())
	require.Error(t, err)
	msg := cliMessage(err)
	assert.True(t, strings.HasPrefix(msg, "gofmt and go vet: "), msg)
	assert.Contains(t, msg, "go vet ./...")
	assert.Contains(t, msg, "./main.go:3:2: unreachable code")
	var gql *gqlerror.Error
	require.ErrorAs(t, err, &gql)
	assert.Equal(t, 1, gql.Extensions["exitCode"], "the tool's exit code travels in the extensions")
}

func TestValidateFailureNamesTheCloudAndTerraformsReason(t *testing.T) {
	m, eng := newModule(t, "aws/", "gcp/")
	eng.FailExec(1, "", "Error: Unsupported argument\n\n  on catalog.tf line 3, in resource \"x\" \"y\":", "terraform", "validate")
	err := m.Validate(t.Context())
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Regexp(t, `^validate (aws|gcp): `, msg)
	assert.Contains(t, msg, "Error: Unsupported argument")
	assert.Contains(t, msg, "on catalog.tf line 3")
}

func TestEveryTerraformStepFailureCarriesTerraformsRedactedReason(t *testing.T) {
	env := firstEnv(t)
	plan := repoFile(t, "pipelines/terraform/testdata/plans/create.json")
	cases := []struct {
		name   string
		fail   []string
		stderr string
		call   func(m *Lakehouse) error
		want   []string
	}{
		{
			name:   "init of plan",
			fail:   []string{"terraform", "init"},
			stderr: "Error: Failed to get existing workspaces: AccessDenied for AKIAIOSFODNN7EXAMPLE",
			call: func(m *Lakehouse) error {
				_, err := withAWS(m).Plan(t.Context(), env, "aws", nil)
				return err
			},
			want: []string{"plan " + env + "/aws: ", "terraform init", "AccessDenied"},
		},
		{
			name:   "plan itself",
			fail:   []string{"terraform", "plan"},
			stderr: "Error: Invalid value for variable\n\n  on ../environments/x.tfvars line 4:",
			call: func(m *Lakehouse) error {
				_, err := withAWS(m).Plan(t.Context(), env, "aws", nil)
				return err
			},
			want: []string{"plan " + env + "/aws: terraform plan: exit code 1", "Invalid value for variable"},
		},
		{
			name:   "apply of a stale plan",
			fail:   []string{"terraform", "apply"},
			stderr: "Error: Saved plan is stale\n\nThe given plan file can no longer be applied because the state was changed by another operation after the plan was created.",
			call: func(m *Lakehouse) error {
				p, err := withAWS(m).Plan(t.Context(), env, "aws", nil)
				if err != nil {
					return err
				}
				_, err = p.Apply(t.Context(), nil)
				return err
			},
			want: []string{"apply " + env + "/aws: ", "terraform apply", "Saved plan is stale"},
		},
		{
			name:   "output",
			fail:   []string{"terraform", "output"},
			stderr: "Error: Unsupported state file format",
			call: func(m *Lakehouse) error {
				_, err := withAWS(m).Output(t.Context(), env, "aws")
				return err
			},
			want: []string{"output " + env + "/aws: ", "Unsupported state file format"},
		},
		{
			name:   "unlock with the wrong ID",
			fail:   []string{"terraform", "force-unlock"},
			stderr: "Failed to unlock state: lock ID \"1234\" does not match existing lock ID \"4d5c0c86-8a3f-11ee-b9d1-0242ac120002\"",
			call: func(m *Lakehouse) error {
				_, err := withAWS(m).Unlock(t.Context(), env, "aws", "1234")
				return err
			},
			want: []string{"unlock " + env + "/aws: ", "4d5c0c86-8a3f-11ee-b9d1-0242ac120002"},
		},
		{
			name:   "drift",
			fail:   []string{"terraform", "plan"},
			stderr: "Error: No valid credential sources found",
			call: func(m *Lakehouse) error {
				_, err := withAWS(m).Drift(t.Context(), env, "aws", false)
				return err
			},
			want: []string{"drift " + env + "/aws: terraform plan: exit code 1", "No valid credential sources found"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, eng := tfEngine(t, plan)
			eng.FailExec(1, "", tc.stderr, tc.fail...)
			err := tc.call(m)
			require.Error(t, err)
			msg := cliMessage(err)
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
			assert.NotContains(t, msg, "AKIAIOSFODNN7EXAMPLE", "credentials in tool output are redacted")
			var exec *dagger.ExecError
			assert.False(t, errors.As(err, &exec), "the returned error must not wrap the SDK's exec error (the CLI would drop our context)")
		})
	}
}

func TestPlanSummaryShowsTerraformsWarnings(t *testing.T) {
	m, eng := tfEngine(t, repoFile(t, "pipelines/terraform/testdata/plans/create.json"))
	eng.AnswerFunc("stdout", func(c enginetest.Chain) (any, bool) {
		if last := c.LastExec(); len(last) > 1 && last[1] == "plan" {
			return "Plan: 1 to add.\n\nWarning: Value for undeclared variable\n\nThe root module does not declare a variable named \"log_retension_days\" but a value was found in file \"../environments/x.tfvars\".\n\n─────\n\nSaved the plan to: x.tfplan\n", true
		}
		return nil, false
	})
	p, err := withAWS(m).Plan(t.Context(), firstEnv(t), "aws", nil)
	require.NoError(t, err)
	assert.Contains(t, p.Summary, "Terraform warned (1)")
	assert.Contains(t, p.Summary, `variable named "log_retension_days"`)
	assert.NotContains(t, p.Summary, "Saved the plan")
}

// go test reports failures on stdout and ends with "exit status 1" on
// stderr: the failing tests reach the user.
func TestATestFailureShowsTheFailingTestsFromStdout(t *testing.T) {
	m, eng := newModule(t)
	eng.FailExec(1, "--- FAIL: TestX (0.00s)\n    x_test.go:3: boom\nFAIL\tdagger/lakehouse\t0.1s", "modharness: go test of the module: exit status 1", "go", "run", "./tools/modharness")
	err := m.Test(t.Context())
	require.Error(t, err)
	msg := cliMessage(err)
	assert.Contains(t, msg, "module harness: ")
	assert.Contains(t, msg, "--- FAIL: TestX")
	assert.Contains(t, msg, "modharness: go test of the module: exit status 1")
}
