package infra

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/internal/hosttest"
)

// emulatorGap is a resource type of aws/ that the AWS API emulator (moto,
// as pinned in dagster/requirements-dev.lock) cannot serve: the emulator
// apply leaves exactly these types out (by -target of every other address)
// and prints why. Each gap has a probe that reproduces the emulator's own
// answer on a fresh server, so the list cannot outlive a moto that fixed
// it: a probe that no longer fails fails the test, which then says to drop
// the entry.
type emulatorGap struct {
	// Types are left out together (a scaling policy cannot exist without
	// its target).
	Types []string
	// Call is the API call the emulator gets wrong, and when the provider
	// makes it.
	Call string
	// Adjusted, when set, keeps the types in the apply and says what the
	// test changes in its copy of the root instead (an override file), so
	// that the emulator serves them.
	Adjusted string
	// probe makes the call on m and returns the emulator's answer when it
	// still fails, "" when it now works.
	probe func(t *testing.T, m *hosttest.Moto) string
}

var emulatorGaps = []emulatorGap{
	{
		Types: []string{"aws_appautoscaling_target", "aws_appautoscaling_policy"},
		Call:  "application-autoscaling ListTagsForResource, which the provider calls to read every scalable target (the provider retries its HTTP 500 until the apply times out)",
		probe: func(t *testing.T, m *hosttest.Moto) string {
			status, body := motoJSON(t, m, "application-autoscaling", "AnyScaleFrontendService.ListTagsForResource",
				`{"ResourceARN":"arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/zzprobe"}`)
			if status < 500 {
				return ""
			}
			return fmt.Sprintf("HTTP %d, %s", status, orElse(motoReason(m, `NotImplementedError: .*`), body))
		},
	},
	{
		Types: []string{"aws_secretsmanager_secret_rotation"},
		Call:  "secretsmanager CancelRotateSecret of a secret rotated without a Lambda function (as RDS rotates the secret it manages), which the provider calls on destroy",
		probe: func(t *testing.T, m *hosttest.Moto) string {
			_, created := motoJSON(t, m, "secretsmanager", "secretsmanager.CreateSecret", `{"Name":"zzprobe-rotation","SecretString":"x"}`)
			arn := regexp.MustCompile(`"ARN":\s*"([^"]+)"`).FindStringSubmatch(created)
			require.NotNil(t, arn, "CreateSecret answered %s", created)
			status, body := motoJSON(t, m, "secretsmanager", "secretsmanager.RotateSecret", `{"SecretId":"`+arn[1]+`","RotationRules":{"AutomaticallyAfterDays":30}}`)
			require.Less(t, status, 300, "RotateSecret answered %s", body)
			if status, body = motoJSON(t, m, "secretsmanager", "secretsmanager.CancelRotateSecret", `{"SecretId":"`+arn[1]+`"}`); status < 300 {
				return ""
			}
			return fmt.Sprintf("HTTP %d, %s", status, body)
		},
	},
	{
		Types: []string{"aws_cloudtrail"},
		Call:  "cloudtrail DeleteTrail naming the trail by its ARN, as the provider does on destroy: moto answers 200 and keeps the trail (it deletes by name only), so it outlives the destroy",
		probe: func(t *testing.T, m *hosttest.Moto) string {
			s3put(t, m, "/zzprobe-trail", "")
			status, body := motoJSON(t, m, "cloudtrail", "CloudTrail_20131101.CreateTrail", `{"Name":"zzprobe","S3BucketName":"zzprobe-trail"}`)
			require.Less(t, status, 300, "CreateTrail answered %s", body)
			arn := "arn:aws:cloudtrail:us-east-1:123456789012:trail/zzprobe"
			status, body = motoJSON(t, m, "cloudtrail", "CloudTrail_20131101.DeleteTrail", `{"Name":"`+arn+`"}`)
			require.Less(t, status, 300, "DeleteTrail answered %s", body)
			if status, _ := motoJSON(t, m, "cloudtrail", "CloudTrail_20131101.GetTrail", `{"Name":"`+arn+`"}`); status >= 300 {
				return "" // deleted
			}
			return "DeleteTrail answered HTTP 200, GetTrail still finds the trail"
		},
	},
	{
		Types: []string{"aws_s3_bucket_policy"},
		Call: "S3 object requests (the gate's container writing its report, envrun reading it, the owner emptying the bucket) to a bucket whose policy has a Deny with a condition: " +
			"moto evaluates bucket policies on object requests without their conditions, so the root's DenyInsecureTransport and " +
			"DenyExplicitNonKmsEncryption refuse every request (moto serves plain HTTP only, too)",
		Adjusted: "the policies are applied and destroyed as they are, but the test removes them while the rehearsal's tasks run and while it empties " +
			"the buckets before the destroy, and puts them back unchanged (suspendBucketPolicies)",
		probe: func(t *testing.T, m *hosttest.Moto) string {
			s3put(t, m, "/zzprobe-policy", "")
			// A Deny that cannot apply to this request: it is not over TLS.
			s3put(t, m, "/zzprobe-policy?policy", `{"Version":"2012-10-17","Statement":[{"Sid":"DenyOverTLS","Effect":"Deny","Principal":"*",`+
				`"Action":"s3:PutObject","Resource":"arn:aws:s3:::zzprobe-policy/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`)
			status := s3try(t, m, http.MethodPut, "/zzprobe-policy/zzprobe", "x")
			if status < 300 {
				return ""
			}
			return fmt.Sprintf("PutObject over plain HTTP answered HTTP %d with an empty body although the only Deny holds for TLS requests only", status)
		},
	},
	{
		Types: []string{"aws_ecs_task_definition"},
		Call:  "ecs RunTask of a Fargate task definition whose containers leave their memory to the task's (moto adds up the containers' memory and fails on one without), which envrun makes for the smoke and gate tasks",
		Adjusted: "each container definition gets memory = the task's memory in the test's copy (zz_emulator_task_memory_override.tf), " +
			"which Fargate allows and which changes nothing else",
		probe: func(t *testing.T, m *hosttest.Moto) string {
			status, body := motoJSON(t, m, "ecs", "AmazonEC2ContainerServiceV20141113.CreateCluster", `{"clusterName":"zzprobe"}`)
			require.Less(t, status, 300, "CreateCluster answered %s", body)
			status, body = motoJSON(t, m, "ecs", "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition",
				`{"family":"zzprobe","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","containerDefinitions":[{"name":"zzprobe","image":"zzprobe","essential":true}]}`)
			require.Less(t, status, 300, "RegisterTaskDefinition answered %s", body)
			status, body = motoJSON(t, m, "ecs", "AmazonEC2ContainerServiceV20141113.RunTask",
				`{"cluster":"zzprobe","taskDefinition":"zzprobe","launchType":"FARGATE","networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-0123456789abcdef0"]}}}`)
			if status < 500 {
				return ""
			}
			return fmt.Sprintf("HTTP %d, %s", status, orElse(motoReason(m, `TypeError: .*`), body))
		},
	},
}

