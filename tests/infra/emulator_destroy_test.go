package infra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/terraform"
)

// Tearing an environment down as its owner would: turn deletion protection
// off in a reviewed plan, stop the S3 access logging (S3 keeps writing logs
// of every request, the destroy's own reads included, into a bucket the
// destroy must find empty), empty its buckets, then destroy. Every plan goes
// through the pipeline's guard, which refuses them until exactly the
// addresses it names are allowed (the consent of --allow-destroy); the
// test gives that consent and applies the saved plan. The root's
// prevent_destroy blocks stop any destroy inside Terraform itself: the test
// lifts them with an override file in its copy of the root, never in the
// committed one. Afterwards the provider itself looks for every resource
// the root had created: none may be left on the emulator.

// destroy tears the environment down and checks the emulator is empty of it.
func (e *emulatedEnv) destroy() {
	t := e.t
	vars := map[string]string{"deletion_protection": "false"}
	for k, v := range e.vars {
		vars[k] = v
	}
	file := e.target.PlanFile()
	state, _ := e.run([]string{"terraform", "state", "pull"})
	if protected, _ := e.tfvars.value("deletion_protection"); protected.True() {
		s := e.plan(file, vars, e.targets...)
		refused := e.refused(s)
		require.NotEmpty(t, refused, "the guard must refuse turning deletion protection off:\n%s", s.Line())
		if dagster, _ := e.tfvars.value("enable_dagster"); dagster.True() {
			assert.Contains(t, refused, "aws_db_instance.dagster[0]", "turning off the database's deletion protection needs consent")
		}
		require.NoError(t, terraform.DefaultPolicy().Check(e.target.String(), s, refused))
		e.run(e.target.Apply(file))
	}
	e.stopAccessLogging(vars)
	restorePolicies := e.suspendBucketPolicies() // moto would refuse the deletes (emulatorGaps)
	e.emptyBuckets()
	restorePolicies()

	preventDestroy := liftPreventDestroy(t, e.tree, "aws")

	s := e.plan(file, vars, "-destroy")
	require.Zero(t, s.Count(terraform.Create)+s.Count(terraform.Update)+s.Count(terraform.Replace), s.Line())
	refused := e.refused(s)
	for _, c := range s.Changes {
		for _, p := range preventDestroy {
			if c.Address == p || strings.HasPrefix(c.Address, p+"[") {
				assert.Contains(t, refused, c.Address, "the guard must refuse destroying %s, which the root marks prevent_destroy", c.Address)
			}
		}
	}
	require.NoError(t, terraform.DefaultPolicy().Check(e.target.String(), s, refused), "consent for exactly the refused addresses")
	e.run(e.target.Apply(file))
	report(t, "emulator destroy of aws/ for %s: %d resources destroyed; the guard refused %d until allowed: %s",
		e.target.Env().Name(), s.Count(terraform.Delete), len(refused), strings.Join(refused, " "))
	e.checkNothingLeft([]byte(state))
}

// stopAccessLogging destroys the S3 bucket logging the environment turned
// on, through the guard, before its buckets are emptied.
func (e *emulatedEnv) stopAccessLogging(vars map[string]string) {
	var targets []string
	for _, flag := range e.targets {
		if strings.HasPrefix(flag, "-target=aws_s3_bucket_logging.") {
			targets = append(targets, flag)
		}
	}
	if len(targets) == 0 {
		return
	}
	file := e.target.PlanFile()
	s := e.plan(file, vars, append([]string{"-destroy"}, targets...)...)
	require.Equal(e.t, len(targets), s.Count(terraform.Delete), "only the bucket logging: %s", s.Line())
	require.NoError(e.t, terraform.DefaultPolicy().Check(e.target.String(), s, e.refused(s)))
	e.run(e.target.Apply(file))
}

