package cloudruntest

// The fake's REST handlers: the paths and bodies of the Cloud Run Admin API
// v2 and the Cloud Logging API v2 that the runner uses.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	logging "google.golang.org/api/logging/v2"
	run "google.golang.org/api/run/v2"
)

var (
	apiPath      = regexp.MustCompile(`^/v2/projects/([^/]+)/locations/([^/]+)/(.+)$`)
	logExecution = regexp.MustCompile(`labels\."run\.googleapis\.com/execution_name"="([^"]+)"`)
)

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/v2/entries:list" && r.Method == http.MethodPost {
		s.listEntries(w, r)
		return
	}
	m := apiPath.FindStringSubmatch(r.URL.Path)
	if m == nil || m[1] != Project || m[2] != Region {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "no such resource: "+r.URL.Path)
		return
	}
	parts := strings.Split(m[3], "/")
	get := r.Method == http.MethodGet
	switch {
	case get && len(parts) == 2 && parts[0] == "services":
		s.getService(w, parts[1])
	case get && len(parts) == 2 && parts[0] == "jobs":
		if j, ok := s.jobs[parts[1]]; ok {
			reply(w, j.spec)
			return
		}
		apiError(w, http.StatusNotFound, "NOT_FOUND", "Resource '"+parts[1]+"' of kind 'JOB' in region '"+Region+"' in project '"+Project+"' does not exist.")
	case !get && len(parts) == 2 && parts[0] == "jobs" && strings.HasSuffix(parts[1], ":run"):
		s.runJob(w, r, strings.TrimSuffix(parts[1], ":run"))
	case len(parts) == 4 && parts[0] == "jobs" && parts[2] == "executions":
		if get {
			s.getExecution(w, m[3])
		} else if exec, ok := strings.CutSuffix(m[3], ":cancel"); ok {
			s.cancel(w, exec)
		}
	case get && len(parts) == 5 && parts[0] == "jobs" && parts[4] == "tasks":
		s.listTasks(w, strings.TrimSuffix(m[3], "/tasks"))
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "no such method: "+r.Method+" "+r.URL.Path)
	}
}

func (s *Server) failingRead(w http.ResponseWriter) bool {
	if s.failReads <= 0 {
		return false
	}
	s.failReads--
	apiError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The service is currently unavailable.")
	return true
}

func (s *Server) getService(w http.ResponseWriter, name string) {
	states, ok := s.services[name]
	if !ok {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "Resource '"+name+"' of kind 'SERVICE' in region '"+Region+"' in project '"+Project+"' does not exist.")
		return
	}
	if s.failingRead(w) {
		return
	}
	i := min(s.svcReads[name], len(states)-1)
	s.svcReads[name]++
	reply(w, states[i])
}

func (s *Server) runJob(w http.ResponseWriter, r *http.Request, name string) {
	j, ok := s.jobs[name]
	if !ok {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "job "+name+" does not exist")
		return
	}
	var req run.GoogleCloudRunV2RunJobRequest
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	execName := fmt.Sprintf("%s/executions/%s-r%04d", j.spec.Name, name, len(s.started)+1)
	st := Started{Job: name, Execution: execName, Request: req}
	st.Argv, st.Env = effective(j.spec.Template.Template.Containers[0], req.Overrides)
	s.started = append(s.started, st)
	s.executions[execName] = &execution{job: j}
	if j.onRun != nil {
		j.onRun(st)
	}
	meta, _ := json.Marshal(map[string]any{"@type": "type.googleapis.com/google.cloud.run.v2.Execution", "name": execName, "job": name, "createTime": "2026-12-02T10:00:00Z"})
	reply(w, &run.GoogleLongrunningOperation{Name: s.name("operations", fmt.Sprintf("op-%d", len(s.started))), Metadata: meta})
}

// effective is what a container runs after overrides: Cloud Run merges the
// env and replaces the args (clearArgs empties them).
func effective(c *run.GoogleCloudRunV2Container, o *run.GoogleCloudRunV2Overrides) ([]string, map[string]string) {
	args := c.Args
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if o != nil {
		for _, co := range o.ContainerOverrides {
			if co.Name != c.Name {
				continue
			}
			if len(co.Args) > 0 || co.ClearArgs {
				args = co.Args
			}
			for _, e := range co.Env {
				env[e.Name] = e.Value
			}
		}
	}
	return append(append([]string{}, c.Command...), args...), env
}

func (s *Server) getExecution(w http.ResponseWriter, name string) {
	e, ok := s.executions[prefix+name]
	if !ok {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "execution "+name+" does not exist")
		return
	}
	if s.failingRead(w) {
		return
	}
	var st run.GoogleCloudRunV2Execution
	if e.cancelled {
		st = *Cancelled()
	} else {
		st = *e.job.lifecycle[min(e.reads, len(e.job.lifecycle)-1)]
		e.reads++
	}
	st.Name = prefix + name
	reply(w, &st)
}

func (s *Server) cancel(w http.ResponseWriter, name string) {
	full := prefix + name
	e, ok := s.executions[full]
	if !ok {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "execution "+name+" does not exist")
		return
	}
	e.cancelled = true
	s.cancelled = append(s.cancelled, full)
	reply(w, &run.GoogleLongrunningOperation{Name: s.name("operations", "cancel-"+envShort(full))})
}

func (s *Server) listTasks(w http.ResponseWriter, execName string) {
	full := prefix + execName
	e, ok := s.executions[full]
	if !ok {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "execution "+execName+" does not exist")
		return
	}
	task := &run.GoogleCloudRunV2Task{Name: full + "/tasks/" + envShort(full) + "-task0", Index: 0, LastAttemptResult: e.job.attempt}
	reply(w, &run.GoogleCloudRunV2ListTasksResponse{Tasks: []*run.GoogleCloudRunV2Task{task}})
}

func (s *Server) listEntries(w http.ResponseWriter, r *http.Request) {
	var req logging.ListLogEntriesRequest
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	s.logReqs = append(s.logReqs, req)
	if s.failLogs {
		apiError(w, http.StatusForbidden, "PERMISSION_DENIED", "Permission 'logging.logEntries.list' denied on resource (or it may not exist).")
		return
	}
	out := &logging.ListLogEntriesResponse{}
	m := logExecution.FindStringSubmatch(req.Filter)
	if m == nil || !strings.Contains(req.Filter, `resource.type="cloud_run_job"`) {
		reply(w, out)
		return
	}
	for name, e := range s.executions {
		if envShort(name) != m[1] {
			continue
		}
		// Newest first, as orderBy "timestamp desc" asks.
		for i := len(e.job.logs) - 1; i >= 0 && (req.PageSize == 0 || int64(len(out.Entries)) < req.PageSize); i-- {
			out.Entries = append(out.Entries, &logging.LogEntry{TextPayload: e.job.logs[i], Labels: map[string]string{"run.googleapis.com/execution_name": m[1]}})
		}
	}
	reply(w, out)
}

func envShort(name string) string { return name[strings.LastIndex(name, "/")+1:] }

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// apiError writes the error body of Google's REST APIs.
func apiError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}
