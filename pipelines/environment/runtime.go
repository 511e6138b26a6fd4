package environment

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"regexp"
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
	// CatalogURI is ICEBERG_CATALOG_URI, the Iceberg catalog endpoint.
	CatalogURI string `env:"ICEBERG_CATALOG_URI, required"`
	// Warehouse is ICEBERG_WAREHOUSE, the Iceberg warehouse location.
	Warehouse string `env:"ICEBERG_WAREHOUSE, required"`
}

// LoadRuntime reads and validates env.EnvFile() from fsys (rooted at the
// repository root).
func LoadRuntime(fsys fs.FS, env Env) (Runtime, error) {
	b, err := fs.ReadFile(fsys, env.EnvFile())
	if err != nil {
		return Runtime{}, fmt.Errorf("runtime config for %s: %w (create it: copy dagster/.env.dev to %s and set LAKEHOUSE_ENVIRONMENT=%s)", env, err, env.EnvFile(), env)
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
	if v, ok := vars["LAKEHOUSE_ALERTING_ENABLED"]; ok && v.value != "true" && v.value != "false" {
		return Runtime{}, fmt.Errorf("%s: LAKEHOUSE_ALERTING_ENABLED=%q: allowed values are true, false", where("LAKEHOUSE_ALERTING_ENABLED"), v.value)
	}
	flat := make(map[string]string, len(vars))
	for k, v := range vars {
		flat[k] = v.value
	}
	rt := Runtime{Env: env}
	err = envconfig.ProcessWith(context.Background(), &envconfig.Config{
		Target:   &rt.RuntimeVars,
		Lookuper: envconfig.MapLookuper(flat),
	})
	if err != nil {
		return Runtime{}, fmt.Errorf("%s: %w (keys required: LAKEHOUSE_ENVIRONMENT, LAKEHOUSE_ACCESS_LEVEL, LAKEHOUSE_ALERTING_ENABLED, ICEBERG_CATALOG_URI, ICEBERG_WAREHOUSE)", filename, err)
	}
	for _, k := range []string{"ICEBERG_CATALOG_URI", "ICEBERG_WAREHOUSE"} {
		if strings.TrimSpace(vars[k].value) == "" {
			return Runtime{}, fmt.Errorf("%s: %s is empty: set it from the environment's terraform outputs", where(k), k)
		}
	}
	return rt, nil
}

type dotenvValue struct {
	value string
	line  int
}

var dotenvKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseDotenv reads the subset of dotenv that docker compose --env-file and
// shells agree on: KEY=VALUE lines, blank lines, # comments, an optional
// "export " prefix, values optionally wrapped in single or double quotes
// (no escapes, no interpolation), and " #" comments after unquoted values.
// A key given twice is an error, as the meaning would depend on the reader.
func parseDotenv(filename string, data []byte) (map[string]dotenvValue, error) {
	out := map[string]dotenvValue{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !dotenvKey.MatchString(key) {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE, got %q", filename, n, sc.Text())
		}
		val = strings.TrimSpace(val)
		switch {
		case len(val) >= 2 && (val[0] == '"' || val[0] == '\''):
			end := strings.IndexByte(val[1:], val[0])
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: %s: unterminated quote", filename, n, key)
			}
			val = val[1 : end+1]
		case len(val) == 1 && (val[0] == '"' || val[0] == '\''):
			return nil, fmt.Errorf("%s:%d: %s: unterminated quote", filename, n, key)
		default:
			if i := strings.Index(val, " #"); i >= 0 {
				val = strings.TrimSpace(val[:i])
			}
		}
		if prev, dup := out[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s is already set on line %d: keep one", filename, n, key, prev.line)
		}
		out[key] = dotenvValue{value: val, line: n}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	return out, nil
}
