package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/release"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// Plan is a saved Terraform plan of one environment of one cloud. Its Apply
// applies exactly this file, in the working directory that produced it, so
// what was reviewed is what changes.
type Plan struct {
	// The environment, e.g. "prod".
	Env string
	// The cloud root, "aws" or "gcp".
	Cloud string
	// Where the environment's state lives: the S3 key or the GCS prefix.
	StateKey string
	// The saved plan file (binary; like state, it holds sensitive values).
	File *dagger.File
	// `terraform show -json` of the plan (holds sensitive values too).
	PlanJSON *dagger.File
	// A markdown summary: resource addresses and actions, never values.
	Summary string
	// Whether applying the plan would change anything.
	HasChanges bool

	// The initialised working directory the plan was made in.
	// +private
	Workspace *dagger.Container
	// The argv that applies exactly File in Workspace.
	// +private
	ApplyArgv []string
}

// Plan runs terraform init against the environment's own state key and saves
// a plan with the environment's tfvars. The result can be reviewed
// (`… summary`, `… file export --path`) and applied (`… apply`).
// +cache="never"
func (m *Lakehouse) Plan(
	ctx context.Context,
	// The environment: the name of a file environments/<env>.tfvars.
	env string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// The release to deploy (the record from publish): its images become
	// dagster_image and gate_image. Default: the images the environment runs
	// now, so an infrastructure-only plan never rolls code back.
	// +optional
	releaseRecord *dagger.File,
) (_ *Plan, rerr error) {
	defer surfaceTo(&rerr)
	t, err := m.target(ctx, env, cloudProvider)
	if err != nil {
		return nil, err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return nil, fmt.Errorf("plan %s: %w", t, err)
	}
	rel, err := gateRelease(ctx, releaseRecord)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", t, err)
	}
	return m.plan(ctx, t, rel)
}

// plan saves a plan of t with rel's images, or the running ones.
func (m *Lakehouse) plan(ctx context.Context, t terraform.Target, rel *release.Record) (*Plan, error) {
	session := m.session(t)
	vars, err := m.imageVars(ctx, session, t, rel)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", t, err)
	}
	file := t.PlanFile()
	ctr, code, err := execCode(ctx, session, t.PlanWithVars(file, vars))
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", t, err)
	}
	changes, err := terraform.DetailedExitCode(code)
	if err != nil {
		step := fmt.Sprintf("plan %s: terraform plan", t)
		if len(vars) == 0 {
			step += " (no release given and none running yet: pass --release-record from publish for the first deploy)"
		}
		return nil, failed(step, code, stderrOf(ctx, ctr))
	}
	warnings := terraform.Warnings(stdoutOf(ctx, ctr), stderrOf(ctx, ctr))
	return planFrom(ctx, t, ctr, changes, warnings)
}

// imageVars are the -var values of the images: the release's, or the ones
// the environment runs now (its outputs), so a plan without a new release
// keeps the running code.
func (m *Lakehouse) imageVars(ctx context.Context, session *dagger.Container, t terraform.Target, rel *release.Record) (map[string]string, error) {
	if rel != nil {
		return map[string]string{"dagster_image": rel.RuntimeImage, "gate_image": rel.GateImage}, nil
	}
	out, err := session.WithExec(t.OutputJSON()).Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the running images (terraform output): %w", err)
	}
	return terraform.RunningImages([]byte(out))
}

// planFrom describes the saved plan at t.PlanFile() in ctr: its JSON, the
// redacted summary and the guard's verdict.
func planFrom(ctx context.Context, t terraform.Target, ctr *dagger.Container, changes bool, warnings []string) (*Plan, error) {
	file := t.PlanFile()
	const jsonPath = "/tmp/plan.json"
	ctr = ctr.WithExec(t.ShowJSON(file), dagger.ContainerWithExecOpts{RedirectStdout: jsonPath})
	planJSON := ctr.File(jsonPath)
	raw, err := planJSON.Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan %s: show -json: %w", t, err)
	}
	summary, err := terraform.Summarize([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", t, err)
	}
	report := fmt.Sprintf("### %s\n\nState: `%s`\n\n%s", t, t.Backend().Value, summary.Markdown())
	if len(warnings) > 0 {
		report += fmt.Sprintf("\n\n**Terraform warned (%d):**\n\n```\n%s\n```\n", len(warnings), strings.Join(warnings, "\n\n"))
	}
	var refused *terraform.RefusedError
	if err := terraform.DefaultPolicy().Check(t.String(), summary, nil); errors.As(err, &refused) {
		report += "\n\n**Apply will refuse this plan unless allowed:**\n\n```\n" + refused.Error() + "\n```\n"
	}
	return &Plan{
		Env:        t.Env().Name(),
		Cloud:      t.Cloud().String(),
		StateKey:   t.Backend().Value,
		File:       ctr.File(file),
		PlanJSON:   planJSON,
		Summary:    report,
		HasChanges: changes || summary.HasChanges(),
		Workspace:  ctr,
		ApplyArgv:  t.Apply(file),
	}, nil
}

