package enginetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// ContentAddressed renders each step of the chain the way the engine keys
// its cache: an argument naming a file or directory taken from a directory
// the test built with dag.Directory().WithNewFile(…) is replaced by the
// selected path and a digest of the files under it, not by the ID of the
// whole directory, and other object IDs by their own content-addressed
// chain. Two builds whose sources differ in one file therefore render the
// same wherever that file is not an input.
func (c Chain) ContentAddressed() []string {
	out := make([]string, len(c.Path))
	for i, s := range c.Path {
		out[i] = c.renderStep(s)
	}
	return out
}

func (c Chain) renderStep(s Step) string {
	if len(s.Args) == 0 {
		return s.Field
	}
	keys := make([]string, 0, len(s.Args))
	for k := range s.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + c.renderValue(s.Args[k])
	}
	return s.Field + "(" + strings.Join(parts, ", ") + ")"
}

func (c Chain) renderValue(v any) string {
	id, ok := v.(string)
	if !ok || !strings.HasPrefix(id, "fake-id-") || c.eng == nil {
		return fmt.Sprint(v)
	}
	src := c.eng.Resolve(id)
	if key, ok := sourceContent(src); ok {
		return key
	}
	return "{" + strings.Join(src.ContentAddressed(), " → ") + "}"
}

// sourceContent content-addresses a chain of the form directory →
// withNewFile… → (file|directory)(path)…: the selected path and a digest of
// the files written under it.
func sourceContent(c Chain) (string, bool) {
	if c.Len() == 0 || c.Path[0].Field != "directory" {
		return "", false
	}
	files := map[string]string{}
	i := 1
	for ; i < c.Len() && c.Path[i].Field == "withNewFile"; i++ {
		files[str(c.Path[i].Args["path"])] = str(c.Path[i].Args["contents"])
	}
	prefix := ""
	for ; i < c.Len(); i++ {
		s := c.Path[i]
		if s.Field != "file" && s.Field != "directory" {
			return "", false
		}
		prefix = strings.Trim(prefix+"/"+str(s.Args["path"]), "/")
	}
	var names []string
	for name := range files {
		if prefix == "" || name == prefix || strings.HasPrefix(name, prefix+"/") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", n, files[n])
	}
	return "content(" + prefix + ")=" + hex.EncodeToString(h.Sum(nil))[:12], true
}
