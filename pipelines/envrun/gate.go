package envrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Objects is the part of the S3 API this package calls.
type Objects interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// MaxReport bounds a report read into memory: a gate report is a few KiB
// per table.
const MaxReport = 16 << 20

var runIDRule = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidRunID says whether id can name a gate run (one path segment of the
// report's key).
func ValidRunID(id string) error {
	if !runIDRule.MatchString(id) {
		return fmt.Errorf("run id %q: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// GateRun is one run of the environment's gate task.
type GateRun struct {
	Gate  GateTask
	RunID string
	// Args go to the gate (e.g. --commit, --runtime-image, --gate-image).
	Args      []string
	StartedBy string
	Timeout   time.Duration
}

// Report is what a gate run left in the environment's bucket.
type Report struct {
	// JSON is gate.json, the schema'd report.
	JSON []byte
	// Markdown is gate.md; nil when the gate wrote none.
	Markdown []byte
}

// RunGate starts the gate task with its run id, awaits it and returns the
// report it wrote to <report_uri>/<run id>/gate.json (and gate.md). The gate's verdict is
// the report's, judged by the caller's policy; its exit code (1 fail,
// 2 warn, 3 error) is only a cross-check. No report is an error that carries
// the task's own reason and log.
func (r *Runner) RunGate(ctx context.Context, objects Objects, g GateRun) (Report, Result, error) {
	if err := ValidRunID(g.RunID); err != nil {
		return Report{}, Result{}, err
	}
	res, err := r.RunTask(ctx, Run{
		Name:      "quality gate",
		Task:      g.Gate.Task,
		Env:       map[string]string{g.Gate.RunIDVariable: g.RunID},
		Args:      g.Args,
		StartedBy: g.StartedBy,
		Timeout:   g.Timeout,
	})
	if err != nil {
		return Report{}, res, err
	}
	bucket, key := g.Gate.ReportKey(g.RunID)
	body, readErr := readObject(ctx, objects, bucket, key)
	if readErr != nil {
		why := res.Failure("quality gate")
		if why == nil {
			why = errors.New("the quality gate task exited 0")
		}
		return Report{}, res, fmt.Errorf("no gate report at s3://%s/%s (%v); %w", bucket, key, readErr, why)
	}
	md, _ := readObject(ctx, objects, bucket, strings.TrimSuffix(key, ".json")+".md")
	return Report{JSON: body, Markdown: md}, res, nil
}

func readObject(ctx context.Context, objects Objects, bucket, key string) ([]byte, error) {
	out, err := objects.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var missing *types.NoSuchKey
		if errors.As(err, &missing) {
			return nil, errors.New("the object does not exist")
		}
		return nil, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxReport+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxReport {
		return nil, fmt.Errorf("the report is larger than %d bytes", MaxReport)
	}
	return body, nil
}
