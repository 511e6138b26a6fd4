package environment

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/fuzztest"
)

// runtimeKeys are the keys ParseRuntime requires.
var runtimeKeys = strings.Split(requiredKeys, ", ")

// FuzzParseRuntime: reading an env file as an environment's runtime
// settings never panics; what it accepts holds exactly the file's values,
// each an allowed one; and what it refuses, in a file the dotenv grammar
// accepts, it refuses naming the variable (as written in the file, not a
// Go field) and, when the variable is in the file, its file:line.
func FuzzParseRuntime(f *testing.F) {
	for name, raw := range fuzztest.Files(f, "../../dagster/.env.*") {
		f.Add(strings.TrimPrefix(filepath.Base(name), ".env."), raw)
	}
	lineRef := regexp.MustCompile(`^dagster/\.env\.[a-z0-9]+:([0-9]+): `)
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if ValidName(name) != nil {
			return
		}
		c, err := NewCatalog(map[string][]byte{"environments/" + name + ".tfvars": tfvars(name).Data})
		if err != nil {
			t.Fatal(err)
		}
		env, err := c.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		var rt Runtime
		fuzztest.Returns(t, data, func() { rt, err = ParseRuntime(env, env.EnvFile(), data) })
		vars, grammarErr := parseDotenv(env.EnvFile(), data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), env.EnvFile()) {
				t.Fatalf("the error does not start with the file: %v", err)
			}
			if grammarErr != nil {
				return
			}
			key := namedKey(err.Error())
			if key == "" {
				t.Fatalf("%q: the error names none of %s: %v", data, requiredKeys, err)
			}
			if v, ok := vars[key]; ok {
				m := lineRef.FindStringSubmatch(err.Error())
				if m == nil || m[1] != fmt.Sprint(v.line) {
					t.Fatalf("%q: %s is on line %d, the error does not say so: %v", data, key, v.line, err)
				}
			}
			return
		}
		if grammarErr != nil {
			t.Fatalf("%q: accepted, but the dotenv grammar refuses it: %v", data, grammarErr)
		}
		if rt.AccessLevel != AccessAdmin && rt.AccessLevel != AccessReader {
			t.Fatalf("%q: access level %q accepted", data, rt.AccessLevel)
		}
		want := map[string]string{
			"LAKEHOUSE_ENVIRONMENT":      name,
			"LAKEHOUSE_ACCESS_LEVEL":     string(rt.AccessLevel),
			"LAKEHOUSE_ALERTING_ENABLED": fmt.Sprint(rt.AlertingEnabled),
			"LAKEHOUSE_DEPLOYED":         fmt.Sprint(rt.Deployed),
			"ICEBERG_CATALOG_URI":        rt.CatalogURI,
			"ICEBERG_WAREHOUSE":          rt.Warehouse,
		}
		for k, v := range want {
			if vars[k].value != v {
				t.Fatalf("%q: %s=%q in the file, %q accepted", data, k, vars[k].value, v)
			}
		}
		if strings.TrimSpace(rt.CatalogURI) == "" || strings.TrimSpace(rt.Warehouse) == "" {
			t.Fatalf("%q: an empty catalog or warehouse accepted", data)
		}
	})
}

// namedKey returns the required key an error message names first, "" if
// none; a list of every key in parentheses does not count.
func namedKey(msg string) string {
	msg, _, _ = strings.Cut(msg, " (")
	first, key := len(msg), ""
	for _, k := range runtimeKeys {
		if i := strings.Index(msg, k); i >= 0 && i < first {
			first, key = i, k
		}
	}
	return key
}
