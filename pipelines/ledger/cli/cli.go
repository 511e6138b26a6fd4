// Package cli is the ledger command (cmd/ledger): it appends to and reads
// an environment's release ledger in the state bucket (see pipelines/ledger),
// on S3 (--store s3, the default) or Google Cloud Storage (--store gcs).
// The pipeline runs it inside a container with the cloud's credentials as
// secrets: for s3 the variables AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN or any other source of the SDK's default chain; for gcs
// the file GOOGLE_APPLICATION_CREDENTIALS names (a service account key or a
// workload identity federation file) or other Application Default
// Credentials. No flag takes a secret.
//
//	ledger append --bucket B --prefix P [--store s3] [--region R] [--endpoint URL --path-style] --file ENTRY.json
//	ledger read   --bucket B --prefix P [--store s3] [--region R] [--endpoint URL --path-style]
//	ledger append --bucket B --prefix P --store gcs [--endpoint URL] --file ENTRY.json
//	ledger read   --bucket B --prefix P --store gcs [--endpoint URL]
//
// --backend FILE takes the bucket (and for s3 the region) from the committed
// backend file instead: aws/backend.tfbackend or gcp/backend.tfbackend.
// append prints {"seq": N, "key": K}; read prints
// [{"seq": N, "key": K, "body": <the entry>}…] in seq order. Exit status 0 on
// success, 1 on failure (the reason on stderr), 2 on a usage error.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/cliexit"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/ledger"
)

const usage = `usage:
  ledger append --bucket B --prefix P [--store s3] [--region R] [--endpoint URL --path-style] --file ENTRY.json
  ledger read   --bucket B --prefix P [--store s3] [--region R] [--endpoint URL --path-style]
  ledger append --bucket B --prefix P --store gcs [--endpoint URL] --file ENTRY.json
  ledger read   --bucket B --prefix P --store gcs [--endpoint URL]

  --store is where the state bucket is: s3 (default) or gcs (Google Cloud
  Storage); --region and --path-style are for s3 only.
  --backend FILE may replace --bucket (and --region): a partial backend file,
  aws/backend.tfbackend for s3 or gcp/backend.tfbackend for gcs; explicit
  flags win.
  --endpoint URL is a compatible server instead of the cloud's, e.g. a local
  one (gcs: used without credentials, e.g. http://127.0.0.1:4443).
  --file - reads the entry from stdin.
  Credentials come from the environment, never from flags:
    s3:  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or the
         AWS SDK's default chain
    gcs: GOOGLE_APPLICATION_CREDENTIALS (a service account key or workload
         identity federation file) or Application Default Credentials
`

// Stores, the values of --store.
const (
	storeS3  = "s3"
	storeGCS = "gcs"
)

// options are the flags of both subcommands.
type options struct {
	store, bucket, prefix, region, endpoint, backend, file string
	pathStyle                                              bool
	// storeGiven is whether --store was on the command line.
	storeGiven bool
}

// Run executes one command line (without the program name) and returns its
// exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdin, stdout)
	var ue cliexit.UsageError
	switch {
	case err == nil:
		return cliexit.OK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return cliexit.OK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "ledger: %s\n\n%s", ue.Msg, usage)
		return cliexit.Usage
	default:
		fmt.Fprintf(stderr, "ledger: %v\n", err)
		return cliexit.Failure
	}
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return cliexit.Usagef("missing command: append or read")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "append", "read":
	case "-h", "-help", "--help", "help":
		return flag.ErrHelp
	default:
		return cliexit.Usagef("unknown command %q: use append or read", cmd)
	}
	opts, err := parseFlags(cmd, args)
	if err != nil {
		return err
	}
	if cmd == "append" {
		return appendEntry(ctx, opts, stdin, stdout)
	}
	return readEntries(ctx, opts, stdout)
}

func parseFlags(cmd string, args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("ledger "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	fs.StringVar(&o.store, "store", storeS3, "where the state bucket is: s3 or gcs")
	fs.StringVar(&o.bucket, "bucket", "", "state bucket holding the ledger")
	fs.StringVar(&o.prefix, "prefix", "", "the environment's ledger, e.g. iceberg-lakehouse/prod/releases")
	fs.StringVar(&o.region, "region", "", "s3: the bucket's region (default: --backend, then AWS_REGION)")
	fs.StringVar(&o.endpoint, "endpoint", "", "S3- or GCS-compatible endpoint URL (default: the cloud's)")
	fs.BoolVar(&o.pathStyle, "path-style", false, "s3: address the bucket in the URL path (most S3-compatible servers)")
	fs.StringVar(&o.backend, "backend", "", "partial backend file to take the bucket (and region) from, e.g. aws/backend.tfbackend or gcp/backend.tfbackend")
	if cmd == "append" {
		fs.StringVar(&o.file, "file", "", "the entry, a JSON document (- for stdin)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, cliexit.Usagef("%s: %v", cmd, err)
	}
	if fs.NArg() > 0 {
		return o, cliexit.Usagef("%s: unexpected argument %q: every input is a flag", cmd, fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.storeGiven = o.storeGiven || f.Name == "store" })
	switch o.store {
	case storeS3:
	case storeGCS:
		// Rejected rather than ignored: a user who passes them believes
		// they change something.
		var s3Only []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "region" || f.Name == "path-style" {
				s3Only = append(s3Only, "--"+f.Name)
			}
		})
		verb := "is"
		if len(s3Only) > 1 {
			verb = "are"
		}
		if len(s3Only) > 0 {
			return o, cliexit.Usagef("%s: %s %s for --store s3 only: a GCS bucket is addressed by its name alone", cmd, strings.Join(s3Only, " and "), verb)
		}
	default:
		return o, cliexit.Usagef("%s: unknown --store %q: use s3 or gcs", cmd, o.store)
	}
	if o.bucket == "" && o.backend == "" {
		return o, cliexit.Usagef("%s: missing --bucket (or --backend FILE)", cmd)
	}
	if o.prefix == "" {
		return o, cliexit.Usagef("%s: missing --prefix, e.g. --prefix iceberg-lakehouse/prod/releases", cmd)
	}
	p, err := ledger.CleanPrefix(o.prefix)
	if err != nil {
		return o, cliexit.Usagef("%s: --prefix: %v", cmd, err)
	}
	o.prefix = p
	if cmd == "append" && o.file == "" {
		return o, cliexit.Usagef("append: missing --file ENTRY.json")
	}
	return o, nil
}

