// Command ledger appends to and reads an environment's release ledger in the
// state bucket; see pipelines/ledger/cli for the usage.
//
//	ledger append --bucket B --prefix P [--region R] [--endpoint URL --path-style] --file ENTRY.json
//	ledger read   --bucket B --prefix P [--region R] [--endpoint URL --path-style]
//
// Credentials come only from the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or the AWS SDK's default chain.
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
