package compose

// Finding the keys set in a merged project, and refusing the ones keyTable
// refuses.

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// keySet is one key set in a project: Key as in keyTable, Where with the
// names and list positions ("services.postgres.volumes[1].bind.propagation").
type keySet struct{ Key, Where string }

// setKeys lists every key with a non-default value in the merged project,
// named by the yaml tags of compose-go's types.
func setKeys(p *types.Project) []keySet {
	var out []keySet
	walk("", "", reflect.ValueOf(*p), &out)
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isZero(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map:
		if v.IsNil() {
			return true
		}
	}
	// compose-go's own notion of unset: OptOut is true by default, an
	// explicitly empty ShellCommand ([] clears the image's) is set.
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	if v.Kind() == reflect.Slice || v.Kind() == reflect.Map {
		return v.Len() == 0
	}
	return v.IsZero()
}

func walk(key, where string, v reflect.Value, out *[]keySet) {
	if !v.IsValid() || isZero(v) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		walk(key, where, v.Elem(), out)
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
			case name == "#extensions":
				for _, k := range sortedKeys(v.Field(i)) {
					*out = append(*out, keySet{join(key, "x-*"), join(where, k.String())})
				}
			case strings.Contains(opts, "inline"):
				walk(key, where, v.Field(i), out)
			default:
				if name == "" {
					name = strings.ToLower(f.Name)
				}
				walk(join(key, name), join(where, name), v.Field(i), out)
			}
		}
	case reflect.Map:
		*out = append(*out, keySet{key, where})
		if isStruct(v.Type().Elem()) {
			for _, k := range sortedKeys(v) {
				walk(join(key, "*"), join(where, k.String()), v.MapIndex(k), out)
			}
		}
	case reflect.Slice, reflect.Array:
		*out = append(*out, keySet{key, where})
		if isStruct(v.Type().Elem()) {
			for i := 0; i < v.Len(); i++ {
				walk(key, where+"["+strconv.Itoa(i)+"]", v.Index(i), out)
			}
		}
	default:
		*out = append(*out, keySet{key, where})
	}
}

func isStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

func sortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// refuseUnsupported fails for every key set in p that keyTable refuses,
// all of them at once.
func refuseUnsupported(p *types.Project) error {
	var errs []error
	reported := map[string]bool{}
	for _, k := range setKeys(p) {
		r := ruleFor(k.Key)
		if r.Handling != Refused {
			continue
		}
		// One error per refused row: build, not build.context and
		// build.dockerfile.
		where := k.Where
		if n := strings.Count(r.Key, ".") + 1; r.Key != k.Key {
			parts := strings.SplitN(k.Where, ".", n+1)[:n]
			last, _, _ := strings.Cut(parts[n-1], "[")
			parts[n-1] = last
			where = strings.Join(parts, ".")
		}
		if reported[where] {
			continue
		}
		reported[where] = true
		errs = append(errs, fmt.Errorf("%s: %s is not supported: %s (remove it, or translate it in pipelines/compose/keys.go)", describe(p), where, r.Why))
	}
	return errors.Join(errs...)
}

// describe names a project and the files it was merged from, for errors.
func describe(p *types.Project) string {
	return fmt.Sprintf("compose project %s (%s)", p.Name, strings.Join(p.ComposeFiles, ", "))
}
