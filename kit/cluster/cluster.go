// Package cluster owns what the processes of one kit sharing a PostgreSQL
// database know of each other: which of them leads (holds the kit's
// advisory lock, and so runs the timers only one process may run: route
// broadcasts, the janitor, the expiry of transfers whose process died), and
// a message bus over LISTEN/NOTIFY that carries events from the process
// that committed them to the others.
//
// Messages are notifications, never decisions: a process acts on money only
// with the atomic result of its own database statement; what it hears on
// the bus tells it to look again (a user's payments changed), to pass an
// event on to a connected client, or to arm a timer. A message may be lost
// when a process dies between its commit and its notify, or while a
// listener reconnects (then Resync runs), so every receiver also has a way
// to catch up from the database.
//
// Solo is the single-process cluster (SQLite, or PostgreSQL used by one
// process): it always leads and publishes to nobody.
package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Handler receives the data of one message of its topic. Handlers run one
// at a time, in the order the messages were published by their process, on
// the listener's goroutine: they must not block (hand slow work to a
// goroutine).
type Handler func(data []byte)

// Callbacks are what a process does when its role changes.
type Callbacks struct {
	// Lead runs while this process leads; ctx ends when it stops leading
	// (lost connection, Close). It is called again at the next
	// takeover.
	Lead func(ctx context.Context)
	// Resync runs each time the listener (re)connects: messages sent
	// before may have been missed, so the process reloads what it caches.
	Resync func()
	// Lost runs in the leader, in a goroutine of its own, when another
	// process left without a word (its connections ended: killed, or cut
	// off): the leader finishes what it left. ctx ends with the
	// leadership.
	Lost func(ctx context.Context)
}

// Solo is the cluster of a process alone on its database.
type Solo struct{}

// Publish does nothing: there is nobody else.
func (Solo) Publish(string, []byte) {}

// Handle does nothing: no message ever comes.
func (Solo) Handle(string, Handler) {}

// Run leads until ctx ends.
func (Solo) Run(ctx context.Context, cb Callbacks) {
	if cb.Lead != nil {
		cb.Lead(ctx)
	}
	<-ctx.Done()
}

// Leader reports true: a process alone leads.
func (Solo) Leader() bool { return true }

// envelope is the payload of one NOTIFY: the publishing process and its
// messages in order. A message whose data is too large for a NOTIFY is
// stored in the bus table and carries its row id instead.
type envelope struct {
	From string    `json:"f"`
	Msgs []message `json:"m"`
}

type message struct {
	Topic string          `json:"t"`
	Data  json.RawMessage `json:"d,omitempty"`
	Row   int64           `json:"r,omitempty"`
}

func discard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
