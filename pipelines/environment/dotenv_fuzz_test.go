package environment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/dotenv"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/fuzztest"
)

// seedEnvFiles adds the committed env files and the inputs of the shared
// dotenv table to f's seed corpus.
func seedEnvFiles(f *testing.F) {
	for _, raw := range fuzztest.Files(f, "../../dagster/.env.*") {
		f.Add(raw)
	}
	var table struct {
		Cases []dotenvCase `json:"cases"`
	}
	if err := json.Unmarshal(fuzztest.Files(f, "testdata/dotenv_cases.json")["testdata/dotenv_cases.json"], &table); err != nil {
		f.Fatal(err)
	}
	for _, c := range table.Cases {
		f.Add([]byte(c.Input))
	}
}

// FuzzParseDotenv: the reader never panics, and what it accepts is what the
// shared grammar means by a file every reader reads the same way:
//   - UTF-8 text (the Python reader refuses anything else);
//   - docker compose (compose-go's dotenv) reads the same map;
//   - the keys are exactly the ones a line-by-line reading finds;
//   - written back (quotedDotenv, MergeDotenv) it reads back the same.
func FuzzParseDotenv(f *testing.F) {
	seedEnvFiles(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var got map[string]string
		var err error
		fuzztest.Returns(t, data, func() { got, err = ParseDotenv("dagster/.env.zzfuzz", data) })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dagster/.env.zzfuzz:") {
				t.Fatalf("the error does not start with the file and line: %v", err)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted a file that is not UTF-8 (the Python reader refuses it): %q", data)
		}
		var compose map[string]string
		fuzztest.Returns(t, data, func() {
			compose, err = dotenv.ParseWithLookup(bytes.NewReader(data), func(string) (string, bool) { return "", false })
		})
		if err != nil {
			t.Fatalf("accepted %q, which docker compose refuses: %v", data, err)
		}
		if !maps.Equal(got, compose) {
			t.Fatalf("%q: the pipeline reads %q, docker compose %q", data, got, compose)
		}
		if keys := lineKeys(t, data); !slices.Equal(keys, slices.Sorted(maps.Keys(got))) {
			t.Fatalf("%q: keys %q, but its lines set %q", data, slices.Sorted(maps.Keys(got)), keys)
		}
		var rendered strings.Builder
		for _, k := range slices.Sorted(maps.Keys(got)) {
			v, err := quotedDotenv(k, got[k])
			if err != nil {
				t.Fatalf("%q: an accepted value cannot be written back: %v", data, err)
			}
			rendered.WriteString(k + "=" + v + "\n")
		}
		again, err := ParseDotenv("rendered", []byte(rendered.String()))
		if err != nil || !maps.Equal(got, again) {
			t.Fatalf("%q written back as %q reads %q (%v)", data, rendered.String(), again, err)
		}
		merged, err := MergeDotenv("dagster/.env.zzfuzz", data, got, "the fuzzer")
		if err != nil {
			t.Fatalf("%q: merging its own values fails: %v", data, err)
		}
		if bytes.Contains(merged, []byte("# From the fuzzer.")) {
			t.Fatalf("%q: merging its own values appended keys it already sets: %q", data, merged)
		}
		if again, err := ParseDotenv("merged", merged); err != nil || !maps.Equal(got, again) {
			t.Fatalf("%q merged with its own values reads %q (%v)", data, again, err)
		}
	})
}

// lineKeys reads the keys of an env file line by line, independently of
// the parser: the text before "=" on every line that is not blank or a
// comment, without an "export" prefix; sorted.
func lineKeys(t *testing.T, data []byte) []string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	var keys []string
	for sc.Scan() {
		line := strings.Trim(sc.Text(), " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "export" {
			line = strings.TrimLeft(strings.TrimPrefix(line, "export"), " \t")
		}
		key, _, _ := strings.Cut(line, "=")
		keys = append(keys, key)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}
