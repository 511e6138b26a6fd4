// Package cli is the ledger command (cmd/ledger): it appends to and reads
// an environment's release ledger in the state bucket (see pipelines/ledger).
// The pipeline runs it inside a container with the AWS credentials as secret
// environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) or any other source of the SDK's default chain; no flag
// takes a secret.
//
//	ledger append --bucket B --prefix P [--region R] [--endpoint URL --path-style] --file ENTRY.json
//	ledger read   --bucket B --prefix P [--region R] [--endpoint URL --path-style]
//
// --backend aws/backend.tfbackend takes the bucket and region from the
// committed backend file instead. append prints {"seq": N, "key": K}; read
// prints [{"seq": N, "key": K, "body": <the entry>}…] in seq order. Exit
// status 0 on success, 1 on failure (the reason on stderr), 2 on a usage error.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/cliexit"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/ledger"
)

const usage = `usage:
  ledger append --bucket B --prefix P [--region R] [--endpoint URL --path-style] --file ENTRY.json
  ledger read   --bucket B --prefix P [--region R] [--endpoint URL --path-style]

  --backend FILE may replace --bucket and --region (read from a partial S3
  backend file such as aws/backend.tfbackend; explicit flags win).
  --file - reads the entry from stdin.
  Credentials come from the environment (AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or the AWS SDK's default chain,
  never from flags.
`

// options are the flags of both subcommands.
type options struct {
	bucket, prefix, region, endpoint, backend, file string
	pathStyle                                       bool
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
	fs.StringVar(&o.bucket, "bucket", "", "state bucket holding the ledger")
	fs.StringVar(&o.prefix, "prefix", "", "the environment's ledger, e.g. iceberg-lakehouse/prod/releases")
	fs.StringVar(&o.region, "region", "", "the bucket's region (default: --backend, then AWS_REGION)")
	fs.StringVar(&o.endpoint, "endpoint", "", "S3-compatible endpoint URL (default: AWS)")
	fs.BoolVar(&o.pathStyle, "path-style", false, "address the bucket in the URL path (most S3-compatible servers)")
	fs.StringVar(&o.backend, "backend", "", "partial S3 backend file to take bucket and region from, e.g. aws/backend.tfbackend")
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

// store connects to the bucket the options name.
func store(ctx context.Context, o options) (*ledger.S3, error) {
	var cfg ledger.S3Config
	if o.backend != "" {
		src, err := os.ReadFile(o.backend)
		if err != nil {
			return nil, fmt.Errorf("read backend file: %w", err)
		}
		if cfg, err = ledger.S3ConfigFromBackend(o.backend, src); err != nil {
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
	s, err := store(ctx, o)
	if err != nil {
		return err
	}
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
	s, err := store(ctx, o)
	if err != nil {
		return err
	}
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
