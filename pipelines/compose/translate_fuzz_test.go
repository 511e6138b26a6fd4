package compose

import (
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/fuzztest"
)

// fuzzPlaceholder stands for the deploy secret, as a deploy passes it.
const fuzzPlaceholder = "zzfuzz-secret-placeholder-5e1d"

// The loader reads the files some keys name. An input where one of them
// may name a file outside the temporary project directory is skipped: the
// fuzzer must not make it read /dev/zero (which never ends) or a FIFO.
var (
	fileKeys      = regexp.MustCompile(`env_file|label_file|extends|include`)
	outsideTheDir = regexp.MustCompile(`\.\.|(^|[\s"'\[{,:=])/`)
)

// FuzzLoadAndTranslate: loading a compose file with an env file and
// translating the project never panics or hangs, errors are errors that
// name the project, and a spec it gives is one the engine can run: every
// service has an image, a required dependency is a service of the spec and
// starts before its dependent, ports are ports, mounts stay inside the
// project and its volumes, the secret only ever travels as a secret, and
// translating twice gives the same spec.
func FuzzLoadAndTranslate(f *testing.F) {
	dagsterEnvs := fuzztest.Files(f, dagsterDir+"/.env.*")
	for _, compose := range fuzztest.Files(f, dagsterDir+"/docker-compose*.yaml") {
		for _, env := range dagsterEnvs {
			f.Add(compose, env)
		}
	}
	for _, dir := range []string{"testdata/mapped", "testdata/refusals"} {
		env := fuzztest.Files(f, dir+"/.env.test")[dir+"/.env.test"]
		for _, compose := range fuzztest.Files(f, dir+"/*.yaml") {
			f.Add(compose, env)
		}
	}
	f.Fuzz(func(t *testing.T, compose, envFile []byte) {
		if fileKeys.Match(compose) && outsideTheDir.Match(compose) {
			return
		}
		dir := t.TempDir()
		for name, raw := range map[string][]byte{"docker-compose.yaml": compose, ".env.zzfuzz": envFile} {
			if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		vars, _ := environment.ParseDotenv("env", envFile)
		opts := TranslateOptions{
			Secrets:      map[string]string{"DAGSTER_POSTGRES_PASSWORD": fuzzPlaceholder},
			ProjectImage: vars["LAKEHOUSE_IMAGE"],
		}
		var spec, again *Spec
		var loadErr, err error
		fuzztest.Returns(t, compose, func() {
			p, perr := load(t.Context(), dir, ".env.zzfuzz", "zzfuzz", []string{"docker-compose.yaml"}, map[string]string{"DAGSTER_POSTGRES_PASSWORD": fuzzPlaceholder})
			if loadErr = perr; perr != nil {
				return
			}
			spec, err = Translate(p, opts)
			again, _ = Translate(p, opts)
		})
		switch {
		case loadErr != nil:
			// compose-go's own message may go on over several lines.
			if !strings.HasPrefix(loadErr.Error(), "compose zzfuzz (") {
				t.Fatalf("the error does not name the project: %v", loadErr)
			}
			err = loadErr
		case err != nil:
			// Translate gives every problem its own line, each saying where.
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "compose project zzfuzz (") {
					t.Fatalf("an error line does not name the project: %q", line)
				}
			}
		}
		if err != nil {
			if strings.Contains(err.Error(), fuzzPlaceholder) {
				t.Fatalf("the error shows the secret: %v", err)
			}
			return
		}
		if !reflect.DeepEqual(spec, again) {
			t.Fatalf("two translations differ:\n%+v\n%+v", spec, again)
		}
		checkSpec(t, spec)
	})
}

// checkSpec fails t when spec is not a stack the engine can run.
func checkSpec(t *testing.T, spec *Spec) {
	t.Helper()
	if spec.Project != "zzfuzz" {
		t.Fatalf("project %q", spec.Project)
	}
	started := map[string]bool{}
	for _, s := range spec.Services {
		if s.Name == "" || s.Image == "" || started[s.Name] {
			t.Fatalf("service %q (image %q) is unnamed, has no image or comes twice", s.Name, s.Image)
		}
		for _, d := range s.DependsOn {
			if !started[d.Service] && (d.Required || slices.ContainsFunc(spec.Services, func(o Service) bool { return o.Name == d.Service })) {
				t.Fatalf("%s depends on %s, which is not started before it", s.Name, d.Service)
			}
		}
		for _, p := range s.Ports {
			if p < 1 || p > 65535 {
				t.Fatalf("%s: port %d", s.Name, p)
			}
		}
		for _, p := range s.Published {
			if p.Host < 1 || p.Host > 65535 || p.Container < 1 || p.Container > 65535 {
				t.Fatalf("%s: published %+v", s.Name, p)
			}
		}
		for _, m := range s.Mounts {
			switch {
			case m.Kind == NamedVolume && !slices.Contains(spec.Volumes, m.Source):
				t.Fatalf("%s mounts volume %s, not one of the spec's %v", s.Name, m.Source, spec.Volumes)
			case m.Kind == Bind && (filepath.IsAbs(m.Source) || m.Source == ".." || strings.HasPrefix(m.Source, "../")):
				t.Fatalf("%s binds %s, outside the project", s.Name, m.Source)
			case !path.IsAbs(m.Target):
				t.Fatalf("%s mounts %s at %q, not a path in the container", s.Name, m.Source, m.Target)
			}
		}
		plain := append(append(slices.Clone(s.Entrypoint), s.Command...), s.User, s.WorkingDir)
		for _, e := range s.Environment {
			plain = append(plain, e.Name, e.Value)
		}
		if s.Healthcheck != nil {
			plain = append(plain, s.Healthcheck.Test...)
		}
		for _, v := range plain {
			if strings.Contains(v, fuzzPlaceholder) {
				t.Fatalf("%s carries the secret in plain text: %q", s.Name, v)
			}
		}
		started[s.Name] = true
	}
}
