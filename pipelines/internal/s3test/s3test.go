// Package s3test runs an in-memory S3-compatible server on 127.0.0.1 for
// tests that drive real tools (terraform's s3 backend) against it.
//
// It is github.com/johannesboyne/gofakes3 with its in-memory backend, which
// implements conditional writes (PutObject with If-None-Match: * answers
// 412 Precondition Failed when the object exists, checked under the
// backend's lock), so terraform's use_lockfile locking really locks.
// Every request is recorded so tests can show what the tool did.
package s3test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Request is one request the server answered.
type Request struct {
	Method, Path string
	// IfNoneMatch is the If-None-Match header, "" when absent.
	IfNoneMatch string
	Status      int
}

// Server is a running fake S3 endpoint.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:40123.
	URL     string
	backend *s3mem.Backend

	mu       sync.Mutex
	requests []Request
}

// Start serves a fresh in-memory S3 with the given buckets until the test
// ends.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	s := &Server{backend: s3mem.New()}
	for _, b := range buckets {
		if err := s.backend.CreateBucket(b); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	faker := gofakes3.New(s.backend, gofakes3.WithAutoBucket(false))
	h := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, IfNoneMatch: r.Header.Get("If-None-Match"), Status: rec.status})
		s.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Object returns the content of bucket/key and whether it exists.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil { // no such bucket or key
		return nil, false
	}
	defer obj.Contents.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, obj.Contents); err != nil {
		return nil, false
	}
	return b.Bytes(), true
}

// Put stores content at bucket/key, as another client would.
func (s *Server) Put(t testing.TB, bucket, key string, content []byte) {
	t.Helper()
	if _, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(content), int64(len(content)), nil); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// Requests returns every request answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
