package terraform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

// RuntimeEnvOutput is the output of both cloud roots that holds the
// dagster/.env.<env> values coming from Terraform (a map of strings).
const RuntimeEnvOutput = "dagster_env"

// imageOutputs are the outputs that report the images an environment runs.
// Each has the name of the variable it came from, so passing them back
// (RunningImages) keeps the running release in a plan that brings none.
var imageOutputs = []string{"dagster_image", "gate_image"}

var (
	envKey = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	// Names that say "secret": dagster_env must never carry one (secrets
	// reach the runtime from Secrets Manager / Secret Manager).
	secretKey = regexp.MustCompile(`(?i)(password|secret|token|private_key|access_key)`)
	// The Iceberg REST path of Nessie on one branch: what pyiceberg needs.
	icebergBranchPath = regexp.MustCompile(`/iceberg/[^/]+$`)
)

// rawOutputs reads `terraform output -json`.
func rawOutputs(outputsJSON []byte) (map[string]outputValue, error) {
	var outs map[string]outputValue
	if err := json.Unmarshal(outputsJSON, &outs); err != nil {
		return nil, fmt.Errorf("read terraform output -json: %w", err)
	}
	if outs == nil {
		return nil, fmt.Errorf("read terraform output -json: not an object of outputs")
	}
	return outs, nil
}

// RuntimeEnv turns `terraform output -json` of an applied cloud root into
// the dagster/.env.<env> values that come from Terraform: the root's
// dagster_env output (LAKEHOUSE_ENVIRONMENT, ICEBERG_CATALOG_URI,
// ICEBERG_WAREHOUSE, ICEBERG_CATALOG_WAREHOUSE and, on AWS,
// LAKEHOUSE_S3_BUCKET, AWS_REGION, S3_PATH_STYLE, ALERT_SNS_TOPIC_ARN).
// These are the values the deployed Dagster runs with, so a local Dagster
// or a gate run pointed at the environment sees the same catalog.
//
// It refuses what would make a broken or unsafe env file: a missing or
// sensitive output, a key that is not an environment variable name or that
// names a secret, a value that is not a string, a missing
// LAKEHOUSE_ENVIRONMENT, ICEBERG_CATALOG_URI or ICEBERG_WAREHOUSE, an
// environment name the pipeline does not accept, and a catalog URI that is
// not http(s)://…/iceberg/<branch> (pyiceberg needs Nessie's Iceberg REST
// path on a branch, not the bare /iceberg or the native /api/v2).
func RuntimeEnv(outputsJSON []byte) (map[string]string, error) {
	outs, err := rawOutputs(outputsJSON)
	if err != nil {
		return nil, err
	}
	o, ok := outs[RuntimeEnvOutput]
	if !ok {
		return nil, fmt.Errorf("terraform outputs have no %s: apply the environment with a root that defines it (aws/ or gcp/ of this repository) first", RuntimeEnvOutput)
	}
	if o.Sensitive {
		return nil, fmt.Errorf("output %s is marked sensitive: it must hold no secrets, and its values go into a committed file", RuntimeEnvOutput)
	}
	obj, ok := o.Value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("output %s must be a map of strings, got %T", RuntimeEnvOutput, o.Value)
	}
	env := make(map[string]string, len(obj))
	for k, v := range obj {
		s, ok := v.(string)
		switch {
		case !envKey.MatchString(k):
			return nil, fmt.Errorf("output %s: key %q is not an environment variable name (A-Z, 0-9, _)", RuntimeEnvOutput, k)
		case secretKey.MatchString(k):
			return nil, fmt.Errorf("output %s: key %s names a secret: secrets are injected at runtime, never written to env files", RuntimeEnvOutput, k)
		case !ok:
			return nil, fmt.Errorf("output %s: %s must be a string, got %T", RuntimeEnvOutput, k, v)
		}
		env[k] = s
	}
	for _, k := range []string{"LAKEHOUSE_ENVIRONMENT", "ICEBERG_CATALOG_URI", "ICEBERG_WAREHOUSE"} {
		if strings.TrimSpace(env[k]) == "" {
			return nil, fmt.Errorf("output %s has no %s", RuntimeEnvOutput, k)
		}
	}
	if err := environment.ValidName(env["LAKEHOUSE_ENVIRONMENT"]); err != nil {
		return nil, fmt.Errorf("output %s: LAKEHOUSE_ENVIRONMENT: %w", RuntimeEnvOutput, err)
	}
	if err := checkCatalogURI(env["ICEBERG_CATALOG_URI"]); err != nil {
		return nil, fmt.Errorf("output %s: %w", RuntimeEnvOutput, err)
	}
	return env, nil
}

func checkCatalogURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("ICEBERG_CATALOG_URI=%q is not an http(s) URL", raw)
	}
	if !icebergBranchPath.MatchString(u.Path) {
		return fmt.Errorf("ICEBERG_CATALOG_URI=%q must end in /iceberg/<branch> (e.g. …/iceberg/main): pyiceberg needs Nessie's Iceberg REST path on a branch", raw)
	}
	return nil
}

// RenderDotenv renders vars as KEY=VALUE lines sorted by key, in the
// grammar every reader of dagster/.env.<env> shares
// (environment.ParseDotenv, the Python project, docker compose): values
// that need no quoting are written bare, others in single quotes (taken
// literally by every reader). A value no reader can take literally (a
// newline, a single quote, a backslash) or a key that is not a variable
// name is refused.
func RenderDotenv(vars map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		if !envKey.MatchString(k) {
			return nil, fmt.Errorf("dotenv: %q is not an environment variable name (A-Z, 0-9, _)", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		v := vars[k]
		switch {
		case !strings.ContainsAny(v, " \t'\"\\$`#\r\n"):
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		case !strings.ContainsAny(v, "'\\\r\n"):
			fmt.Fprintf(&b, "%s='%s'\n", k, v)
		default:
			return nil, fmt.Errorf("dotenv: %s=%q cannot be written: newlines, single quotes and backslashes have no literal form every reader agrees on", k, v)
		}
	}
	return b.Bytes(), nil
}

// RunningImages reads `terraform output -json` and returns, as
// variable=value, the images the environment runs now (the non-null
// dagster_image and gate_image outputs). The pipeline passes them with
// PlanWithVars when a plan brings no new release, so an
// infrastructure-only change or a drift check never rolls code back; a
// release overrides them with its own digests. No state (a first deploy)
// gives no outputs and an empty map.
func RunningImages(outputsJSON []byte) (map[string]string, error) {
	outs, err := rawOutputs(outputsJSON)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, name := range imageOutputs {
		o, ok := outs[name]
		if !ok || o.Value == nil {
			continue
		}
		s, ok := o.Value.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("output %s must be an image reference, got %v", name, o.Value)
		}
		vars[name] = s
	}
	return vars, nil
}
