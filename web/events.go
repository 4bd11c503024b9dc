package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// Heartbeat is how often an idle event stream gets a comment, so that
// proxies keep it open and clients notice a dead one.
const Heartbeat = 15 * time.Second

// Close ends the open event streams (call it when the HTTP server shuts
// down: http.Server.RegisterOnShutdown).
func (s *Server) Close() {
	s.api.once.Do(func() { close(s.api.closed) })
	// The trustline WebSockets are hijacked connections, which
	// http.Server.Shutdown neither waits for nor closes.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.tl.Close(ctx)
}

// events is GET /api/events: a server-sent-event stream of the caller's
// changes. "balance" carries {"balance": "<base units>"} (first at once,
// then after each change); "payment" carries a payment as the history
// shows it, each time one appears or changes state. Comments every
// Heartbeat keep it open.
func (a *api) events(w http.ResponseWriter, r *http.Request, c *caller) error {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		return nil
	}
	ctx := r.Context()
	k := a.s.k
	ch, stop := k.Watch(c.user.ID)
	defer stop()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})

	bal, err := k.Balance(ctx, c.user.Username)
	if err != nil {
		return err
	}
	track, err := newTracker(ctx, k.Store(), c.user.ID)
	if err != nil {
		return err
	}

	beat := make(chan struct{}, 1)
	var timer ledger.Timer
	arm := func() {
		timer = a.clock.AfterFunc(Heartbeat, func() {
			select {
			case beat <- struct{}{}:
			default:
			}
		})
	}
	// Armed before the first event, so that a client that saw it can
	// count on the heartbeat.
	arm()
	defer func() { timer.Stop() }()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return nil
	}
	if send("balance", map[string]string{"balance": bal.String()}) != nil {
		return nil
	}

	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.closed:
			return nil
		case <-beat:
			// A stream lasts as long as its credentials: a signed-out
			// session or a revoked token ends it.
			if !a.stillValid(r, c) {
				return nil
			}
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
			arm()
		case <-ch:
			ps, err := track.changes(ctx)
			if err != nil {
				a.s.log.Warn("event stream", "user", c.user.Username, "err", err)
				continue
			}
			for _, p := range ps {
				if send("payment", a.paymentView(p)) != nil {
					return nil
				}
			}
			if b, err := k.Balance(ctx, c.user.Username); err == nil && b != bal {
				bal = b
				if send("balance", map[string]string{"balance": bal.String()}) != nil {
					return nil
				}
			}
		}
	}
}

// stillValid tells whether the credentials a stream was opened with still
// hold (Basic ones are not checked again: that would cost a password hash
// per heartbeat).
func (a *api) stillValid(r *http.Request, c *caller) bool {
	switch c.via {
	case "cookie":
		_, _, err := a.s.k.SessionUser(r.Context(), c.token)
		return err == nil
	case "bearer":
		_, err := a.s.k.UserByToken(r.Context(), c.token)
		return err == nil
	}
	return true
}
