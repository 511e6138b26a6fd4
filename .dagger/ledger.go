package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"dagger/lakehouse/internal/dagger"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/promotion"
)

// goTool is cmd/<name> built from the repository. Its inputs are only the
// Go module files and the packages it is made of, so it rebuilds only when
// they change.
func (m *Lakehouse) goTool(name string) *dagger.File {
	return m.goBase().
		WithDirectory(srcPath+"/pipelines", m.Source.Directory("pipelines")).
		WithDirectory(srcPath+"/cmd", m.Source.Directory("cmd")).
		WithEnvVariable("CGO_ENABLED", "0").
		WithExec([]string{"go", "build", "-trimpath", "-o", "/out/" + name, "./cmd/" + name}).
		File("/out/" + name)
}

// ledgerAt is where a ledger lives: a bucket (with an endpoint for local
// S3-compatible stores) and an environment's prefix.
type ledgerAt struct {
	// Store is the object store: s3 (the default) or gcs, the names of the
	// Terraform backends whose buckets hold the ledgers.
	Store                    string
	Bucket, Region, Endpoint string
	PathStyle                bool
	Prefix                   string
	// Backend is a partial backend file in the container the tool runs in
	// (the bucket, and for S3 its region, come from it): the state bucket's.
	Backend string
}

func (l ledgerAt) args(verb string) []string {
	args := []string{"/tmp/lakehouse-ledger", verb, "--prefix", l.Prefix}
	if l.Store != "" {
		args = append(args, "--store", l.Store)
	}
	if l.Backend != "" {
		args = append(args, "--backend", l.Backend)
	}
	if l.Bucket != "" {
		args = append(args, "--bucket", l.Bucket)
	}
	if l.Region != "" {
		args = append(args, "--region", l.Region)
	}
	if l.Endpoint != "" {
		args = append(args, "--endpoint", l.Endpoint)
	}
	if l.PathStyle {
		args = append(args, "--path-style")
	}
	return args
}

// readLedger reads a ledger from a container that can reach the store with
// its credentials (secret variables or the local stack's throwaway ones).
func (m *Lakehouse) readLedger(ctx context.Context, ctr *dagger.Container, at ledgerAt) ([]promotion.RawEntry, error) {
	out, err := ctr.
		WithFile("/tmp/lakehouse-ledger", m.goTool("ledger"), dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithEnvVariable("LAKEHOUSE_RUN_ID", runID()).
		WithExec(at.args("read")).
		Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the ledger %s/%s: %w", at.Bucket, at.Prefix, err)
	}
	var rows []struct {
		Seq  int             `json:"seq"`
		Key  string          `json:"key"`
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		return nil, fmt.Errorf("read the ledger %s/%s: %w", at.Bucket, at.Prefix, err)
	}
	entries := make([]promotion.RawEntry, len(rows))
	for i, r := range rows {
		entries[i] = promotion.RawEntry{Seq: r.Seq, Key: r.Key, Body: r.Body}
	}
	return entries, nil
}

// appendLedger records an entry with a conditional write: a concurrent
// deploy of the same environment that recorded first makes this fail.
func (m *Lakehouse) appendLedger(ctx context.Context, ctr *dagger.Container, at ledgerAt, entry promotion.Entry) (string, error) {
	body, err := entry.JSON()
	if err != nil {
		return "", err
	}
	out, err := ctr.
		WithFile("/tmp/lakehouse-ledger", m.goTool("ledger"), dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithNewFile("/tmp/lakehouse-entry.json", string(body)).
		WithEnvVariable("LAKEHOUSE_RUN_ID", runID()).
		WithExec(append(at.args("append"), "--file", "/tmp/lakehouse-entry.json")).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("record in the ledger %s/%s: %w", at.Bucket, at.Prefix, err)
	}
	var created struct {
		Seq int    `json:"seq"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		return "", fmt.Errorf("record in the ledger: %w", err)
	}
	return created.Key + " (entry " + strconv.Itoa(created.Seq) + ")", nil
}
