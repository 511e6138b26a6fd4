package enginetest

import (
	"fmt"
	"sort"
	"strings"
)

// Step is one field of a query chain with its arguments.
type Step struct {
	Field string
	Args  map[string]any
}

// Chain is the path of fields from the query root to one evaluated leaf,
// e.g. container → from → withExec → stdout. IDs in arguments resolve
// through the engine that recorded the chain.
type Chain struct {
	Path []Step
	eng  *Engine
}

func (c Chain) engine() *Engine { return c.eng }

// Len is the number of steps.
func (c Chain) Len() int { return len(c.Path) }

// String renders the chain compactly for failure messages.
func (c Chain) String() string {
	parts := make([]string, len(c.Path))
	for i, s := range c.Path {
		if len(s.Args) == 0 {
			parts[i] = s.Field
			continue
		}
		keys := make([]string, 0, len(s.Args))
		for k := range s.Args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var args []string
		for _, k := range keys {
			args = append(args, fmt.Sprintf("%s:%v", k, s.Args[k]))
		}
		parts[i] = s.Field + "(" + strings.Join(args, ", ") + ")"
	}
	return strings.Join(parts, " → ")
}

// Steps returns the steps named field, in order.
func (c Chain) Steps(field string) []Step {
	var out []Step
	for _, s := range c.Path {
		if s.Field == field {
			out = append(out, s)
		}
	}
	return out
}

// LastExec is the argv of the last withExec ("" elements if none).
func (c Chain) LastExec() []string {
	execs := c.Execs()
	if len(execs) == 0 {
		return nil
	}
	return execs[len(execs)-1]
}

// Has reports whether the chain contains a step named field whose argument
// key renders as value.
func (c Chain) Has(field, key, value string) bool {
	for _, s := range c.Steps(field) {
		if str(s.Args[key]) == value {
			return true
		}
	}
	return false
}

// Leaf is the field that was evaluated (stdout, sync, id, …).
func (c Chain) Leaf() string {
	if len(c.Path) == 0 {
		return ""
	}
	return c.Path[len(c.Path)-1].Field
}

// From is the base image address of a container chain ("" if none).
func (c Chain) From() string {
	steps := c.Steps("from")
	if len(steps) == 0 {
		return ""
	}
	return str(steps[len(steps)-1].Args["address"])
}

// Execs returns the argv of every withExec, in order.
func (c Chain) Execs() [][]string {
	var out [][]string
	for _, s := range c.Steps("withExec") {
		out = append(out, strs(s.Args["args"]))
	}
	return out
}

// ExecLines returns each exec argv joined by spaces, for readable asserts.
func (c Chain) ExecLines() []string {
	var out []string
	for _, argv := range c.Execs() {
		out = append(out, strings.Join(argv, " "))
	}
	return out
}

// Env returns plain environment variables (withEnvVariable), last write wins.
func (c Chain) Env() map[string]string {
	out := map[string]string{}
	for _, s := range c.Steps("withEnvVariable") {
		out[str(s.Args["name"])] = str(s.Args["value"])
	}
	return out
}

// SecretEnv maps secret variable names to a description of the secret
// (the chain that made it, e.g. `setSecret(name:aws, plaintext:…)`).
func (c Chain) SecretEnv() map[string]string {
	out := map[string]string{}
	for _, s := range c.Steps("withSecretVariable") {
		out[str(s.Args["name"])] = c.describe(s.Args["secret"])
	}
	return out
}

// SecretMounts maps mount paths to the secret mounted there.
func (c Chain) SecretMounts() map[string]string {
	out := map[string]string{}
	for _, s := range c.Steps("withMountedSecret") {
		out[str(s.Args["path"])] = c.describe(s.Args["source"])
	}
	return out
}

// Caches maps mount paths to cache volume keys (withMountedCache).
func (c Chain) Caches() map[string]CacheMount {
	out := map[string]CacheMount{}
	for _, s := range c.Steps("withMountedCache") {
		m := CacheMount{Sharing: str(s.Args["sharing"])}
		if e := c.engine(); e != nil {
			if vol := e.Resolve(str(s.Args["cache"])); vol.Len() > 0 {
				m.Key = str(vol.Path[vol.Len()-1].Args["key"])
			}
		}
		out[str(s.Args["path"])] = m
	}
	return out
}

// CacheMount is a cache volume mounted into a container.
type CacheMount struct {
	Key     string
	Sharing string // "" means the engine default (SHARED)
}

// Directories maps container paths to a description of the directory
// mounted (withMountedDirectory) or copied (withDirectory) there.
func (c Chain) Directories() map[string]string {
	out := map[string]string{}
	for _, s := range c.Path {
		if s.Field == "withMountedDirectory" || s.Field == "withDirectory" {
			d := c.describe(s.Args["source"])
			if inc := strs(s.Args["include"]); len(inc) > 0 {
				d += fmt.Sprintf(" include=%v", inc)
			}
			out[str(s.Args["path"])] = d
		}
	}
	return out
}

// FileMounts maps container paths to a description of the file placed there
// (withFile / withMountedFile).
func (c Chain) FileMounts() map[string]string {
	out := map[string]string{}
	for _, s := range c.Path {
		if s.Field == "withFile" || s.Field == "withMountedFile" {
			out[str(s.Args["path"])] = c.describe(s.Args["source"])
		}
	}
	return out
}

// NewFiles maps paths to contents written with withNewFile.
func (c Chain) NewFiles() map[string]string {
	out := map[string]string{}
	for _, s := range c.Steps("withNewFile") {
		out[str(s.Args["path"])] = str(s.Args["contents"])
	}
	return out
}

// Workdir is the last withWorkdir path ("" if never set).
func (c Chain) Workdir() string {
	steps := c.Steps("withWorkdir")
	if len(steps) == 0 {
		return ""
	}
	return str(steps[len(steps)-1].Args["path"])
}

// ServiceBindings maps aliases to the chain of the bound service.
func (c Chain) ServiceBindings() map[string]Chain {
	out := map[string]Chain{}
	for _, s := range c.Steps("withServiceBinding") {
		var svc Chain
		if e := c.engine(); e != nil {
			svc = e.Resolve(str(s.Args["service"]))
		}
		out[str(s.Args["alias"])] = svc
	}
	return out
}

// ExposedPorts lists ports exposed with withExposedPort, in order.
func (c Chain) ExposedPorts() []int {
	var out []int
	for _, s := range c.Steps("withExposedPort") {
		if p, ok := s.Args["port"].(int); ok {
			out = append(out, p)
		}
	}
	return out
}

// describe renders an ID argument as the chain that produced it.
func (c Chain) describe(v any) string {
	id := str(v)
	if e := c.engine(); e != nil {
		if p := e.Resolve(id); p.Len() > 0 {
			return p.String()
		}
	}
	return id
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, str(x))
	}
	return out
}