// ApplyPlanFile applies a plan file saved earlier (e.g. exported from
// `plan … file` when the plan was reviewed), so a later job applies exactly
// what was approved. A file made for another environment or cloud (read
// from the plan itself: its backend, state key and environment variable) is
// refused before terraform runs. The same guard applies; Terraform refuses
// the file if the environment's state changed since it was made.
// +cache="never"
func (m *Lakehouse) ApplyPlanFile(
	ctx context.Context,
	// The environment the plan was made for.
	env string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// The saved plan file.
	planFile *dagger.File,
	// Resource addresses whose delete or replace this run may apply.
	// +optional
	allowDestroy []string,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	t, err := m.target(ctx, env, cloudProvider)
	if err != nil {
		return "", err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return "", fmt.Errorf("apply %s: %w", t, err)
	}
	// Terraform applies a saved plan to the backend recorded inside it,
	// whatever --env says: check what the file itself was made for before
	// terraform touches any state.
	binding, err := readPlanBinding(ctx, m.TerraformImage, planFile)
	if err != nil {
		return "", fmt.Errorf("apply %s: %w", t, err)
	}
	if err := t.CheckPlan(binding); err != nil {
		return "", fmt.Errorf("apply %s: %w", t, err)
	}
	p, err := planFrom(ctx, t, m.session(t).WithFile(t.PlanFile(), planFile), false, nil)
	if err != nil {
		return "", err
	}
	return p.Apply(ctx, allowDestroy)
}

// Apply applies exactly this saved plan. Terraform refuses it if the state
// changed since the plan was made; deletes and replacements of protected
// resources (data buckets, KMS keys, catalog state) are refused unless their
// addresses are allowed for this run.
// +cache="never"
func (p *Plan) Apply(
	ctx context.Context,
	// Resource addresses whose delete or replace this run may apply, e.g.
	// aws_s3_bucket.lakehouse. Everything else protected stays refused.
	// +optional
	allowDestroy []string,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	target := p.Env + "/" + p.Cloud
	raw, err := p.PlanJSON.Contents(ctx)
	if err != nil {
		return "", fmt.Errorf("apply %s: read plan: %w", target, err)
	}
	summary, err := terraform.Summarize([]byte(raw))
	if err != nil {
		return "", fmt.Errorf("apply %s: %w", target, err)
	}
	if err := terraform.DefaultPolicy().Check(target, summary, allowDestroy); err != nil {
		return "", err
	}
	if !p.HasChanges {
		return fmt.Sprintf("%s: no changes; nothing applied", target), nil
	}
	out, err := p.Workspace.
		WithEnvVariable("LAKEHOUSE_RUN_ID", runID()).
		WithExec(p.ApplyArgv).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("apply %s: %w", target, err)
	}
	return fmt.Sprintf("%s: applied (%s)\n\n%s", target, summary.Line(), lastLines(out, 40)), nil
}

// Apply plans and applies one environment in one step, with the same guard
// as Plan.Apply. Use plan … apply to review first.
// +cache="never"
func (m *Lakehouse) Apply(
	ctx context.Context,
	// The environment: the name of a file environments/<env>.tfvars.
	env string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// Resource addresses whose delete or replace this run may apply.
	// +optional
	allowDestroy []string,
	// The release to deploy (the record from publish). Default: keep the
	// running images.
	// +optional
	releaseRecord *dagger.File,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	p, err := m.Plan(ctx, env, cloudProvider, releaseRecord)
	if err != nil {
		return "", err
	}
	return p.Apply(ctx, allowDestroy)
}

// Drift reports whether the environment's real infrastructure or committed
// configuration differ from its state: a full plan that neither saves nor
// takes the state lock. With failOnDrift, drift is an error (for scheduled
// jobs that open an issue).
// +cache="never"
func (m *Lakehouse) Drift(
	ctx context.Context,
	// The environment: the name of a file environments/<env>.tfvars.
	env string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// Return an error when drift is found.
	// +optional
	failOnDrift bool,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	t, err := m.target(ctx, env, cloudProvider)
	if err != nil {
		return "", err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return "", fmt.Errorf("drift %s: %w", t, err)
	}
	session := m.session(t)
	vars, err := m.imageVars(ctx, session, t, nil)
	if err != nil {
		return "", fmt.Errorf("drift %s: %w", t, err)
	}
	ctr, code, err := execCode(ctx, session, t.DriftWithVars(vars))
	if err != nil {
		return "", fmt.Errorf("drift %s: %w", t, err)
	}
	drifted, err := terraform.DetailedExitCode(code)
	if err != nil {
		return "", failed(fmt.Sprintf("drift %s: terraform plan", t), code, stderrOf(ctx, ctr))
	}
	if !drifted {
		return fmt.Sprintf("%s: no drift", t), nil
	}
	out, err := ctr.Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("drift %s: %w", t, err)
	}
	report := fmt.Sprintf("%s: DRIFT — infrastructure differs from state and configuration\n\n%s", t, lastLines(out, 80))
	if failOnDrift {
		return "", errors.New(report)
	}
	return report, nil
}

