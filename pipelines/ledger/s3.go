package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3Config says which bucket holds the ledger and how to reach it. It holds
// no credentials: those come from the AWS SDK's default chain (the variables
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, a profile,
// a web identity role …).
type S3Config struct {
	// Bucket is the state bucket, e.g. from aws/backend.tfbackend.
	Bucket string
	// Region is the bucket's region; "" takes AWS_REGION / AWS_DEFAULT_REGION.
	Region string
	// Endpoint is an S3-compatible endpoint URL; "" is AWS.
	Endpoint string
	// PathStyle addresses the bucket in the path (http://host/bucket/key),
	// as most S3-compatible servers need.
	PathStyle bool
}

// S3 is a Store in one S3 bucket. Put is a conditional create (PutObject
// with If-None-Match: *), so S3 itself refuses to overwrite an entry.
type S3 struct {
	client *s3.Client
	bucket string
}

// conditionalConflict is the code S3 answers (409) when another conditional
// write of the same key is in flight; AWS asks clients to retry it, and the
// retry is again conditional, so it cannot overwrite.
const conditionalConflict = "ConditionalRequestConflict"

// NewS3 connects to cfg.Bucket with credentials from the default chain. It
// resolves the credentials once, so a missing one is reported here, before
// anything is read or written.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3 ledger: no bucket given: name the state bucket (the bucket attribute of aws/backend.tfbackend)")
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3 ledger: endpoint %q is not an http(s) URL, e.g. http://127.0.0.1:8333", cfg.Endpoint)
		}
	}
	opts := []func(*config.LoadOptions) error{}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 ledger: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("s3 ledger: no region: give the bucket's region (the region attribute of aws/backend.tfbackend) or set AWS_REGION")
	}
	if awsCfg.Credentials == nil {
		return nil, errors.New("s3 ledger: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)")
	}
	if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("s3 ledger: no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), or use a profile or web identity role: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		o.Retryer = retry.AddWithErrorCodes(o.Retryer, conditionalConflict)
	})
	return &S3{client: client, bucket: cfg.Bucket}, nil
}

// Put creates key with If-None-Match: *; an error wrapping ErrExists when S3
// answers 412 Precondition Failed (the key exists).
func (s *S3) Put(ctx context.Context, key string, body []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
		IfNoneMatch:   aws.String("*"),
	})
	if err != nil {
		if httpStatus(err) == http.StatusPreconditionFailed {
			return fmt.Errorf("PutObject %s: %w", s.url(key), ErrExists)
		}
		return s.fail("PutObject", key, err)
	}
	return nil
}

// Get returns key's content; an error wrapping ErrNotFound when S3 answers
// 404 NoSuchKey.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if apiCode(err) == "NoSuchKey" {
			return nil, fmt.Errorf("GetObject %s: %w", s.url(key), ErrNotFound)
		}
		return nil, s.fail("GetObject", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, MaxEntrySize+1))
	if err != nil {
		return nil, s.fail("GetObject", key, err)
	}
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("GetObject %s: larger than the %d bytes an entry may have", s.url(key), MaxEntrySize)
	}
	return b, nil
}

// List returns every key starting with prefix, following continuation.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.fail("ListObjectsV2", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func (s *S3) url(key string) string { return "s3://" + s.bucket + "/" + key }

// fail wraps an SDK error so its message leads with what S3 said (code,
// message, HTTP status, request id), e.g.
// "PutObject s3://b/k: AccessDenied: User … is not authorized … (HTTP 403, request id …)".
func (s *S3) fail(op, key string, err error) error {
	return &s3Error{op: op, url: s.url(key), err: err}
}

type s3Error struct {
	op, url string
	err     error
}

func (e *s3Error) Error() string {
	var api smithy.APIError
	if !errors.As(e.err, &api) {
		return fmt.Sprintf("%s %s: %v", e.op, e.url, e.err)
	}
	msg := fmt.Sprintf("%s %s: %s", e.op, e.url, api.ErrorCode())
	if m := api.ErrorMessage(); m != "" {
		msg += ": " + m
	}
	var details []string
	if st := httpStatus(e.err); st != 0 {
		details = append(details, fmt.Sprintf("HTTP %d", st))
	}
	var rid interface{ ServiceRequestID() string }
	if errors.As(e.err, &rid) && rid.ServiceRequestID() != "" {
		details = append(details, "request id "+rid.ServiceRequestID())
	}
	if len(details) > 0 {
		msg += " (" + strings.Join(details, ", ") + ")"
	}
	return msg
}

func (e *s3Error) Unwrap() error { return e.err }

// httpStatus is the HTTP status of an SDK response error, 0 when there was
// no response.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// apiCode is the service's error code ("AccessDenied", "NoSuchKey" …), ""
// when the error did not come from the service.
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
