// Package gcstest serves a GCS-compatible JSON API (fake-gcs-server's, in
// process) over real HTTP on 127.0.0.1 for the ledger's tests, and records
// every request that reaches it, so a test can check what the client sent
// (e.g. that every upload carried ifGenerationMatch=0) and what the server
// answered.
package gcstest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// Request is one request the server answered.
type Request struct {
	Method string
	Path   string
	// IfGenerationMatch is the request's precondition, "" when it had none.
	IfGenerationMatch string
	// Status is what the server answered.
	Status int
}

// Upload reports whether the request created an object (objects.insert).
func (r Request) Upload() bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/upload/")
}

// Server is a GCS-compatible server on 127.0.0.1.
type Server struct {
	// URL is the server's root, e.g. http://127.0.0.1:40123: what a user
	// passes as the ledger's endpoint.
	URL string

	fake     *fakestorage.Server
	mu       sync.Mutex
	requests []Request
	hook     func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

// Start serves the given (empty) buckets until the test ends.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, Scheme: "http"})
	if err != nil {
		t.Fatalf("start fake-gcs-server: %v", err)
	}
	for _, b := range buckets {
		fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	s := &Server{fake: fake}
	recorded := s.recording(fake.HTTPHandler())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		hook := s.hook
		s.mu.Unlock()
		if hook != nil {
			hook(w, r, recorded)
			return
		}
		recorded.ServeHTTP(w, r)
	}))
	s.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		fake.Stop()
	})
	return s
}

// Intercept routes every later request through hook, which answers the
// client itself and may pass the request on to the server with next (or
// not, or more than once), e.g. to lose a response or to let another
// writer act between two requests.
func (s *Server) Intercept(hook func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

func (s *Server) recording(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{
			Method:            r.Method,
			Path:              r.URL.Path,
			IfGenerationMatch: r.URL.Query().Get("ifGenerationMatch"),
			Status:            sw.status,
		})
	})
}

// Requests returns the requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Uploads returns the objects.insert requests answered so far.
func (s *Server) Uploads() []Request {
	var ups []Request
	for _, r := range s.Requests() {
		if r.Upload() {
			ups = append(ups, r)
		}
	}
	return ups
}

// Put stores an object directly, as another writer would have.
func (s *Server) Put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	s.fake.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: key, ContentType: "application/json"},
		Content:     body,
	})
}

// Object returns an object's content as stored, false when it is absent.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	o, err := s.fake.GetObject(bucket, key)
	if err != nil {
		return nil, false
	}
	return o.Content, true
}

// Metadata returns an object's custom metadata, nil when it is absent.
func (s *Server) Metadata(bucket, key string) map[string]string {
	o, err := s.fake.GetObject(bucket, key)
	if err != nil {
		return nil
	}
	return o.Metadata
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
