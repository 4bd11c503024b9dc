package web

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
)

// An event stream reports every payment of its user that appears or
// changes state, however many change between two looks (payments in
// flight by the hundred, a slow one finishing after many newer ones), with
// bounded work per look: a tracker remembers the states it reported.
const (
	// trackPage is how many payments a look reads at a time, newest
	// first.
	trackPage = 50
	// trackSlack is how far before the newest payment seen a look reads
	// again: a payment is recorded with its creation time and committed
	// at once, so one that commits after a newer one is never older than
	// this.
	trackSlack = 10 * time.Second
	// trackScan bounds the payments a look reads; past it, the oldest new
	// ones are not reported (a client reloads its history now and then).
	trackScan = 1000
	// trackPending bounds the pending payments followed beyond the scan.
	trackPending = 1000
)

// paymentLister is what a tracker reads.
type paymentLister interface {
	Payments(ctx context.Context, userID int64, after store.Cursor, limit int) ([]store.Payment, error)
	Payment(ctx context.Context, id string) (store.Payment, error)
}

type trackedState struct {
	state string
	at    time.Time
}

// tracker follows one user's payments for an event stream.
type tracker struct {
	st     paymentLister
	userID int64
	seen   map[string]trackedState // reported (or there at the start)
	newest time.Time               // creation time of the newest payment seen
}

// newTracker starts from the user's newest payments, which the stream's
// client has from the history: they are not reported, only their changes.
func newTracker(ctx context.Context, st paymentLister, userID int64) (*tracker, error) {
	t := &tracker{st: st, userID: userID, seen: map[string]trackedState{}}
	ps, err := st.Payments(ctx, userID, store.Cursor{}, trackPage)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		t.note(p)
	}
	return t, nil
}

func (t *tracker) note(p store.Payment) {
	t.seen[p.ID] = trackedState{p.State, p.CreatedAt}
	if p.CreatedAt.After(t.newest) {
		t.newest = p.CreatedAt
	}
}

// changes returns the payments that appeared or changed state since the
// last look, oldest first.
func (t *tracker) changes(ctx context.Context) ([]store.Payment, error) {
	var out []store.Payment
	visited := map[string]bool{}
	horizon := t.newest.Add(-trackSlack)
	var cursor store.Cursor
	for read := 0; read < trackScan; {
		ps, err := t.st.Payments(ctx, t.userID, cursor, trackPage)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			visited[p.ID] = true
			s, ok := t.seen[p.ID]
			if !ok && p.CreatedAt.Before(horizon) {
				continue // reported and forgotten (see forget)
			}
			if !ok || s.state != p.State {
				out = append(out, p)
			}
		}
		read += len(ps)
		if len(ps) < trackPage || ps[len(ps)-1].CreatedAt.Before(horizon) {
			break
		}
		last := ps[len(ps)-1]
		cursor = store.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	// Pending payments older than the scan: read one by one.
	for id, s := range t.seen {
		if s.state != store.PaymentPending || visited[id] {
			continue
		}
		p, err := t.st.Payment(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			delete(t.seen, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		if p.State != s.state {
			out = append(out, p)
		}
	}
	for _, p := range out {
		t.note(p)
	}
	t.forget()
	slices.SortFunc(out, func(a, b store.Payment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmpString(a.ID, b.ID)
	})
	return out, nil
}

// forget drops the finished payments older than the horizon of the next
// looks (which skip the payments older than their horizon that they do not
// know), and the oldest pending ones past trackPending.
func (t *tracker) forget() {
	horizon := t.newest.Add(-trackSlack)
	var pending []string
	for id, s := range t.seen {
		switch {
		case s.state == store.PaymentPending:
			pending = append(pending, id)
		case s.at.Before(horizon):
			delete(t.seen, id)
		}
	}
	if len(pending) > trackPending {
		slices.SortFunc(pending, func(a, b string) int { return t.seen[a].at.Compare(t.seen[b].at) })
		for _, id := range pending[:len(pending)-trackPending] {
			delete(t.seen, id)
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
