// Package cloudruntest is a FAKE of the Google Cloud APIs the Cloud Run
// runner calls, for tests: no Cloud Run emulator exists. One httptest
// server on 127.0.0.1 answers the Cloud Run Admin API v2 and the Cloud
// Logging API v2 on their real REST paths with their real JSON (the types of
// google.golang.org/api), and passes every other path to fake-gcs-server
// (its own HTTP listener on 127.0.0.1) for Cloud Storage, so one endpoint
// serves all three, as envrun's --endpoint expects. It plays scripted
// states: services answer a script of reads, an execution walks its job's
// lifecycle one executions.get at a time; no container ever runs. What the
// client sent (jobs.run overrides, cancels, log filters, credentials) is
// recorded for assertions.
package cloudruntest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	logging "google.golang.org/api/logging/v2"
	run "google.golang.org/api/run/v2"
)

// Project and Region the fake serves; other projects answer 404.
const (
	Project = "lake-qa-1234"
	Region  = "europe-west1"
)

// Server is the fake; see the package doc.
type Server struct {
	// URL is the one endpoint of all three APIs.
	URL string
	GCS *fakestorage.Server

	mu         sync.Mutex
	services   map[string][]*run.GoogleCloudRunV2Service
	svcReads   map[string]int
	jobs       map[string]*job
	executions map[string]*execution
	failReads  int
	failLogs   bool
	started    []Started
	cancelled  []string
	logReqs    []logging.ListLogEntriesRequest
	auth       []string
}

type job struct {
	spec      *run.GoogleCloudRunV2Job
	lifecycle []*run.GoogleCloudRunV2Execution
	attempt   *run.GoogleCloudRunV2TaskAttemptResult
	logs      []string
	onRun     func(Started)
}

type execution struct {
	job       *job
	reads     int
	cancelled bool
}

// Started is what one jobs.run received, and what the container would run.
type Started struct {
	Job       string
	Execution string
	Request   run.GoogleCloudRunV2RunJobRequest
	// Argv is the container's command and args after the overrides.
	Argv []string
	// Env is the container's environment after the overrides.
	Env map[string]string
}

// New starts the fake; it stops with the test.
func New(t testing.TB) *Server {
	t.Helper()
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatalf("fake-gcs-server: %v", err)
	}
	t.Cleanup(gcs.Stop)
	target, err := url.Parse(gcs.URL())
	if err != nil {
		t.Fatalf("fake-gcs-server URL: %v", err)
	}
	s := &Server{GCS: gcs, services: map[string][]*run.GoogleCloudRunV2Service{}, svcReads: map[string]int{},
		jobs: map[string]*job{}, executions: map[string]*execution{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/v2/") {
			s.serveAPI(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	s.URL = front.URL
	return s
}

// prefix starts the resource names of the fake's project and region.
const prefix = "projects/" + Project + "/locations/" + Region + "/"

func (s *Server) name(kind, short string) string { return prefix + kind + "/" + short }

// Service scripts a service: successive services.get answer the states in
// order, the last one for ever. Names are filled in.
func (s *Server) Service(name string, states ...*run.GoogleCloudRunV2Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range states {
		st.Name = s.name("services", name)
	}
	s.services[name] = states
}

// Job defines a job whose single container is ctr; each execution answers
// lifecycle's states in order, the last one for ever.
func (s *Server) Job(name string, ctr *run.GoogleCloudRunV2Container, lifecycle ...*run.GoogleCloudRunV2Execution) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[name] = &job{spec: &run.GoogleCloudRunV2Job{Name: s.name("jobs", name), Template: &run.GoogleCloudRunV2ExecutionTemplate{
		TaskCount: 1, Template: &run.GoogleCloudRunV2TaskTemplate{Containers: []*run.GoogleCloudRunV2Container{ctr}}}}, lifecycle: lifecycle}
}

// Attempt is the last attempt of the task of every execution of a job.
func (s *Server) Attempt(jobName string, a *run.GoogleCloudRunV2TaskAttemptResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[jobName].attempt = a
}

// Logs are the lines every execution of a job logs, oldest first.
func (s *Server) Logs(jobName string, lines ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[jobName].logs = lines
}

// OnRun is called for each jobs.run of a job (e.g. to write the report
// the gate would write).
func (s *Server) OnRun(jobName string, f func(Started)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[jobName].onRun = f
}

// FailReads makes the next n reads of services and executions answer 503.
func (s *Server) FailReads(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failReads = n
}

// FailLogs makes Cloud Logging refuse every read (403).
func (s *Server) FailLogs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLogs = true
}

// Started lists the jobs.run requests received.
func (s *Server) Started() []Started {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Started(nil), s.started...)
}

// Cancelled lists the executions executions.cancel was called for.
func (s *Server) Cancelled() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cancelled...)
}

// LogRequests lists the entries.list requests received.
func (s *Server) LogRequests() []logging.ListLogEntriesRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]logging.ListLogEntriesRequest(nil), s.logReqs...)
}

// Authorizations lists the Authorization header of every request.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

// ServiceReads is how many services.get a service answered.
func (s *Server) ServiceReads(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.svcReads[name]
}