// leftOutTypes is every type of emulatorGaps the apply leaves out.
func leftOutTypes() map[string]bool {
	out := map[string]bool{}
	for _, g := range emulatorGaps {
		for _, typ := range g.Types {
			out[typ] = g.Adjusted == ""
		}
	}
	return out
}

// motoReason waits a little for a line matching pattern in moto's log (its
// answer to an internal error is a generic page; the reason is logged).
func motoReason(m *hosttest.Moto, pattern string) string {
	reason := ""
	for wait := 0; reason == "" && wait < 50; wait++ {
		reason = lastMatch(m.Tail(60), pattern, "")
		time.Sleep(100 * time.Millisecond)
	}
	return reason
}

// checkEmulatorGaps runs every probe on a fresh emulator and reports the
// list with the emulator's answers; it fails for a gap that is gone.
func checkEmulatorGaps(t *testing.T) {
	m := hosttest.StartMoto(t, motoSettings...)
	var left, adjusted []string
	for _, g := range emulatorGaps {
		answer := g.probe(t, m)
		if answer == "" {
			t.Errorf("moto now serves %s (%s): remove it from emulatorGaps so the emulator apply covers it as it is", strings.Join(g.Types, ", "), g.Call)
			continue
		}
		line := fmt.Sprintf("  %s: %s; moto answers: %s", strings.Join(g.Types, ", "), g.Call, answer)
		if g.Adjusted != "" {
			adjusted = append(adjusted, line+"; so "+g.Adjusted)
			continue
		}
		left = append(left, line)
	}
	sort.Strings(left)
	report(t, "emulator apply of aws/: resource types left out (moto cannot serve them):\n%s", strings.Join(left, "\n"))
	report(t, "emulator apply of aws/: applied with a test-only adjustment:\n%s", strings.Join(adjusted, "\n"))
}

// motoJSON calls a JSON-protocol AWS API on moto, unsigned (moto takes the
// service and region from the credential scope), and returns the status
// and body.
func motoJSON(t *testing.T, m *hosttest.Moto, service, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, m.URL+"/", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=zzprobe/20261201/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// s3put makes an S3 PUT request (e.g. CreateBucket) on moto, which must
// succeed.
func s3put(t *testing.T, m *hosttest.Moto, path, body string) {
	t.Helper()
	status := s3try(t, m, http.MethodPut, path, body)
	require.Less(t, status, 300, "PUT %s", path)
}

// s3try makes an S3 request on moto and returns its status.
func s3try(t *testing.T, m *hosttest.Moto, method, path, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, m.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=zzprobe/20261201/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func orElse(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// lastMatch is the last line of text matching pattern, else fallback.
func lastMatch(text, pattern, fallback string) string {
	all := regexp.MustCompile(pattern).FindAllString(text, -1)
	if len(all) == 0 {
		return fallback
	}
	return all[len(all)-1]
}
