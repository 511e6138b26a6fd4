package ledger

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// S3ConfigFromBackend reads the state bucket and its region from a committed
// partial S3 backend file (aws/backend.tfbackend), so the ledger lives in the
// bucket Terraform keeps state in. file names the source in errors. Optional
// use_path_style and endpoints = { s3 = "…" } are read too (a local
// S3-compatible server); every other backend setting is ignored.
func S3ConfigFromBackend(file string, src []byte) (S3Config, error) {
	attrs, err := backendAttrs(file, src)
	if err != nil {
		return S3Config{}, err
	}
	var cfg S3Config
	if cfg.Bucket, err = backendString(file, attrs, "bucket"); err != nil {
		return S3Config{}, err
	}
	if cfg.Region, err = backendString(file, attrs, "region"); err != nil {
		return S3Config{}, err
	}
	if a, ok := attrs["use_path_style"]; ok {
		v, err := backendValue(file, a, cty.Bool)
		if err != nil {
			return S3Config{}, err
		}
		cfg.PathStyle = v.True()
	}
	if a, ok := attrs["endpoints"]; ok {
		if cfg.Endpoint, err = s3Endpoint(file, a); err != nil {
			return S3Config{}, err
		}
	}
	return cfg, nil
}

// GCSConfigFromBackend reads the state bucket from a committed partial GCS
// backend file (gcp/backend.tfbackend), so the ledger lives in the bucket
// Terraform keeps state in. file names the source in errors. Every other
// backend setting is ignored: prefix is the state's, and credentials or
// storage_custom_endpoint are Terraform's business, never the ledger's.
func GCSConfigFromBackend(file string, src []byte) (GCSConfig, error) {
	attrs, err := backendAttrs(file, src)
	if err != nil {
		return GCSConfig{}, err
	}
	bucket, err := backendString(file, attrs, "bucket")
	if err != nil {
		return GCSConfig{}, err
	}
	return GCSConfig{Bucket: bucket}, nil
}

// backendAttrs parses a backend file: attributes only, no blocks.
func backendAttrs(file string, src []byte) (hcl.Attributes, error) {
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("backend file %s: %w", file, diags)
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, fmt.Errorf("backend file %s: %w", file, diags)
	}
	return attrs, nil
}

// backendString returns a required literal, non-empty string attribute.
func backendString(file string, attrs hcl.Attributes, name string) (string, error) {
	a, ok := attrs[name]
	if !ok {
		return "", fmt.Errorf("%s: missing %s: add a line %s = \"...\"", file, name, name)
	}
	v, err := backendValue(file, a, cty.String)
	if err != nil {
		return "", err
	}
	if v.AsString() == "" {
		return "", fmt.Errorf("%s:%d: %s is empty: set it to the state bucket's %s", file, a.Range.Start.Line, name, name)
	}
	return v.AsString(), nil
}

// backendValue evaluates a literal attribute of type want.
func backendValue(file string, a *hcl.Attribute, want cty.Type) (cty.Value, error) {
	line := a.Range.Start.Line
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s:%d: %s must be a literal value: %w", file, line, a.Name, diags)
	}
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(want) {
		return cty.NilVal, fmt.Errorf("%s:%d: %s must be a %s, got %s", file, line, a.Name, want.FriendlyName(), v.Type().FriendlyName())
	}
	return v, nil
}

// s3Endpoint returns endpoints.s3, "" when the object has no s3 key.
func s3Endpoint(file string, a *hcl.Attribute) (string, error) {
	line := a.Range.Start.Line
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return "", fmt.Errorf("%s:%d: endpoints must be a literal object: %w", file, line, diags)
	}
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		return "", fmt.Errorf("%s:%d: endpoints must be an object, e.g. endpoints = { s3 = \"http://127.0.0.1:8333\" }", file, line)
	}
	if !v.Type().HasAttribute("s3") {
		return "", nil
	}
	s := v.GetAttr("s3")
	if s.IsNull() || !s.IsKnown() || s.Type() != cty.String || s.AsString() == "" {
		return "", fmt.Errorf("%s:%d: endpoints.s3 must be a URL string", file, line)
	}
	return s.AsString(), nil
}
