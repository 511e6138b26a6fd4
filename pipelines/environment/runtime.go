package environment

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/sethvargo/go-envconfig"
)

// AccessLevel is the Dagster data access level of an environment.
type AccessLevel string

// The access levels an environment may declare.
const (
	AccessAdmin  AccessLevel = "admin"
	AccessReader AccessLevel = "reader"
)

// EnvDecode implements envconfig.Decoder and accepts only the known levels.
func (a *AccessLevel) EnvDecode(v string) error {
	switch AccessLevel(v) {
	case AccessAdmin, AccessReader:
		*a = AccessLevel(v)
		return nil
	}
	return fmt.Errorf("%q is not an access level: allowed values are admin, reader", v)
}

// Runtime is the validated per-environment runtime configuration read from
// dagster/.env.<env>. Keys other than the ones below are ignored.
type Runtime struct {
	// Env is the environment the file belongs to (LAKEHOUSE_ENVIRONMENT).
	Env Env
	RuntimeVars
}

// RuntimeVars are the keys of a runtime config file the pipeline reads.
type RuntimeVars struct {
	// AccessLevel is LAKEHOUSE_ACCESS_LEVEL: admin or reader.
	AccessLevel AccessLevel `env:"LAKEHOUSE_ACCESS_LEVEL, required"`
	// AlertingEnabled is LAKEHOUSE_ALERTING_ENABLED: true or false.
	AlertingEnabled bool `env:"LAKEHOUSE_ALERTING_ENABLED, required"`
	// Deployed is LAKEHOUSE_DEPLOYED: true or false. True means the
	// environment runs unattended, so its schedules and sensors start running.
	Deployed bool `env:"LAKEHOUSE_DEPLOYED, required"`
	// CatalogURI is ICEBERG_CATALOG_URI, the Iceberg catalog endpoint.
	CatalogURI string `env:"ICEBERG_CATALOG_URI, required"`
	// Warehouse is ICEBERG_WAREHOUSE, the Iceberg warehouse location.
	Warehouse string `env:"ICEBERG_WAREHOUSE, required"`
}

// strictBools are the boolean keys: only "true" and "false" are accepted, as
// in the Python project (envconfig alone would also take 1, t, TRUE, ...).
var strictBools = []string{"LAKEHOUSE_ALERTING_ENABLED", "LAKEHOUSE_DEPLOYED"}

// requiredKeys are the keys every runtime config file sets.
const requiredKeys = "LAKEHOUSE_ENVIRONMENT, LAKEHOUSE_ACCESS_LEVEL, LAKEHOUSE_ALERTING_ENABLED, LAKEHOUSE_DEPLOYED, ICEBERG_CATALOG_URI, ICEBERG_WAREHOUSE"

// lastLookup gives envconfig the file's values and remembers the key it
// asked for last: the one its error is about, since envconfig reads and
// decodes one variable at a time and stops at the first that fails.
type lastLookup struct {
	vars map[string]dotenvValue
	key  string
}

func (l *lastLookup) Lookup(key string) (string, bool) {
	l.key = key
	v, ok := l.vars[key]
	return v.value, ok
}

// LoadRuntime reads and validates env.EnvFile() from fsys (rooted at the
// repository root).
func LoadRuntime(fsys fs.FS, env Env) (Runtime, error) {
	b, err := fs.ReadFile(fsys, env.EnvFile())
	if err != nil {
		return Runtime{}, fmt.Errorf("runtime config for %s: %w (create it: copy dagster/.env.example or another environment's file to %s and set LAKEHOUSE_ENVIRONMENT=%s)", env, err, env.EnvFile(), env)
	}
	return ParseRuntime(env, env.EnvFile(), b)
}

// ParseRuntime validates the dotenv contents of filename as env's runtime
// configuration. Errors name the file, the line, and the allowed values.
func ParseRuntime(env Env, filename string, data []byte) (Runtime, error) {
	if env.IsZero() {
		return Runtime{}, fmt.Errorf("%s: no environment given: obtain one from Catalog.Lookup", filename)
	}
	vars, err := parseDotenv(filename, data)
	if err != nil {
		return Runtime{}, err
	}
	where := func(key string) string {
		if v, ok := vars[key]; ok {
			return fmt.Sprintf("%s:%d", filename, v.line)
		}
		return filename
	}
	got, ok := vars["LAKEHOUSE_ENVIRONMENT"]
	switch {
	case !ok:
		return Runtime{}, fmt.Errorf("%s: missing LAKEHOUSE_ENVIRONMENT: add LAKEHOUSE_ENVIRONMENT=%s", filename, env)
	case got.value != env.name:
		return Runtime{}, fmt.Errorf("%s: LAKEHOUSE_ENVIRONMENT=%s but this is the file of environment %s: set LAKEHOUSE_ENVIRONMENT=%s", where("LAKEHOUSE_ENVIRONMENT"), got.value, env, env)
	}
	for _, k := range strictBools {
		if v, ok := vars[k]; ok && v.value != "true" && v.value != "false" {
			return Runtime{}, fmt.Errorf("%s: %s=%q: allowed values are true, false", where(k), k, v.value)
		}
	}
	rt := Runtime{Env: env}
	lookup := &lastLookup{vars: vars}
	err = envconfig.ProcessWith(context.Background(), &envconfig.Config{
		Target:   &rt.RuntimeVars,
		Lookuper: lookup,
	})
	switch {
	case errors.Is(err, envconfig.ErrMissingRequired):
		return Runtime{}, fmt.Errorf("%s: missing %s: add a line %s=... (keys required: %s; see dagster/.env.example)", filename, lookup.key, lookup.key, requiredKeys)
	case err != nil:
		// envconfig names the Go field; the user wrote the variable, on a line.
		reason := err
		if inner := errors.Unwrap(err); inner != nil {
			reason = inner
		}
		return Runtime{}, fmt.Errorf("%s: %s: %w", where(lookup.key), lookup.key, reason)
	}
	for _, k := range []string{"ICEBERG_CATALOG_URI", "ICEBERG_WAREHOUSE"} {
		if strings.TrimSpace(vars[k].value) == "" {
			return Runtime{}, fmt.Errorf("%s: %s is empty: set it from the environment's terraform outputs", where(k), k)
		}
	}
	return rt, nil
}
