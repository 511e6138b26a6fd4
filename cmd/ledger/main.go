// Command ledger appends to and reads an environment's release ledger in the
// state bucket, on S3 or Google Cloud Storage; see pipelines/ledger/cli for
// the usage.
//
//	ledger append --bucket B --prefix P [--store s3] [--region R] [--endpoint URL --path-style] --file ENTRY.json
//	ledger read   --bucket B --prefix P --store gcs [--endpoint URL]
//
// Credentials come only from the environment: for s3 AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or the AWS SDK's default chain;
// for gcs GOOGLE_APPLICATION_CREDENTIALS or Application Default Credentials.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/ledger/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
