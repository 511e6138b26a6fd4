package cloudruntest

import (
	run "google.golang.org/api/run/v2"
)

// The states below are shaped as the Cloud Run v2 API reports them; tests
// edit them to script other ones.

// ReadyService is a service whose revision is ready, serves all traffic and
// runs image: what services.get answers once an apply has settled.
func ReadyService(revision, image string) *run.GoogleCloudRunV2Service {
	return &run.GoogleCloudRunV2Service{
		LatestCreatedRevision: revision,
		LatestReadyRevision:   revision,
		TerminalCondition:     &run.GoogleCloudRunV2Condition{Type: "Ready", State: "CONDITION_SUCCEEDED"},
		Template:              &run.GoogleCloudRunV2RevisionTemplate{Containers: []*run.GoogleCloudRunV2Container{{Image: image}}},
		Traffic:               []*run.GoogleCloudRunV2TrafficTarget{{Type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", Percent: 100}},
		TrafficStatuses:       []*run.GoogleCloudRunV2TrafficTargetStatus{{Type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", Percent: 100}},
	}
}

// RollingOut is a service reconciling toward revision (created, not yet
// ready) while previous still serves.
func RollingOut(revision, previous, image string) *run.GoogleCloudRunV2Service {
	s := ReadyService(previous, image)
	s.LatestCreatedRevision = revision
	s.Reconciling = true
	s.TerminalCondition = &run.GoogleCloudRunV2Condition{Type: "Ready", State: "CONDITION_RECONCILING", Message: "Deploying revision " + revision + "."}
	return s
}

// Pending is an execution not started yet.
func Pending() *run.GoogleCloudRunV2Execution {
	return &run.GoogleCloudRunV2Execution{TaskCount: 1, Conditions: []*run.GoogleCloudRunV2Condition{
		{Type: "ResourcesAvailable", State: "CONDITION_PENDING"}, {Type: "Completed", State: "CONDITION_PENDING"}}}
}

// Running is an execution whose task runs.
func Running() *run.GoogleCloudRunV2Execution {
	return &run.GoogleCloudRunV2Execution{TaskCount: 1, RunningCount: 1, StartTime: "2026-12-02T10:00:05Z", Conditions: []*run.GoogleCloudRunV2Condition{
		{Type: "ResourcesAvailable", State: "CONDITION_SUCCEEDED"}, {Type: "Started", State: "CONDITION_SUCCEEDED"}, {Type: "Completed", State: "CONDITION_RECONCILING"}}}
}

// Succeeded is an execution whose task exited 0.
func Succeeded() *run.GoogleCloudRunV2Execution {
	return &run.GoogleCloudRunV2Execution{TaskCount: 1, SucceededCount: 1, StartTime: "2026-12-02T10:00:05Z", CompletionTime: "2026-12-02T10:03:00Z",
		Conditions: []*run.GoogleCloudRunV2Condition{{Type: "Completed", State: "CONDITION_SUCCEEDED", Message: "Execution completed successfully in 2m55s."}}}
}

// Failed is an execution whose task failed; message is the Completed
// condition's (Cloud Run's words for a non-zero exit, an image it could not
// pull, a secret it could not read …).
func Failed(message string) *run.GoogleCloudRunV2Execution {
	return &run.GoogleCloudRunV2Execution{TaskCount: 1, FailedCount: 1, CompletionTime: "2026-12-02T10:03:00Z",
		Conditions: []*run.GoogleCloudRunV2Condition{{Type: "Completed", State: "CONDITION_FAILED", Message: message}}}
}

// Cancelled is an execution after executions.cancel.
func Cancelled() *run.GoogleCloudRunV2Execution {
	return &run.GoogleCloudRunV2Execution{TaskCount: 1, CancelledCount: 1, CompletionTime: "2026-12-02T10:03:00Z",
		Conditions: []*run.GoogleCloudRunV2Condition{{Type: "Completed", State: "CONDITION_FAILED", ExecutionReason: "CANCELLED", Message: "The execution was cancelled."}}}
}
