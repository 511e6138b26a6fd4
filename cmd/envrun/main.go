// Command envrun verifies a release inside a deployed environment (ECS on
// AWS, Cloud Run on GCP): it waits for the Dagster services, runs the smoke
// task and the quality-gate task, and prints the gate's report; see
// pipelines/envrun/cli for the usage and the credentials of each cloud.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cli"
)

func main() {
	// SIGTERM (a cancelled pipeline) ends the wait; the runner then stops
	// the ECS task or cancels the Cloud Run execution it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
