// Package enginetest is a fake Dagger engine for testing module functions
// without an engine. It records every GraphQL query the SDK sends, answers
// object IDs and scalar leaves, and lets tests assert the graph a function
// built: base images, exec argv, environment and secret variables, cache
// volumes, mounted directories, written files, services and ports.
package enginetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger.io/dagger"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Engine implements the SDK's engine connection (dagger.WithConn).
type Engine struct {
	t  testing.TB
	mu sync.Mutex
	// queries in the order the SDK sent them.
	queries [][]Step
	texts   []string
	// producers maps an ID the engine handed out to the chain that made it.
	producers map[string][]Step
	answers   map[string]any
	funcs     map[string][]func(Chain) (any, bool)
	failures  []execFailure
	// fieldFailures fail queries by their leaf field.
	fieldFailures []fieldFailure
	latency       time.Duration
	nextID        int
	// errs collects the errors of the request being answered.
	errs []gqlError
}

// New starts a fake engine and returns a client connected to it.
func New(t testing.TB) (*Engine, *dagger.Client) {
	t.Helper()
	e := &Engine{t: t, producers: map[string][]Step{}, answers: map[string]any{}, funcs: map[string][]func(Chain) (any, bool){}}
	client, err := dagger.Connect(t.Context(), dagger.WithConn(e))
	if err != nil {
		t.Fatalf("connect to fake engine: %v", err)
	}
	return e, client
}

// Answer makes every query whose leaf field is field return value, e.g.
// Answer("exitCode", 2) or Answer("stdout", `{"a":1}`).
func (e *Engine) Answer(field string, value any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answers[field] = value
}

// AnswerFunc answers queries whose leaf is field with fn's value when fn
// reports true for the (lineage-expanded) chain; later functions win, and
// Answer values apply when no function matches. Use it to answer by context,
// e.g. the exit code of one particular exec.
func (e *Engine) AnswerFunc(field string, fn func(Chain) (any, bool)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.funcs[field] = append(e.funcs[field], fn)
}

// SetLatency delays every answer by d, as a remote engine would: with it,
// the wall time of a function measures how many round trips it makes one
// after another (its critical path), not how fast the fake answers.
func (e *Engine) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = d
}

// Host is part of the connection interface.
func (e *Engine) Host() string { return "fake-engine.invalid" }

// Close is part of the connection interface.
func (e *Engine) Close() error { return nil }

// Do answers one GraphQL request.
func (e *Engine) Do(req *http.Request) (*http.Response, error) {
	// A cancelled caller gets no answer, as from a real engine's transport.
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	var body struct {
		Query string `json:"query"`
	}
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("fake engine: request is not GraphQL JSON: %w", err)
	}
	doc, gqlErr := parser.ParseQuery(&ast.Source{Input: body.Query})
	if gqlErr != nil {
		return nil, fmt.Errorf("fake engine: unparsable query %q: %w", body.Query, gqlErr)
	}
	e.mu.Lock()
	latency := e.latency
	e.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}
	data := map[string]any{}
	e.mu.Lock()
	e.errs = nil
	for _, op := range doc.Operations {
		for _, sel := range op.SelectionSet {
			e.answer(sel, nil, data)
		}
	}
	e.texts = append(e.texts, body.Query)
	resp := map[string]any{"data": data}
	if len(e.errs) > 0 {
		resp = map[string]any{"data": nil, "errors": e.errs}
	}
	e.mu.Unlock()
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(out)),
		Request:    req,
	}, nil
}

// answer fills dst with the response for sel, recording the chain of fields
// from the root. Callers hold e.mu.
func (e *Engine) answer(sel ast.Selection, prefix []Step, dst map[string]any) {
	switch s := sel.(type) {
	case *ast.InlineFragment:
		for _, child := range s.SelectionSet {
			e.answer(child, prefix, dst)
		}
	case *ast.Field:
		chain := append(append([]Step{}, prefix...), Step{Field: s.Name, Args: argsOf(s.Arguments)})
		key := s.Alias
		if key == "" {
			key = s.Name
		}
		if len(s.SelectionSet) == 0 {
			dst[key] = e.leaf(chain)
			e.queries = append(e.queries, chain)
			return
		}
		child := map[string]any{}
		for _, c := range s.SelectionSet {
			e.answer(c, chain, child)
		}
		dst[key] = child
	}
}