// store connects to the bucket the options name; done releases it.
func store(ctx context.Context, o options) (ledger.Store, func(), error) {
	var src []byte
	if o.backend != "" {
		var err error
		if src, err = os.ReadFile(o.backend); err != nil {
			return nil, nil, fmt.Errorf("read backend file: %w", err)
		}
	}
	if o.store == storeGCS {
		g, err := gcsStore(ctx, o, src)
		if err != nil {
			return nil, nil, err
		}
		return g, func() { g.Close() }, nil
	}
	s3, err := s3Store(ctx, o, src)
	if err != nil {
		return nil, nil, err
	}
	return s3, func() {}, nil
}

// gcsStore connects to a GCS bucket; backend is the content of
// the --backend file, if any.
func gcsStore(ctx context.Context, o options, backend []byte) (*ledger.GCS, error) {
	var cfg ledger.GCSConfig
	if o.backend != "" {
		var err error
		if cfg, err = ledger.GCSConfigFromBackend(o.backend, backend); err != nil {
			return nil, err
		}
	}
	if o.bucket != "" {
		cfg.Bucket = o.bucket
	}
	cfg.Endpoint = o.endpoint
	return ledger.NewGCS(ctx, cfg)
}

// s3Store connects to an S3 bucket; backend is the content of
// the --backend file, if any.
func s3Store(ctx context.Context, o options, backend []byte) (*ledger.S3, error) {
	var cfg ledger.S3Config
	if o.backend != "" {
		var err error
		if cfg, err = ledger.S3ConfigFromBackend(o.backend, backend); err != nil {
			if !o.storeGiven {
				// s3 is only the default: the file may be a GCS backend.
				return nil, fmt.Errorf("%w (for a GCS backend file such as gcp/backend.tfbackend, add --store gcs)", err)
			}
			return nil, err
		}
	}
	if o.bucket != "" {
		cfg.Bucket = o.bucket
	}
	if o.region != "" {
		cfg.Region = o.region
	}
	if o.endpoint != "" {
		cfg.Endpoint = o.endpoint
	}
	cfg.PathStyle = cfg.PathStyle || o.pathStyle
	return ledger.NewS3(ctx, cfg)
}

func appendEntry(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	body, err := readEntry(o.file, stdin)
	if err != nil {
		return err
	}
	s, done, err := store(ctx, o)
	if err != nil {
		return err
	}
	defer done()
	e, err := ledger.Append(ctx, s, o.prefix, body)
	if err != nil {
		return err
	}
	return writeJSON(stdout, struct {
		Seq int    `json:"seq"`
		Key string `json:"key"`
	}{e.Seq, e.Key})
}

// readEntry reads and checks the entry before anything is contacted, so a
// bad file never needs credentials to be reported.
func readEntry(file string, stdin io.Reader) ([]byte, error) {
	var (
		body []byte
		err  error
	)
	if file == "-" {
		body, err = io.ReadAll(io.LimitReader(stdin, ledger.MaxEntrySize+1))
	} else {
		body, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read entry: %w", err)
	}
	if len(body) > ledger.MaxEntrySize {
		return nil, fmt.Errorf("entry %s is larger than the %d bytes an entry may have", file, ledger.MaxEntrySize)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("entry %s is not a JSON document", file)
	}
	return body, nil
}

func readEntries(ctx context.Context, o options, stdout io.Writer) error {
	s, done, err := store(ctx, o)
	if err != nil {
		return err
	}
	defer done()
	entries, err := ledger.Read(ctx, s, o.prefix)
	if err != nil {
		return err
	}
	type entry struct {
		Seq  int             `json:"seq"`
		Key  string          `json:"key"`
		Body json.RawMessage `json:"body"`
	}
	out := make([]entry, 0, len(entries))
	for _, e := range entries {
		out = append(out, entry{e.Seq, e.Key, e.Body})
	}
	return writeJSON(stdout, out)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
