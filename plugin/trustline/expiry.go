package trustline

import (
	"context"

	"github.com/ilpkit/ilpkit/ledger"
)

// The Server, not its views, watches the expiry of prepared transfers: one
// pluginkit.Expiries on the injected clock, started by Connect (which arms
// every transfer the backend holds prepared) and stopped by Close. Views
// may connect and disconnect at will; an expiry happens while the Server
// is connected, and a transfer whose time came while no Server was
// connected expires as soon as one connects.

// watchExpiry schedules the expiry of prepared transfer t, or expires it
// now when it is due.
func (s *Server) watchExpiry(t ledger.Transfer) {
	if !s.clock.Now().Before(t.ExpiresAt) {
		s.expire(context.Background(), t.ID)
		return
	}
	s.timers.Add(t.ID, t.ExpiresAt)
}

// onExpiry runs when the expiry of transfer id comes.
func (s *Server) onExpiry(id string) {
	if !s.gate.Enter() {
		return // closed: the next Connect arms it again
	}
	defer s.gate.Exit()
	s.expire(context.Background(), id)
}

// expire cancels transfer id if it is still prepared and due, with an R00
// Transfer Timed Out rejection triggered by the ledger prefix; both
// accounts get their cancel events. A timer that fired early is armed
// again.
func (s *Server) expire(ctx context.Context, id string) {
	rec, found, err := s.record(ctx, id)
	if err != nil {
		s.logger.Error("trustline: expiry", "transfer", id, "err", err)
		return
	}
	if !found || rec.State != ledger.StatePrepared {
		return
	}
	now := s.clock.Now()
	if now.Before(rec.Transfer.ExpiresAt) {
		s.timers.Add(id, rec.Transfer.ExpiresAt)
		return
	}
	err = s.cancel(ctx, rec.Transfer, ledger.EventIncomingCancel, ledger.EventOutgoingCancel, ledger.Timeout(s.prefix, now))
	if err != nil && ledger.ErrorName(err) != ledger.NameAlreadyFulfilled {
		s.logger.Error("trustline: expiry", "transfer", id, "err", err)
	}
}
