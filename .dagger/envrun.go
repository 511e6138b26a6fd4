package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/runreport"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// Verification inside a deployed environment: a CI runner cannot reach the
// environment's catalog (private subnets), so the pipeline starts the
// release's own tasks there (cmd/envrun, with the environment's credentials
// as secrets: ECS tasks on AWS, Cloud Run jobs on GCP, chosen by the
// environment's outputs) and reads what they report.

const (
	envrunPath  = "/tmp/lakehouse-envrun"
	outputsPath = "/tmp/lakehouse-outputs.json"
)

// envTargets reads the applied environment's outputs: the redacted JSON
// (values of sensitive outputs removed, so the file may enter a container)
// and what it says about verification.
func (m *Lakehouse) envTargets(ctx context.Context, t terraform.Target) (string, envrun.Outputs, error) {
	raw, err := m.session(t).WithExec(t.OutputJSON()).Stdout(ctx)
	if err != nil {
		return "", envrun.Outputs{}, err
	}
	redacted, err := terraform.RedactOutputs([]byte(raw))
	if err != nil {
		return "", envrun.Outputs{}, err
	}
	outs, err := envrun.ParseOutputs(redacted)
	if err != nil {
		return "", envrun.Outputs{}, err
	}
	return string(redacted), outs, nil
}

// envrunClient is a container that runs cmd/envrun against the environment
// with its credentials (secrets only) and its outputs.
func (m *Lakehouse) envrunClient(t terraform.Target, outputs string) *dagger.Container {
	return m.withCredentials(dag.Container().From(m.TerraformImage), t.Cloud()).
		WithFile(envrunPath, m.goTool("envrun"), dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithNewFile(outputsPath, outputs).
		WithEnvVariable("LAKEHOUSE_RUN_ID", runID())
}

// startedBy tags the environment's tasks with the release (ECS allows 36
// characters: letters, digits, '-', '_', '/').
func startedBy(rel *release.Record) string {
	if rel == nil {
		return "lakehouse-pipeline"
	}
	return "lakehouse-release-" + rel.ID
}

// verifyInEnvironment checks that the environment runs the release, waits
// for its Dagster services, and verifies the release with its own tasks:
// the wap commands and the smoke run as tasks of the runtime image (the
// smoke task's definition), the gate as the gate task, with
// write-audit-publish. Without a Dagster runtime there is nothing to write:
// only the gate runs, on the published state.
func (m *Lakehouse) verifyInEnvironment(ctx context.Context, rec *runreport.Recorder, t terraform.Target, rel release.Record, o verifyOpts) (*GateReport, *promotion.Audit, error) {
	env := t.Env()
	var outputs string
	var targets envrun.Outputs
	if err := rec.Run(ctx, "read outputs", "dagger call output --env "+env.Name(), func(ctx context.Context) (string, error) {
		var err error
		outputs, targets, err = m.envTargets(ctx, t)
		if err != nil {
			return "", plain(err)
		}
		if err := targets.CheckRelease(rel.RuntimeImage, rel.GateImage); err != nil {
			return "", err
		}
		return "the environment runs the release's images", nil
	}); err != nil {
		return nil, nil, err
	}
	client := m.envrunClient(t, outputs)
	if err := rec.Run(ctx, "services running the release", "", func(ctx context.Context) (string, error) {
		out, err := client.WithExec([]string{envrunPath, "services", "--outputs", outputsPath}).Stdout(ctx)
		return summaryOf(out), plain(err)
	}); err != nil {
		return nil, nil, err
	}
	gate := func(ctx context.Context, gateArgs ...string) (*GateReport, string, error) {
		g, id, err := m.gateInEnvironment(ctx, client, env.Name(), &rel, env.Promotion().WarningsBlock, gateArgs...)
		if err != nil {
			return nil, "", plain(err)
		}
		return g, "report " + targets.GateReportURI(id), nil
	}
	if !targets.HasSmoke() {
		rec.Skip("smoke materialization", "no Dagster runtime in this environment (enable_dagster is off): nothing writes, the gate judges the published state")
		var g *GateReport
		err := rec.Run(ctx, "quality gate", "", func(ctx context.Context) (string, error) {
			var where string
			var err error
			if g, where, err = gate(ctx); err != nil {
				return "", err
			}
			return "outcome " + g.Outcome + " (" + where + ")", plain(g.RequirePass())
		})
		return g, nil, err
	}
	v := &auditedVerification{
		rec: rec, rel: rel, publish: o.publish, keep: o.keepAudit,
		smokeStep: "smoke materialization", gateStep: "quality gate",
		wap: func(ctx context.Context, args ...string) (string, string, int, error) {
			c := client.WithExec(append([]string{envrunPath, "wap", "--outputs", outputsPath, "--started-by", startedBy(&rel), "--"}, args...),
				dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
			return outcomeOf(ctx, c)
		},
		smoke: func(ctx context.Context, branch string) (string, error) {
			out, err := client.WithExec([]string{envrunPath, "smoke", "--outputs", outputsPath, "--started-by", startedBy(&rel), "--", "--audit-branch", branch}).Stdout(ctx)
			return summaryOf(out), plain(err)
		},
		gate: func(ctx context.Context, branch string) (*GateReport, string, error) {
			return gate(ctx, "--branch", branch)
		},
	}
	return v.run(ctx)
}

// gateInEnvironment runs the environment's gate task for rel (nil: the
// images the environment runs, bound to no release) and reads the report it
// left in the environment's bucket; it returns the report and its run id.
//
// gateArgs go to the gate after the release's (e.g. --branch B).
func (m *Lakehouse) gateInEnvironment(ctx context.Context, client *dagger.Container, env string, rel *release.Record, warningsBlock bool, gateArgs ...string) (*GateReport, string, error) {
	id := "run-" + runID()
	var bound []string
	if rel != nil {
		id = rel.ID + "-" + runID()
		bound = []string{"--commit", rel.Commit, "--runtime-image", rel.RuntimeImage, "--gate-image", rel.GateImage}
	}
	args := []string{envrunPath, "gate", "--outputs", outputsPath, "--run-id", id, "--out", gateOut, "--started-by", startedBy(rel)}
	if all := append(bound, gateArgs...); len(all) > 0 {
		args = append(append(args, "--"), all...)
	}
	ctr := client.WithDirectory(gateOut, dag.Directory()).WithExec(args)
	report, err := ctr.File(gateJSONPath).Contents(ctx)
	if err != nil {
		return nil, id, fmt.Errorf("quality %s: the gate task inside the environment: %w", env, err)
	}
	md := ""
	if names, err := ctr.Directory(gateOut).Entries(ctx); err == nil && slices.Contains(names, "gate.md") {
		md, _ = ctr.File(gateMDPath).Contents(ctx)
	}
	g, err := newGateReport(env, report, md, ctr.File(gateJSONPath), rel, warningsBlock)
	return g, id, err
}

// summaryOf reads envrun's one-line JSON summary.
func summaryOf(out string) string {
	var s struct {
		Summary string `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.Summary == "" {
		return lastLines(out, 1)
	}
	return s.Summary
}
