package trustline

import (
	"context"
	"fmt"

	"github.com/ilpkit/ilpkit/ledger"
)

// Several processes may run a Server each on one shared backend (the kit's
// processes on one PostgreSQL database). Every step is an atomic statement
// of the backend, so they never disagree on money; what they must share is
// news. The process that commits a step emits its events to its own views
// and admin handlers, which act on them, and hands them to Config.Relay;
// the other processes pass them to Deliver, which tells their connected
// views (a user's client on another process's WebSocket) and, in the
// process that keeps the expiries (KeepExpiries), arms the expiry of
// transfers prepared elsewhere, so that a transfer whose process died
// still expires.

// Deliver passes on an event another process sharing the backend committed
// for account: the account's connected views receive it marked Remote
// (admin handlers do not: the committing process's handlers acted on it).
// The cached copy of the transfer is dropped, so this process reads its
// new state, and the account's held sum follows.
func (s *Server) Deliver(account string, ev ledger.Event) {
	if !s.gate.Enter() {
		return
	}
	defer s.gate.Exit()
	ev.Remote = true
	if id := ev.Transfer.ID; id != "" {
		s.log.DropCached(id)
		switch {
		case ev.Kind == ledger.EventOutgoingPrepare:
			s.addHeld(account, ev.Transfer.Amount, false)
			if s.keeper.Load() {
				s.timers.Add(id, ev.Transfer.ExpiresAt)
			}
		case ev.Kind == ledger.EventOutgoingFulfill || ev.Kind == ledger.EventOutgoingReject || ev.Kind == ledger.EventOutgoingCancel:
			s.addHeld(account, ev.Transfer.Amount, true)
			s.timers.Remove(id)
		}
	}
	if a, ok := s.account(account); ok {
		for _, v := range a.connectedViews() {
			if v.gate.Enter() {
				v.emit(&ev)
				v.gate.Exit()
			}
		}
	}
}

// KeepExpiries makes this server expire every prepared transfer of the
// backend, including those other processes prepared (learned from Deliver
// from now on, and from the backend now), or stops arming those of others
// (keep false; armed timers stay: an expiry is an atomic step, so two
// processes expiring one transfer do no harm).
func (s *Server) KeepExpiries(ctx context.Context, keep bool) error {
	s.keeper.Store(keep)
	if !keep {
		return nil
	}
	if !s.gate.Enter() {
		return ErrServerNotConnected
	}
	defer s.gate.Exit()
	prepared, err := s.log.Prepared(ctx)
	if err != nil {
		return fmt.Errorf("trustline: keeping expiries: %w", err)
	}
	for _, rec := range prepared {
		s.log.DropCached(rec.Transfer.ID)
		s.watchExpiry(rec.Transfer)
	}
	return nil
}
