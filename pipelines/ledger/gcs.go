package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// GCSConfig says which bucket holds the ledger and how to reach it. It holds
// no credentials: those come from Application Default Credentials (the file
// GOOGLE_APPLICATION_CREDENTIALS names, a service account key or a workload
// identity federation external_account file; gcloud's ADC file; the metadata
// server on Google Cloud).
type GCSConfig struct {
	// Bucket is the state bucket, e.g. from gcp/backend.tfbackend.
	Bucket string
	// Endpoint is a GCS-compatible server's URL, e.g. http://127.0.0.1:4443
	// for fake-gcs-server; "" is Google Cloud Storage. A local server is
	// used without authentication.
	Endpoint string
}

// GCS is a Store in one Google Cloud Storage bucket. Put is a conditional
// create (ifGenerationMatch=0), so GCS itself refuses to overwrite an entry.
type GCS struct {
	client *storage.Client
	bucket *storage.BucketHandle
	name   string
	// pageSize is the objects.list page size; GCS's maximum, smaller in
	// tests to cross pages with few entries.
	pageSize int
}

const (
	// gcsRetryFor bounds the retries of one call: the client's default is
	// to retry a transient failure (429, 5xx, reset connections) until the
	// context ends, which would hold a deploy on an outage indefinitely.
	gcsRetryFor = time.Minute
	// gcsListPageSize is the most objects.list returns per page.
	gcsListPageSize = 1000
	// writeIDKey is the object metadata key Put tags each write with.
	writeIDKey = "ledger-write-id"
	// storageEmulatorHost makes every Google storage client talk to an
	// emulator, unauthenticated, instead of GCS.
	storageEmulatorHost = "STORAGE_EMULATOR_HOST"
)

// NewGCS connects to cfg.Bucket. Without an endpoint it resolves the
// credentials once and gets a token, so a missing or unusable credential is
// reported here, before anything is read or written.
func NewGCS(ctx context.Context, cfg GCSConfig) (*GCS, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("gcs ledger: no bucket given: name the state bucket (the bucket attribute of gcp/backend.tfbackend)")
	}
	opts := []option.ClientOption{
		// Reads use the JSON API like every other call, with GCS and with a
		// local server alike, so tests exercise the path production takes.
		storage.WithJSONReads(),
		// A stray GOOGLE_CLOUD_ENABLE_METRICS must not make the ledger
		// export to Cloud Monitoring, which needs other permissions.
		storage.WithDisabledClientMetrics(),
	}
	if cfg.Endpoint != "" {
		ep, err := gcsEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, option.WithEndpoint(ep), option.WithoutAuthentication())
	} else {
		// The storage library would silently send everything, without
		// credentials, to the emulator this variable names: the deploy's
		// record would not reach the state bucket.
		if host := os.Getenv(storageEmulatorHost); host != "" {
			return nil, fmt.Errorf("gcs ledger: %s=%s is set, so the ledger would be written there instead of gs://%s: unset it, or pass the emulator as the endpoint (--endpoint)", storageEmulatorHost, host, cfg.Bucket)
		}
		creds, err := gcsCredentials(ctx)
		if err != nil {
			return nil, err
		}
		opts = append(opts, option.WithAuthCredentials(creds))
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcs ledger: create storage client: %w", err)
	}
	// RetryIdempotent retries reads, lists and Put: Put is idempotent
	// because of its precondition (a retry can only create the object if
	// it is still absent, never replace it). Writes without a precondition
	// are never retried, and this store makes none.
	client.SetRetry(storage.WithPolicy(storage.RetryIdempotent), storage.WithMaxRetryDuration(gcsRetryFor))
	return &GCS{client: client, bucket: client.Bucket(cfg.Bucket), name: cfg.Bucket, pageSize: gcsListPageSize}, nil
}

// gcsCredentials finds Application Default Credentials and gets a token
// with them, so a federation file whose identity pool refuses the exchange
// fails here too. The credentials cache the token for the client's calls.
func gcsCredentials(ctx context.Context) (*auth.Credentials, error) {
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{storage.ScopeReadWrite}})
	if err != nil {
		if file := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); file != "" {
			return nil, fmt.Errorf("gcs ledger: GOOGLE_APPLICATION_CREDENTIALS=%s cannot be used: point it at a readable service account key or workload identity federation (external_account) JSON file (in the pipeline: with-gcp-credentials --credentials file://…): %w", file, err)
		}
		return nil, fmt.Errorf("gcs ledger: no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service account key or workload identity federation (external_account) JSON file (in the pipeline: with-gcp-credentials --credentials file://…): %w", err)
	}
	if _, err := creds.Token(ctx); err != nil {
		return nil, fmt.Errorf("gcs ledger: the Google credentials cannot get an access token: check the key or the workload identity pool and provider the credentials file names: %w", err)
	}
	return creds, nil
}

// gcsEndpoint turns a local server's URL into the JSON API base the client
// wants (http://host:port/storage/v1/). Uploads go to /upload/storage/v1 on
// the same host, so no other path can work.
func gcsEndpoint(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("gcs ledger: endpoint %q is not an http(s) URL, e.g. http://127.0.0.1:4443", endpoint)
	}
	switch strings.TrimSuffix(u.Path, "/") {
	case "", "/storage/v1":
	default:
		return "", fmt.Errorf("gcs ledger: endpoint %q: give the server's root URL, e.g. http://127.0.0.1:4443 (the JSON API is served under /storage/v1)", endpoint)
	}
	u.Path = "/storage/v1/"
	return u.String(), nil
}