// refused lists the addresses the guard refuses in s (none: nil).
func (e *emulatedEnv) refused(s terraform.Summary) []string {
	err := terraform.DefaultPolicy().Check(e.target.String(), s, nil)
	if err == nil {
		return nil
	}
	var r *terraform.RefusedError
	require.True(e.t, errors.As(err, &r), "%v", err)
	var out []string
	for _, c := range r.Refused {
		out = append(out, c.Address)
	}
	return out
}

// emptyBuckets deletes every object version in the environment's buckets
// (all but the state bucket): S3 refuses to delete a bucket that holds any,
// and the root never force-destroys one.
func (e *emulatedEnv) emptyBuckets() {
	t, ctx := e.t, context.Background()
	client := e.s3(e.cfg)
	state := readBackend(t, "aws")["bucket"].AsString()
	buckets, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	for _, b := range buckets.Buckets {
		if aws.ToString(b.Name) == state {
			continue
		}
		pages := s3.NewListObjectVersionsPaginator(client, &s3.ListObjectVersionsInput{Bucket: b.Name})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			require.NoError(t, err)
			var ids []s3types.ObjectIdentifier
			for _, v := range page.Versions {
				ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
			}
			for _, m := range page.DeleteMarkers {
				ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			}
			if len(ids) > 0 {
				out, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b.Name, Delete: &s3types.Delete{Objects: ids}})
				require.NoError(t, err)
				for _, failed := range out.Errors {
					t.Errorf("empty bucket %s: %s: %s %s", aws.ToString(b.Name), aws.ToString(failed.Key), aws.ToString(failed.Code), aws.ToString(failed.Message))
				}
			}
		}
	}
}

// checkNothingLeft asks the provider whether anything of the state from
// before the destroy still exists: that state is refreshed in a
// configuration without resources, so Terraform only reads each one, and
// the provider drops what it no longer finds. ECS services are read
// directly instead: for a deleted service the provider waits two minutes
// (eventual consistency) before it lets go of it.
func (e *emulatedEnv) checkNothingLeft(state []byte) {
	t := e.t
	var raw map[string]any
	require.NoError(t, json.Unmarshal(state, &raw))
	resources, _ := raw["resources"].([]any)
	var kept []any
	services := map[string][]string{} // cluster ARN → service ARNs
	for _, r := range resources {
		res, _ := r.(map[string]any)
		if res["mode"] == "managed" && res["type"] == "aws_ecs_service" {
			for _, i := range res["instances"].([]any) {
				attrs := i.(map[string]any)["attributes"].(map[string]any)
				services[attrs["cluster"].(string)] = append(services[attrs["cluster"].(string)], attrs["id"].(string))
			}
			continue
		}
		kept = append(kept, r)
	}
	raw["resources"] = kept
	dir := t.TempDir()
	b, err := json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "left.tfstate"), b, 0o644))
	region, _ := e.tfvars.value("aws_region")
	config := "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n" + e.providerBlock(fmt.Sprintf("  region = %q\n", region.AsString()))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644))
	e.runIn(dir, []string{"terraform", "init", "-input=false", "-no-color"})
	e.runIn(dir, []string{"terraform", "apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color", "-state=left.tfstate"})
	out, _ := e.runIn(dir, []string{"terraform", "show", "-json", "-no-color", "left.tfstate"})
	var left tfjson.State
	require.NoError(t, json.Unmarshal([]byte(out), &left))
	var still []string
	if left.Values != nil && left.Values.RootModule != nil {
		for _, r := range left.Values.RootModule.Resources {
			if r.Mode == tfjson.ManagedResourceMode {
				still = append(still, r.Address)
			}
		}
	}
	client := ecs.NewFromConfig(e.cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(e.moto.URL) })
	for cluster, arns := range services {
		desc, err := client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: arns})
		require.NoError(t, err)
		for _, s := range desc.Services {
			if aws.ToString(s.Status) != "INACTIVE" {
				still = append(still, fmt.Sprintf("ECS service %s (%s)", aws.ToString(s.ServiceName), aws.ToString(s.Status)))
			}
		}
	}
	sort.Strings(still)
	assert.Empty(t, still, "the destroy left these on the emulator")
}
