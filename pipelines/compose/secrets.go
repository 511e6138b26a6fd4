package compose

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// checkSecretOptions refuses placeholders that could not be told apart: an
// empty one is inside every string, two secrets with one placeholder would
// be indistinguishable.
func checkSecretOptions(opts TranslateOptions) error {
	owner := map[string]string{}
	var errs []error
	for _, name := range sortedNames(opts.Secrets) {
		placeholder := opts.Secrets[name]
		if placeholder == "" {
			errs = append(errs, fmt.Errorf("TranslateOptions.Secrets[%s] is empty: give Load and Translate a unique placeholder value for it", name))
			continue
		}
		if other, dup := owner[placeholder]; dup {
			errs = append(errs, fmt.Errorf("TranslateOptions.Secrets: %s and %s have the same placeholder: give each secret its own", other, name))
			continue
		}
		owner[placeholder] = name
	}
	return errors.Join(errs...)
}

// refuseLeakedSecrets fails when a secret's placeholder appears anywhere in
// the service except as the whole value of an environment variable: inside
// a longer value, a command or a healthcheck the secret would be written
// out in plain text.
func refuseLeakedSecrets(s types.ServiceConfig, secrets map[string]string) error {
	if len(secrets) == 0 {
		return nil
	}
	isPlaceholder := map[string]bool{}
	for _, p := range secrets {
		isPlaceholder[p] = true
	}
	rest := s
	rest.Environment = types.MappingWithEquals{}
	for k, v := range s.Environment {
		if v == nil || !isPlaceholder[*v] {
			rest.Environment[k] = v
		}
	}
	var errs []error
	walkStrings("", reflect.ValueOf(rest), func(where, value string) {
		for _, name := range sortedNames(secrets) {
			if strings.Contains(value, secrets[name]) {
				errs = append(errs, fmt.Errorf("%s contains the secret %s inside a longer value: it would be passed in plain text; make the secret the whole value of an environment variable and build the rest in the container", where, name))
			}
		}
	})
	return errors.Join(errs...)
}

// walkStrings calls fn with every string in v (map keys included), named by
// its yaml path ("environment.DATABASE_URL", "command[2]").
func walkStrings(where string, v reflect.Value, fn func(where, value string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(where, v.Elem(), fn)
		}
	case reflect.String:
		fn(where, v.String())
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case name == "-":
			case strings.Contains(opts, "inline"):
				walkStrings(where, v.Field(i), fn)
			default:
				if name == "" {
					name = strings.ToLower(f.Name)
				}
				walkStrings(join(where, name), v.Field(i), fn)
			}
		}
	case reflect.Map:
		for _, k := range sortedKeys(v) {
			key := fmt.Sprint(k.Interface())
			fn(join(where, key), key)
			walkStrings(join(where, key), v.MapIndex(k), fn)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkStrings(where+"["+strconv.Itoa(i)+"]", v.Index(i), fn)
		}
	}
}
