package cloudrun

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	run "google.golang.org/api/run/v2"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
)

// ServiceState is what one read says of a service.
type ServiceState int

const (
	// ServiceSettling: Cloud Run is still reconciling toward the release.
	ServiceSettling ServiceState = iota
	// ServiceReady: the apply's revision is ready, serves all traffic and
	// runs the release's image.
	ServiceReady
	// ServiceFailed: the release's revision failed or was replaced; waiting
	// will not change it.
	ServiceFailed
)

// Condition states of the Cloud Run v2 API.
const (
	conditionSucceeded = "CONDITION_SUCCEEDED"
	conditionFailed    = "CONDITION_FAILED"
	trafficLatest      = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
)

// JudgeService decides from one services.get answer whether a service runs
// the release: not reconciling, its terminal condition succeeded, its latest
// ready and latest created revisions both the apply's (wantRevision), all
// traffic on it, and a container of its template running image. A failed
// terminal condition, or a revision newer than the apply's (someone
// deployed over the release), will not heal by waiting; the apply's own
// revision still rolling out will.
func JudgeService(svc *run.GoogleCloudRunV2Service, wantRevision, image string) (ServiceState, string) {
	name := envrun.ShortName(svc.Name)
	want := envrun.ShortName(wantRevision)
	ready := envrun.ShortName(svc.LatestReadyRevision)
	created := envrun.ShortName(svc.LatestCreatedRevision)
	tc := svc.TerminalCondition
	if tc == nil {
		tc = &run.GoogleCloudRunV2Condition{}
	}
	switch {
	case tc.State == conditionFailed:
		return ServiceFailed, fmt.Sprintf("service %s failed to serve revision %s: %s", name, orNone(created), orReason(tc.Message, tc.Reason))
	case created != "" && created != want && ready == created:
		return ServiceFailed, fmt.Sprintf("service %s serves revision %s, not the apply's %s: another deploy replaced the release%s", name, ready, want, suffix(tc.Message))
	case created != "" && created != want:
		return ServiceFailed, fmt.Sprintf("service %s: revision %s was created after the apply's %s: another deploy is replacing the release%s", name, created, want, suffix(tc.Message))
	case ready != "" && ready != want && !svc.Reconciling:
		return ServiceFailed, fmt.Sprintf("service %s serves revision %s, not the apply's %s%s", name, ready, want, suffix(tc.Message))
	case svc.Reconciling:
		return ServiceSettling, fmt.Sprintf("service %s: reconciling, revision %s created, %s ready", name, orNone(created), orNone(ready))
	case tc.State != conditionSucceeded || ready != want:
		return ServiceSettling, fmt.Sprintf("service %s: %s, revision %s ready%s", name, strings.ToLower(strings.TrimPrefix(orNone(tc.State), "CONDITION_")), orNone(ready), suffix(tc.Message))
	}
	if pct := trafficTo(svc, want); pct != 100 {
		return ServiceSettling, fmt.Sprintf("service %s: %d%% of traffic on %s", name, pct, want)
	}
	if images := templateImages(svc); !slices.Contains(images, image) {
		return ServiceFailed, fmt.Sprintf("service %s runs %s, not the release's image %s", name, strings.Join(images, ", "), image)
	}
	return ServiceReady, fmt.Sprintf("service %s: revision %s ready with all traffic", name, want)
}

// trafficTo is the percent of traffic Cloud Run routes to revision: the
// statuses (what is live) when it reports them, else the spec, else the
// API's default of all traffic to the latest ready revision.
func trafficTo(svc *run.GoogleCloudRunV2Service, revision string) int64 {
	type target struct {
		typ, revision string
		percent       int64
	}
	var targets []target
	for _, t := range svc.TrafficStatuses {
		targets = append(targets, target{t.Type, t.Revision, t.Percent})
	}
	if len(targets) == 0 {
		for _, t := range svc.Traffic {
			targets = append(targets, target{t.Type, t.Revision, t.Percent})
		}
	}
	if len(targets) == 0 {
		targets = []target{{trafficLatest, "", 100}}
	}
	var pct int64
	for _, t := range targets {
		latest := t.typ == trafficLatest && envrun.ShortName(svc.LatestReadyRevision) == revision
		if latest || (t.typ != trafficLatest && envrun.ShortName(t.revision) == revision) {
			pct += t.percent
		}
	}
	return pct
}

func templateImages(svc *run.GoogleCloudRunV2Service) []string {
	var images []string
	if svc.Template != nil {
		for _, c := range svc.Template.Containers {
			images = append(images, c.Image)
		}
	}
	if len(images) == 0 {
		images = []string{"no container"}
	}
	return images
}

// WaitServices waits until every service runs the apply's revision with
// image (the release's Dagster image), fails as soon as one failed or was
// replaced, and gives up after timeout saying what each service was doing.
// Passing API errors are retried; maxPollFailures rounds in a row give up.
func (r *Runner) WaitServices(ctx context.Context, s envrun.CloudRunServices, image string, timeout time.Duration) error {
	if image == "" {
		return fmt.Errorf("no Dagster image to check the services against (terraform output dagster_image is empty)")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	roles := s.Roles()
	last := map[string]string{}
	failures := 0
	for {
		ready, readErr := 0, error(nil)
		for _, role := range roles {
			svc := s.Services[role]
			got, err := r.Run.Projects.Locations.Services.Get(s.ServiceName(svc.Name)).Context(ctx).Do()
			if err != nil {
				if ctx.Err() != nil {
					return servicesTimeout(timeout, s, last)
				}
				if permanent(err) {
					return fmt.Errorf("service %s: %s", svc.Name, apiMessage(err))
				}
				readErr = err
				break
			}
			state, why := JudgeService(got, svc.Revision, image)
			if state == ServiceFailed {
				return fmt.Errorf("%s", why)
			}
			if last[role] != why {
				r.say("%s", why)
			}
			last[role] = why
			if state == ServiceReady {
				ready++
			}
		}
		if readErr != nil {
			if failures++; failures >= maxPollFailures {
				return fmt.Errorf("get services: %d reads in a row failed, the last: %w", failures, readErr)
			}
			r.say("cannot read the services (%s); retrying", apiMessage(readErr))
		} else {
			failures = 0
			if ready == len(roles) {
				return nil
			}
		}
		if err := r.wait(ctx); err != nil {
			return servicesTimeout(timeout, s, last)
		}
	}
}

func servicesTimeout(timeout time.Duration, s envrun.CloudRunServices, last map[string]string) error {
	var lines []string
	for _, role := range s.Roles() {
		why, ok := last[role]
		if !ok {
			why = "service " + s.Services[role].Name + ": not read yet"
		}
		lines = append(lines, "  "+why)
	}
	return fmt.Errorf("the services did not all run the release within %s:\n%s", timeout, strings.Join(lines, "\n"))
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

func orReason(msg, reason string) string {
	if msg != "" {
		return msg
	}
	if reason != "" {
		return reason
	}
	return "Cloud Run gave no reason"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
