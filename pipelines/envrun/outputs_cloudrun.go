package envrun

import (
	"fmt"
	"regexp"
	"strings"
)

// CloudRunServices are gcp/'s long-running Dagster services (Cloud Run)
// that must run the release.
type CloudRunServices struct {
	Launcher string `json:"launcher"`
	Project  string `json:"project"`
	Region   string `json:"region"`
	// Services maps a role to its service and the revision the apply gave
	// it (the release's).
	Services map[string]CloudRunService `json:"services"`
}

// CloudRunService is one Cloud Run service and its release revision.
type CloudRunService struct {
	Name string `json:"name"`
	// Revision is the service's latest ready revision after the apply, a
	// short name or projects/…/revisions/<name>.
	Revision string `json:"revision"`
}

// CloudRunJob is a one-off Cloud Run job and where it is.
type CloudRunJob struct {
	Launcher string `json:"launcher"`
	Job      string `json:"job"`
	Project  string `json:"project"`
	Region   string `json:"region"`
}

// CloudRunGate is the quality gate's job: its report lands under ReportURI.
type CloudRunGate struct {
	CloudRunJob
	RunIDVariable string `json:"run_id_variable"`
	ReportURI     string `json:"report_uri"`
}

var (
	// Project ids, optionally domain-scoped (example.com:project).
	gcpProject = regexp.MustCompile(`^([a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	gcpRegion  = regexp.MustCompile(`^[a-z]+(-[a-z]+)+[0-9]+$`)
	// Cloud Run service, job and revision names (DNS labels).
	cloudRunName     = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	cloudRunRevision = regexp.MustCompile(`^(projects/[^/]+/locations/[^/]+/services/[^/]+/revisions/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	gsURI            = regexp.MustCompile(`^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[A-Za-z0-9!_.*'()/-]*)?$`)
)

func projectRegionOK(project, region string) error {
	if !gcpProject.MatchString(project) {
		return fmt.Errorf("project %q is not a Google Cloud project id", project)
	}
	if !gcpRegion.MatchString(region) {
		return fmt.Errorf("region %q is not a Google Cloud region (e.g. europe-west1)", region)
	}
	return nil
}

func (s CloudRunServices) validate() error {
	if s.Launcher != LauncherCloudRun {
		return fmt.Errorf("launcher %q: Cloud Run services need launcher %q", s.Launcher, LauncherCloudRun)
	}
	if err := projectRegionOK(s.Project, s.Region); err != nil {
		return err
	}
	if len(s.Services) == 0 {
		return fmt.Errorf("no services listed")
	}
	for role, svc := range s.Services {
		if !cloudRunName.MatchString(svc.Name) || !cloudRunRevision.MatchString(svc.Revision) {
			return fmt.Errorf("service %s: needs a Cloud Run service name and revision, got %q and %q", role, svc.Name, svc.Revision)
		}
	}
	return nil
}

func (j CloudRunJob) validate() error {
	if j.Launcher != LauncherCloudRunJob {
		return fmt.Errorf("launcher %q: a Cloud Run job needs launcher %q", j.Launcher, LauncherCloudRunJob)
	}
	if err := projectRegionOK(j.Project, j.Region); err != nil {
		return err
	}
	if !cloudRunName.MatchString(j.Job) {
		return fmt.Errorf("job %q is not a Cloud Run job name", j.Job)
	}
	return nil
}

func (g CloudRunGate) validate() error {
	if err := g.CloudRunJob.validate(); err != nil {
		return err
	}
	if !runIDVar.MatchString(g.RunIDVariable) {
		return fmt.Errorf("run_id_variable %q is not an environment variable name", g.RunIDVariable)
	}
	if !gsURI.MatchString(g.ReportURI) {
		return fmt.Errorf("report_uri %q is not a gs://bucket/prefix URI", g.ReportURI)
	}
	return nil
}

// Roles lists the services' roles in a stable order.
func (s CloudRunServices) Roles() []string { return sortedRoles(s.Services) }

// ServiceName is the API resource name of one of the services.
func (s CloudRunServices) ServiceName(name string) string {
	return "projects/" + s.Project + "/locations/" + s.Region + "/services/" + name
}

// Name is the job's API resource name.
func (j CloudRunJob) Name() string {
	return "projects/" + j.Project + "/locations/" + j.Region + "/jobs/" + j.Job
}

// ReportObject is where a gate run's report is: bucket and object name of
// <report_uri>/<run id>/gate.json.
func (g CloudRunGate) ReportObject(runID string) (bucket, object string) {
	return reportKey(g.ReportURI, runID)
}

// ShortName is the last segment of a resource name (a revision, an
// execution): what people and logs call it.
func ShortName(name string) string {
	return name[strings.LastIndex(name, "/")+1:]
}
