package ledger

import "time"

// Clock is the time source of a plugin: it tells the time and schedules the
// expiry of prepared transfers. Inject a manual clock in tests (the
// plugintest package has one) so expiry is tested without sleeping.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed, unless the
	// returned timer is stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a callback scheduled by a Clock. Stop prevents the call and
// reports whether it did (false when the call already started or the timer
// was already stopped).
type Timer interface {
	Stop() bool
}

// SystemClock is the Clock of the time package. Its zero value is ready
// to use.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