// Close releases the client's connections.
func (g *GCS) Close() error { return g.client.Close() }

// Put creates key with the precondition ifGenerationMatch=0 (DoesNotExist);
// an error wrapping ErrExists when GCS answers 412 Precondition Failed.
//
// The client retries the upload on a transient failure. No retry can
// overwrite: each attempt carries the precondition, and GCS checks it
// atomically with the create. But a retry after a lost response finds the
// object its first attempt created and gets 412; each write is tagged with
// a random id in the object's metadata so that case is recognised as this
// write's success rather than reported as another writer's entry.
func (g *GCS) Put(ctx context.Context, key string, body []byte) error {
	id, err := newWriteID()
	if err != nil {
		return fmt.Errorf("objects.insert %s: %w", g.url(key), err)
	}
	// The upload's retries run in the API library, outside the retry
	// deadline of SetRetry: the same bound comes from the context.
	ctx, cancel := context.WithTimeout(ctx, gcsRetryFor)
	defer cancel()
	obj := g.bucket.Object(key)
	w := obj.If(storage.Conditions{DoesNotExist: true}).NewWriter(ctx)
	w.ContentType = "application/json"
	w.Metadata = map[string]string{writeIDKey: id}
	// ChunkSize keeps its default (16 MiB, more than MaxEntrySize): the
	// entry is sent in one request the client may retry. ChunkSize 0 would
	// stream it and rule retries out.
	_, err = w.Write(body)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return nil
	}
	if gcsStatus(err) != http.StatusPreconditionFailed {
		return g.fail("objects.insert", key, err)
	}
	attrs, aerr := obj.Attrs(ctx)
	switch {
	case aerr != nil:
		return fmt.Errorf("objects.insert %s: the object exists, and whether this write created it (a retry after a lost response) could not be checked: %w", g.url(key), g.fail("objects.get", key, aerr))
	case attrs.Metadata[writeIDKey] == id:
		return nil
	default:
		return fmt.Errorf("objects.insert %s: %w", g.url(key), ErrExists)
	}
}

func newWriteID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate write id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Get returns key's content; an error wrapping ErrNotFound when GCS answers
// 404.
func (g *GCS) Get(ctx context.Context, key string) ([]byte, error) {
	r, err := g.bucket.Object(key).NewReader(ctx)
	if err != nil {
		if errors.Is(err, storage.ErrObjectNotExist) {
			return nil, fmt.Errorf("objects.get %s: %w", g.url(key), ErrNotFound)
		}
		return nil, g.fail("objects.get", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, MaxEntrySize+1))
	if err != nil {
		return nil, g.fail("objects.get", key, err)
	}
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("objects.get %s: larger than the %d bytes an entry may have", g.url(key), MaxEntrySize)
	}
	return b, nil
}

// List returns every key starting with prefix, following page tokens.
func (g *GCS) List(ctx context.Context, prefix string) ([]string, error) {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return nil, fmt.Errorf("objects.list %s: %w", g.url(prefix), err)
	}
	it := g.bucket.Objects(ctx, q)
	it.PageInfo().MaxSize = g.pageSize
	var keys []string
	for {
		o, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return keys, nil
		}
		if err != nil {
			return nil, g.fail("objects.list", prefix, err)
		}
		keys = append(keys, o.Name)
	}
}

func (g *GCS) url(key string) string { return "gs://" + g.name + "/" + key }

// fail wraps a client error so its message leads with the call, the object
// and what GCS said (reason, message, HTTP status), e.g.
// "objects.list gs://b/p/: forbidden: ci@p.iam.gserviceaccount.com does not
// have storage.objects.list access … (HTTP 403)".
func (g *GCS) fail(op, key string, err error) error {
	return &gcsError{op: op, url: g.url(key), err: err}
}

type gcsError struct {
	op, url string
	err     error
}

func (e *gcsError) Error() string {
	var api *googleapi.Error
	if !errors.As(e.err, &api) {
		return fmt.Sprintf("%s %s: %v", e.op, e.url, e.err)
	}
	reason := http.StatusText(api.Code)
	if len(api.Errors) > 0 && api.Errors[0].Reason != "" {
		reason = api.Errors[0].Reason
	}
	msg := fmt.Sprintf("%s %s: %s", e.op, e.url, reason)
	if m := api.Message; m != "" && m != reason {
		msg += ": " + m
	}
	msg += fmt.Sprintf(" (HTTP %d)", api.Code)
	if errors.Is(e.err, storage.ErrBucketNotExist) {
		msg += ": the bucket does not exist; check the bucket attribute of gcp/backend.tfbackend (or --bucket)"
	}
	return msg
}

func (e *gcsError) Unwrap() error { return e.err }

// gcsStatus is the HTTP status GCS answered with, 0 when there was no
// answer.
func gcsStatus(err error) int {
	var api *googleapi.Error
	if errors.As(err, &api) {
		return api.Code
	}
	return 0
}
