package cloudrun

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	run "google.golang.org/api/run/v2"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun"
	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/envrun/cloudrun/cloudruntest"
)

const (
	dagsterImage = "europe-west1-docker.pkg.dev/lake-qa-1234/lakehouse/dagster@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	revPrefix    = "projects/lake-qa-1234/locations/europe-west1/services/"
)

// revision is the full name terraform's latest_ready_revision gives.
func revision(service, suffix string) string {
	return revPrefix + service + "/revisions/" + service + "-" + suffix
}

func dagsterServices() envrun.CloudRunServices {
	svc := func(name string) envrun.CloudRunService {
		return envrun.CloudRunService{Name: name, Revision: revision(name, "00007-xyz")}
	}
	return envrun.CloudRunServices{Launcher: envrun.LauncherCloudRun, Project: cloudruntest.Project, Region: cloudruntest.Region,
		Services: map[string]envrun.CloudRunService{"code_server": svc("lake-qa-dagster-code"), "daemon": svc("lake-qa-dagster-daemon"), "webserver": svc("lake-qa-dagster-web")}}
}

// allReady scripts every service ready on the apply's revision.
func allReady(f *cloudruntest.Server) {
	for _, s := range dagsterServices().Services {
		f.Service(s.Name, cloudruntest.ReadyService(s.Revision, dagsterImage))
	}
}

func TestWaitServicesWhenTheReleaseRuns(t *testing.T) {
	f := cloudruntest.New(t)
	allReady(f)
	r, progress := runner(t, f)
	require.NoError(t, r.WaitServices(context.Background(), dagsterServices(), dagsterImage, time.Minute))
	assert.Len(t, *progress, 3, "one line per service")
	assert.Contains(t, (*progress)[0], "service lake-qa-dagster-code: revision lake-qa-dagster-code-00007-xyz ready with all traffic")
}

func TestWaitServicesWhileARevisionRollsOut(t *testing.T) {
	f := cloudruntest.New(t)
	allReady(f)
	want := revision("lake-qa-dagster-daemon", "00007-xyz")
	f.Service("lake-qa-dagster-daemon",
		cloudruntest.RollingOut(want, revision("lake-qa-dagster-daemon", "00006-old"), dagsterImage),
		func() *run.GoogleCloudRunV2Service {
			s := cloudruntest.ReadyService(want, dagsterImage)
			s.TrafficStatuses[0].Percent = 0
			return s
		}(),
		cloudruntest.ReadyService(want, dagsterImage))
	r, progress := runner(t, f)
	require.NoError(t, r.WaitServices(context.Background(), dagsterServices(), dagsterImage, time.Minute))
	assert.Equal(t, 3, f.ServiceReads("lake-qa-dagster-daemon"), "settling states are read again")
	assert.Contains(t, *progress, "service lake-qa-dagster-daemon: reconciling, revision lake-qa-dagster-daemon-00007-xyz created, lake-qa-dagster-daemon-00006-old ready")
	assert.Contains(t, *progress, "service lake-qa-dagster-daemon: 0% of traffic on lake-qa-dagster-daemon-00007-xyz")
}

