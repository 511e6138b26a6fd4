package envrun

import (
	"context"
	"time"
)

// Pacing shared by the runners of every platform (ECS here, Cloud Run in
// envrun/cloudrun): how often they read a status, how they wait, and when
// failed reads mean the work cannot be followed.

// DefaultPoll is the wait between two status reads when none is set.
const DefaultPoll = 6 * time.Second

// MaxPollFailures is how many status reads in a row may fail before a
// runner gives up (the clients already retry each read).
const MaxPollFailures = 5

// PollInterval is d, or DefaultPoll when d is not positive.
func PollInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultPoll
	}
	return d
}

// Pause waits d, or less when ctx ends first (then it returns ctx's
// error); a non-nil sleep replaces the wait (tests).
func Pause(ctx context.Context, d time.Duration, sleep func(context.Context, time.Duration) error) error {
	if sleep != nil {
		return sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