// Output prints the environment's Terraform outputs as JSON, with sensitive
// outputs redacted: what the pipeline feeds to Dagster and Soda.
// +cache="never"
func (m *Lakehouse) Output(
	ctx context.Context,
	// The environment: the name of a file environments/<env>.tfvars.
	env string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	t, err := m.target(ctx, env, cloudProvider)
	if err != nil {
		return "", err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return "", fmt.Errorf("output %s: %w", t, err)
	}
	out, err := m.session(t).WithExec(t.OutputJSON()).Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("output %s: %w", t, err)
	}
	redacted, err := terraform.RedactOutputs([]byte(out))
	if err != nil {
		return "", fmt.Errorf("output %s: %w", t, err)
	}
	return string(redacted), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (%d lines omitted)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// Unlock removes a state lock left behind by a cancelled run. Pass the lock
// ID from the "Error acquiring the state lock" message, and only once the run
// that held it is known to be gone.
// +cache="never"
func (m *Lakehouse) Unlock(
	ctx context.Context,
	// The environment: the name of a file environments/<env>.tfvars.
	env string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
	// The lock ID terraform printed (e.g. 4d5c0c86-…).
	lockID string,
) (_ string, rerr error) {
	defer surfaceTo(&rerr)
	lockID = strings.TrimSpace(lockID)
	if lockID == "" || strings.HasPrefix(lockID, "-") || strings.ContainsAny(lockID, " \t\n") {
		return "", fmt.Errorf("unlock: lock ID %q is not an ID; copy the ID: line of terraform's \"Error acquiring the state lock\" message", lockID)
	}
	t, err := m.target(ctx, env, cloudProvider)
	if err != nil {
		return "", err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return "", fmt.Errorf("unlock %s: %w", t, err)
	}
	if _, err := m.session(t).WithExec(t.ForceUnlock(lockID)).Sync(ctx); err != nil {
		return "", fmt.Errorf("unlock %s: %w", t, err)
	}
	return fmt.Sprintf("%s: lock %s removed from %s", t, lockID, t.Backend().Value), nil
}

// readPlanBinding reads what a saved plan file records about its state
// backend and environment. File contents travel as text through the API, so
// the binary plan is read base64-encoded.
func readPlanBinding(ctx context.Context, image string, planFile *dagger.File) (terraform.PlanBinding, error) {
	const path = "/tmp/review.tfplan"
	encoded, err := dag.Container().
		From(image).
		WithMountedFile(path, planFile).
		WithExec([]string{"base64", "-w", "0", path}, dagger.ContainerWithExecOpts{UseEntrypoint: false}).
		Stdout(ctx)
	if err != nil {
		return terraform.PlanBinding{}, fmt.Errorf("read the plan file: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return terraform.PlanBinding{}, fmt.Errorf("read the plan file: %w", err)
	}
	return terraform.ReadPlanBinding(raw)
}

// EnvFile returns dagster/.env.<env> with the values that come from the
// environment's Terraform outputs (catalog URI, warehouse, bucket, region,
// …) merged in, comments and the other keys kept: export it over the
// committed file instead of copying outputs by hand
// (`… env-file --env E export --path dagster/.env.E`).
// +cache="never"
func (m *Lakehouse) EnvFile(
	ctx context.Context,
	// The environment: environments/<env>.tfvars and dagster/.env.<env>.
	env string,
	// The cloud whose Terraform root to use: aws or gcp. Default: the
	// environment's cloud_provider. (Not --cloud: a flag of the dagger CLI.)
	// +optional
	cloudProvider string,
) (_ *dagger.File, rerr error) {
	defer surfaceTo(&rerr)
	t, err := m.target(ctx, env, cloudProvider)
	if err != nil {
		return nil, err
	}
	if err := m.requireCredentials(t.Cloud()); err != nil {
		return nil, fmt.Errorf("env-file %s: %w", t, err)
	}
	out, err := m.session(t).WithExec(t.OutputJSON()).Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("env-file %s: %w", t, err)
	}
	vars, err := terraform.RuntimeEnv([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("env-file %s: %w", t, err)
	}
	path := t.Env().EnvFile()
	current, err := m.Source.File(path).Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("env-file %s: read %s: %w", t, path, err)
	}
	merged, err := environment.MergeDotenv(path, []byte(current), vars, "terraform output of "+t.String())
	if err != nil {
		return nil, fmt.Errorf("env-file %s: %w", t, err)
	}
	name := ".env." + t.Env().Name()
	return dag.Directory().WithNewFile(name, string(merged)).File(name), nil
}