// leaf answers a scalar field. Fields that return an object ID (id, sync)
// get a fresh ID remembered with the chain that produced it.
func (e *Engine) leaf(chain []Step) any {
	field := chain[len(chain)-1].Field
	if gerr := e.fieldOutcome(e.expand(chain)); gerr != nil {
		for _, s := range chain {
			gerr.Path = append(gerr.Path, s.Field)
		}
		e.errs = append(e.errs, *gerr)
		return nil
	}
	if v, ok, gerr := e.execOutcome(e.expand(chain)); gerr != nil {
		for _, s := range chain {
			gerr.Path = append(gerr.Path, s.Field)
		}
		e.errs = append(e.errs, *gerr)
		return nil
	} else if ok {
		return v
	}
	fns := e.funcs[field]
	for i := len(fns) - 1; i >= 0; i-- {
		if v, ok := fns[i](e.expand(chain)); ok {
			return v
		}
	}
	if v, ok := e.answers[field]; ok {
		return v
	}
	switch field {
	case "id", "sync":
		e.nextID++
		owner := "query"
		if len(chain) > 1 {
			owner = chain[len(chain)-2].Field
		}
		id := fmt.Sprintf("fake-id-%d:%s", e.nextID, owner)
		e.producers[id] = chain[:len(chain)-1]
		return id
	case "exitCode", "size", "port":
		return 0
	case "exists":
		return true
	case "name":
		// A file's name is the base of the path it was selected by.
		for i := len(chain) - 2; i >= 0; i-- {
			if p, ok := chain[i].Args["path"].(string); ok && chain[i].Field == "file" {
				return path.Base(p)
			}
		}
	case "entries", "glob", "envVariables", "exposedPorts", "mounts", "defaultArgs", "entrypoint":
		return []any{}
	}
	return ""
}

func argsOf(list ast.ArgumentList) map[string]any {
	if len(list) == 0 {
		return nil
	}
	out := make(map[string]any, len(list))
	for _, a := range list {
		out[a.Name] = valueOf(a.Value)
	}
	return out
}

func valueOf(v *ast.Value) any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case ast.ListValue:
		var out []any
		for _, c := range v.Children {
			out = append(out, valueOf(c.Value))
		}
		return out
	case ast.ObjectValue:
		out := map[string]any{}
		for _, c := range v.Children {
			out[c.Name] = valueOf(c.Value)
		}
		return out
	case ast.NullValue:
		return nil
	case ast.BooleanValue:
		return v.Raw == "true"
	case ast.IntValue:
		var n int
		fmt.Sscan(v.Raw, &n)
		return n
	}
	return v.Raw
}

// Queries returns the raw query texts in the order they were sent.
func (e *Engine) Queries() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.texts...)
}

// Chains returns every evaluated chain (one per leaf), lineage expanded:
// a chain that starts from an ID is prefixed with the chain that made it.
func (e *Engine) Chains() []Chain {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Chain, 0, len(e.queries))
	for _, q := range e.queries {
		out = append(out, e.expand(q))
	}
	return out
}

// expand replaces a leading load-by-ID step with the lineage of that ID.
func (e *Engine) expand(path []Step) Chain {
	return Chain{Path: e.lineage(path), eng: e}
}

func (e *Engine) lineage(path []Step) []Step {
	if len(path) == 0 {
		return path
	}
	first := path[0]
	if first.Field == "node" || strings.HasPrefix(first.Field, "load") {
		if id, ok := first.Args["id"].(string); ok {
			if parent, ok := e.producers[id]; ok {
				return append(e.lineage(parent), path[1:]...)
			}
		}
	}
	return append([]Step(nil), path...)
}

// Resolve returns the expanded chain that produced id (empty if unknown).
func (e *Engine) Resolve(id string) Chain {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.producers[id]
	if !ok {
		return Chain{}
	}
	return e.expand(c)
}

// Containers returns the evaluated chains rooted at dag.Container(),
// longest (most derived) first per leaf, in query order.
func (e *Engine) Containers() []Chain {
	var out []Chain
	for _, c := range e.Chains() {
		if c.Len() > 0 && c.Path[0].Field == "container" {
			out = append(out, c)
		}
	}
	return out
}

// ContainerFrom returns the most derived evaluated container whose base image
// is address; it fails the test when there is none.
func (e *Engine) ContainerFrom(address string) Chain {
	e.t.Helper()
	var best Chain
	for _, c := range e.Containers() {
		if c.From() == address && c.Len() > best.Len() {
			best = c
		}
	}
	if best.Len() == 0 {
		e.t.Fatalf("no container from %q was evaluated; images used: %v", address, e.Images())
	}
	return best
}

// Images lists the base images of every evaluated container, deduplicated.
func (e *Engine) Images() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range e.Containers() {
		if f := c.From(); f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
