package ledger

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Memory is an in-memory Store with the same create-only semantics as the S3
// and GCS stores, for tests of the ledger's callers. It is safe for
// concurrent use.
type Memory struct {
	mu      sync.Mutex
	objects map[string][]byte
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{objects: map[string][]byte{}} }

// Put creates key; an error wrapping ErrExists when it exists.
func (m *Memory) Put(ctx context.Context, key string, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; ok {
		return fmt.Errorf("put %s: %w", key, ErrExists)
	}
	m.objects[key] = slices.Clone(body)
	return nil
}

// Get returns a copy of key's content; an error wrapping ErrNotFound when it
// does not exist.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return slices.Clone(b), nil
}

// List returns the keys starting with prefix, sorted.
func (m *Memory) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}