func TestWaitServicesFailsAtOnceWhenAnotherRevisionServes(t *testing.T) {
	f := cloudruntest.New(t)
	allReady(f)
	f.Service("lake-qa-dagster-code", cloudruntest.ReadyService(revision("lake-qa-dagster-code", "00008-new"), dagsterImage))
	r, _ := runner(t, f)
	err := r.WaitServices(context.Background(), dagsterServices(), dagsterImage, time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service lake-qa-dagster-code serves revision lake-qa-dagster-code-00008-new, not the apply's lake-qa-dagster-code-00007-xyz: another deploy replaced the release")
	assert.Equal(t, 1, f.ServiceReads("lake-qa-dagster-code"), "no waiting for what will not change")
}

func TestWaitServicesFailsOnAFailedTerminalCondition(t *testing.T) {
	f := cloudruntest.New(t)
	allReady(f)
	svc := cloudruntest.ReadyService(revision("lake-qa-dagster-web", "00007-xyz"), dagsterImage)
	svc.LatestCreatedRevision = revision("lake-qa-dagster-web", "00008-bad")
	svc.TerminalCondition.State = "CONDITION_FAILED"
	svc.TerminalCondition.Message = "Revision 'lake-qa-dagster-web-00008-bad' is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port defined provided by the PORT=3000 environment variable."
	f.Service("lake-qa-dagster-web", svc)
	r, _ := runner(t, f)
	err := r.WaitServices(context.Background(), dagsterServices(), dagsterImage, time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service lake-qa-dagster-web failed to serve revision lake-qa-dagster-web-00008-bad: Revision 'lake-qa-dagster-web-00008-bad' is not ready")
	assert.Contains(t, err.Error(), "failed to start and listen on the port")
}

func TestWaitServicesRefusesAnotherImage(t *testing.T) {
	f := cloudruntest.New(t)
	allReady(f)
	r, _ := runner(t, f)
	err := r.WaitServices(context.Background(), dagsterServices(), dagsterImage+"0", time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "runs "+dagsterImage+", not the release's image "+dagsterImage+"0")
}

func TestWaitServicesTimesOutSayingWhatEachWasDoing(t *testing.T) {
	f := cloudruntest.New(t)
	allReady(f)
	want := revision("lake-qa-dagster-daemon", "00007-xyz")
	f.Service("lake-qa-dagster-daemon", cloudruntest.RollingOut(want, revision("lake-qa-dagster-daemon", "00006-old"), dagsterImage))
	split := cloudruntest.ReadyService(revision("lake-qa-dagster-web", "00007-xyz"), dagsterImage)
	split.TrafficStatuses[0].Percent = 50
	f.Service("lake-qa-dagster-web", split)
	r, _ := runner(t, f)
	err := r.WaitServices(context.Background(), dagsterServices(), dagsterImage, 50*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the services did not all run the release within 50ms:\n"+
		"  service lake-qa-dagster-code: revision lake-qa-dagster-code-00007-xyz ready with all traffic\n"+
		"  service lake-qa-dagster-daemon: reconciling, revision lake-qa-dagster-daemon-00007-xyz created, lake-qa-dagster-daemon-00006-old ready\n"+
		"  service lake-qa-dagster-web: 50% of traffic on lake-qa-dagster-web-00007-xyz")
}

func TestWaitServicesRetriesPassingErrorsAndGivesUpOnARun(t *testing.T) {
	f := cloudruntest.New(t)
	allReady(f)
	r, _ := runner(t, f)
	f.FailReads(maxPollFailures - 1)
	require.NoError(t, r.WaitServices(context.Background(), dagsterServices(), dagsterImage, time.Minute), "a few 503s are retried")

	f.FailReads(maxPollFailures)
	err := r.WaitServices(context.Background(), dagsterServices(), dagsterImage, time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "5 reads in a row failed")
	assert.Contains(t, err.Error(), "currently unavailable")

	missing := dagsterServices()
	missing.Services["extra"] = envrun.CloudRunService{Name: "lake-qa-dagster-extra", Revision: "lake-qa-dagster-extra-00001-abc"}
	err = r.WaitServices(context.Background(), missing, dagsterImage, time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service lake-qa-dagster-extra: 404", "a missing service is not retried")
}

func TestJudgeService(t *testing.T) {
	want := revision("lake-qa-dagster-code", "00007-xyz")
	old, next := revision("lake-qa-dagster-code", "00006-old"), revision("lake-qa-dagster-code", "00008-new")
	edit := func(s *run.GoogleCloudRunV2Service, f func(*run.GoogleCloudRunV2Service)) *run.GoogleCloudRunV2Service {
		s.Name = revPrefix + "lake-qa-dagster-code"
		f(s)
		return s
	}
	cases := map[string]struct {
		svc   *run.GoogleCloudRunV2Service
		state ServiceState
		why   string
	}{
		"ready":                {edit(cloudruntest.ReadyService(want, dagsterImage), func(*run.GoogleCloudRunV2Service) {}), ServiceReady, "ready with all traffic"},
		"short revision names": {edit(cloudruntest.ReadyService("lake-qa-dagster-code-00007-xyz", dagsterImage), func(*run.GoogleCloudRunV2Service) {}), ServiceReady, "ready"},
		"apply's rolling out":  {edit(cloudruntest.RollingOut(want, old, dagsterImage), func(*run.GoogleCloudRunV2Service) {}), ServiceSettling, "reconciling"},
		"another rolling out":  {edit(cloudruntest.RollingOut(next, want, dagsterImage), func(*run.GoogleCloudRunV2Service) {}), ServiceFailed, "00008-new was created after the apply's"},
		"another ready":        {edit(cloudruntest.ReadyService(next, dagsterImage), func(*run.GoogleCloudRunV2Service) {}), ServiceFailed, "serves revision lake-qa-dagster-code-00008-new"},
		"new service pending": {edit(cloudruntest.ReadyService("", dagsterImage), func(s *run.GoogleCloudRunV2Service) {
			s.TerminalCondition.State = "CONDITION_PENDING"
		}), ServiceSettling, "pending, revision none ready"},
		"traffic pinned to old": {edit(cloudruntest.ReadyService(want, dagsterImage), func(s *run.GoogleCloudRunV2Service) {
			s.TrafficStatuses = []*run.GoogleCloudRunV2TrafficTargetStatus{{Type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", Revision: "lake-qa-dagster-code-00006-old", Percent: 100}}
		}), ServiceSettling, "0% of traffic"},
		"traffic pinned to the apply's": {edit(cloudruntest.ReadyService(want, dagsterImage), func(s *run.GoogleCloudRunV2Service) {
			s.TrafficStatuses = []*run.GoogleCloudRunV2TrafficTargetStatus{{Type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", Revision: "lake-qa-dagster-code-00007-xyz", Percent: 100}}
		}), ServiceReady, "ready"},
		"no traffic reported": {edit(cloudruntest.ReadyService(want, dagsterImage), func(s *run.GoogleCloudRunV2Service) { s.Traffic, s.TrafficStatuses = nil, nil }), ServiceReady, "ready"},
		"other image":         {edit(cloudruntest.ReadyService(want, "ghcr.io/acme/lakehouse@sha256:00"), func(*run.GoogleCloudRunV2Service) {}), ServiceFailed, "not the release's image"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			state, why := JudgeService(tc.svc, want, dagsterImage)
			assert.Equal(t, tc.state, state, why)
			assert.Contains(t, why, tc.why)
		})
	}
}
