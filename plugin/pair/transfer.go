package pair

import (
	"context"
	"errors"
	"fmt"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// credit is the change that counts an incoming amount in e's balance,
// checked against the credit e extends to its peer.
func (e *End) credit(n uint64) ledger.Change {
	return ledger.Change{Balance: e.balName, Amount: n, Maximum: *e.max.Load()}
}

// debit is the change that takes an amount off e's balance. It has no
// minimum: the receiving end enforces its own limit, and a debit that
// undoes a credit must never fail.
func (e *End) debit(n uint64) ledger.Change {
	return ledger.Change{Balance: e.balName, Amount: n, Sub: true}
}

// record returns e's record of a transfer, from the log's cache when it
// has one.
func (e *End) record(ctx context.Context, id string) (ledger.Record, bool, error) {
	if rec, ok := e.log.GetCached(id); ok {
		return rec, true, nil
	}
	rec, err := e.log.Get(ctx, id)
	if errors.Is(err, ledger.ErrTransferNotFound) {
		return ledger.Record{}, false, nil
	}
	if err != nil {
		return ledger.Record{}, false, fmt.Errorf("pair: reading transfer %q: %w", id, err)
	}
	return rec, true, nil
}

// checkOutgoing validates a transfer e is asked to send and fills in its
// defaults. A destination under the receiving end's account becomes that
// account (see "Sub-addresses" in the package doc).
func (e *End) checkOutgoing(t *ledger.Transfer) error {
	if e.peer.owns(t.To) {
		t.To = e.peerAccount
	}
	return pluginkit.CheckTransfer(t, e.l.prefix, e.account, e.peerAccount)
}

// owns reports whether addr is a valid address under e's account:
// e's account, a '.', and at least one more segment.
func (e *End) owns(addr string) bool {
	n := len(e.account)
	return len(addr) > n+1 && addr[n] == '.' && addr[:n] == e.account && ilp.ValidateAddress(addr) == nil
}

// SendTransfer sends a transfer to the other end (see ledger.Plugin). The
// receiving end records it first, checking its limit, then this end; both
// emit their prepare (or transfer) events, this end first.
func (e *End) SendTransfer(ctx context.Context, t ledger.Transfer) error {
	if !e.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer e.gate.Exit()
	if err := e.checkOutgoing(&t); err != nil {
		return err
	}
	if err := e.enterPeer(); err != nil {
		return err
	}
	p := e.peer
	defer p.gate.Exit()
	if t.Conditional() && !e.l.clock.Now().Before(t.ExpiresAt) {
		return ledger.Errorf(ledger.ErrNotAccepted, "transfer %q expired at %s", t.ID, ledger.FormatTime(t.ExpiresAt))
	}
	in := t
	in.NoteToSelf = nil // never shared with the peer

	mu := e.l.stripe(t.ID)
	mu.Lock()
	created, err := e.record2(ctx, t, in)
	mu.Unlock()
	if err != nil || !created {
		return err
	}

	out, inc := ledger.EventOutgoingTransfer, ledger.EventIncomingTransfer
	if t.Conditional() {
		out, inc = ledger.EventOutgoingPrepare, ledger.EventIncomingPrepare
	}
	e.emit(&ledger.Event{Kind: out, Transfer: t})
	p.emit(&ledger.Event{Kind: inc, Transfer: in})
	if t.Conditional() {
		e.watchExpiry(t)
	}
	return nil
}

// record2 records transfer t (sent by e) on both ends: in, its copy without
// the note to self, on the receiving end, then t on e. It reports whether
// this call created e's record (false for a repeat). The caller holds the
// id's stripe.
func (e *End) record2(ctx context.Context, t, in ledger.Transfer) (bool, error) {
	p := e.peer
	id := t.ID
	mine := ledger.Record{Transfer: t}
	if !t.Conditional() {
		// An executed incoming record cannot be undone, so an id this end
		// holds already must be found before the receiving end credits.
		if stored, found, err := e.record(ctx, id); err != nil {
			return false, err
		} else if found {
			if !stored.Same(mine) {
				return false, ledger.Errorf(ledger.ErrDuplicateID, "transfer id %q is already used", id)
			}
			return false, nil // sent before: nothing to do
		}
	}

	resIn, err := p.log.Create(ctx, ledger.Record{Transfer: in, Incoming: true}, p.credit(t.Amount))
	if err != nil {
		return false, refusal(err, id)
	}
	if !resIn.Applied {
		want := ledger.StatePrepared
		if !t.Conditional() {
			want = ledger.StateExecuted
		}
		if resIn.Record.State != want {
			// Resolved on the receiving end: a repeat of a finished
			// transfer, or an id spent by an interrupted attempt that the
			// receiving end repaired.
			if stored, found, err := e.record(ctx, id); err != nil {
				return false, err
			} else if found && stored.Same(mine) {
				return false, nil
			}
			return false, ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q was already rolled back", id)
		}
		// Still prepared (or executed, unconditional): a repeat, or an
		// attempt whose second step never happened, which this call
		// completes.
	}

	var changes []ledger.Change
	if !t.Conditional() {
		changes = []ledger.Change{e.debit(t.Amount)}
	}
	resOut, err := e.log.Create(ctx, mine, changes...)
	if err != nil {
		// This end holds the id for another transfer (one the repair of
		// an interrupted transfer left cancelled), or its store failed.
		// Undo the receiving end's record.
		if resIn.Applied {
			e.undoIncoming(t, err)
		}
		if errors.Is(err, ledger.ErrDuplicateID) {
			return false, &ledger.PluginError{Err: err, Name: ledger.NameDuplicateID, Message: fmt.Sprintf("transfer id %q is already used", id)}
		}
		return false, fmt.Errorf("pair: recording transfer %q: %w", id, err)
	}
	return resOut.Applied, nil
}

// undoIncoming cancels the receiving end's record of a transfer that the
// sending end failed to record.
func (e *End) undoIncoming(t ledger.Transfer, cause error) {
	p := e.peer
	ctx := context.Background()
	if t.Conditional() {
		if _, err := p.log.Cancel(ctx, t.ID, p.debit(t.Amount)); err == nil {
			p.log.DropCached(t.ID)
			return
		}
		e.logger.Error("pair: transfer recorded only by the receiver; it is repaired when the receiver connects", "transfer", t.ID, "cause", cause)
		return
	}
	// An executed record cannot be undone: sending the same transfer again
	// completes it (the receiving end's record is then a repeat).
	e.logger.Error("pair: unconditional transfer recorded only by the receiver; send it again to complete it", "transfer", t.ID, "cause", cause)
}

// refusal turns a backend's refusal of a new incoming record into the LPI
// error the sender sees.
func refusal(err error, id string) error {
	var lim *ledger.LimitError
	switch {
	case errors.As(err, &lim) && lim.Maximum:
		return &ledger.PluginError{Err: err, Name: ledger.NameNotAccepted, Message: fmt.Sprintf("transfer %q exceeds the credit the receiver extends", id)}
	case errors.Is(err, ledger.ErrOverflow):
		return &ledger.PluginError{Err: err, Name: ledger.NameNotAccepted, Message: fmt.Sprintf("transfer %q would overflow the receiver's balance", id)}
	case errors.Is(err, ledger.ErrDuplicateID):
		return &ledger.PluginError{Err: err, Name: ledger.NameDuplicateID, Message: fmt.Sprintf("transfer id %q is already used", id)}
	}
	return fmt.Errorf("pair: recording transfer %q: %w", id, err)
}

// incoming returns e's record of an incoming conditional transfer that e's
// user may resolve, or the LPI refusal.
func (e *End) incoming(ctx context.Context, id string) (ledger.Record, error) {
	rec, found, err := e.record(ctx, id)
	if err != nil {
		return rec, err
	}
	return rec, pluginkit.CheckIncoming(rec, found, id)
}

// FulfillCondition executes an incoming prepared transfer (see
// ledger.Plugin). The sending end records the fulfillment (and its debit)
// first, then this end; both emit fulfill events.
func (e *End) FulfillCondition(ctx context.Context, id string, f ilp.Fulfillment) error {
	if !e.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer e.gate.Exit()
	rec, err := e.incoming(ctx, id)
	if err != nil {
		return err
	}
	fs := f.String()
	if done, err := pluginkit.CheckFulfillment(rec, f); done || err != nil {
		return err
	}
	if err := e.enterPeer(); err != nil {
		return err
	}
	s := e.peer
	defer s.gate.Exit()
	if !e.l.clock.Now().Before(rec.Transfer.ExpiresAt) {
		s.expire(ctx, id)
		return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q expired at %s", id, ledger.FormatTime(rec.Transfer.ExpiresAt))
	}

	resOut, err := s.log.Fulfill(ctx, id, fs, s.debit(rec.Transfer.Amount))
	if err != nil {
		if errors.Is(err, ledger.ErrAlreadyRolledBack) {
			// The sender expired it in the meantime: follow.
			e.cancelIncoming(ctx, rec, ledger.EventIncomingCancel, ledger.Timeout(e.l.prefix, e.l.clock.Now()))
			return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q was already rolled back", id)
		}
		if errors.Is(err, ledger.ErrAlreadyFulfilled) {
			return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
		}
		return fmt.Errorf("pair: fulfilling transfer %q: %w", id, err)
	}
	resIn, err := e.log.Fulfill(ctx, id, fs)
	if err != nil {
		e.logger.Error("pair: fulfillment recorded only by the sender; it is repaired when the receiver connects", "transfer", id, "err", err)
		return fmt.Errorf("pair: fulfilling transfer %q: %w", id, err)
	}
	s.timers.remove(id)
	s.log.DropCached(id)
	e.log.DropCached(id)
	if resIn.Applied {
		e.emit(&ledger.Event{Kind: ledger.EventIncomingFulfill, Transfer: resIn.Record.Transfer, Fulfillment: f})
	}
	if resOut.Applied {
		s.emit(&ledger.Event{Kind: ledger.EventOutgoingFulfill, Transfer: resOut.Record.Transfer, Fulfillment: f})
	}
	return nil
}

// RejectIncomingTransfer rejects an incoming prepared transfer (see
// ledger.Plugin). Rejecting a transfer already rolled back does nothing.
func (e *End) RejectIncomingTransfer(ctx context.Context, id string, reason ledger.Rejection) error {
	if !e.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer e.gate.Exit()
	rec, err := e.incoming(ctx, id)
	if err != nil {
		return err
	}
	switch rec.State {
	case ledger.StateExecuted:
		return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	case ledger.StateCancelled:
		return nil
	}
	if reason.TriggeredBy == "" {
		reason.TriggeredBy = e.account
	}
	if reason.TriggeredAt.IsZero() {
		reason.TriggeredAt = e.l.clock.Now()
	}
	if err := e.enterPeer(); err != nil {
		return err
	}
	s := e.peer
	defer s.gate.Exit()
	resOut, err := s.log.Cancel(ctx, id)
	if err != nil {
		if errors.Is(err, ledger.ErrAlreadyFulfilled) {
			return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
		}
		return fmt.Errorf("pair: rejecting transfer %q: %w", id, err)
	}
	s.timers.remove(id)
	s.log.DropCached(id)
	e.cancelIncoming(ctx, rec, ledger.EventIncomingReject, reason)
	if resOut.Applied {
		s.emit(&ledger.Event{Kind: ledger.EventOutgoingReject, Transfer: resOut.Record.Transfer, Rejection: reason})
	}
	return nil
}

// cancelIncoming cancels e's record of an incoming transfer the sending end
// has cancelled, taking back its credit, and emits kind if this call did
// it. The caller is inside e's gate.
func (e *End) cancelIncoming(ctx context.Context, rec ledger.Record, kind ledger.EventKind, reason ledger.Rejection) {
	res, err := e.log.Cancel(ctx, rec.Transfer.ID, e.debit(rec.Transfer.Amount))
	if err != nil {
		e.logger.Error("pair: cancellation recorded only by the sender; it is repaired when the receiver connects", "transfer", rec.Transfer.ID, "err", err)
		return
	}
	e.log.DropCached(rec.Transfer.ID)
	if res.Applied {
		e.emit(&ledger.Event{Kind: kind, Transfer: res.Record.Transfer, Rejection: reason})
	}
}

// watchExpiry schedules the expiry of an outgoing prepared transfer of s,
// or expires it now when it is due. The caller is inside s's gate.
func (s *End) watchExpiry(t ledger.Transfer) {
	if !s.l.clock.Now().Before(t.ExpiresAt) {
		s.expire(context.Background(), t.ID)
		return
	}
	s.timers.add(t.ID, t.ExpiresAt)
}

// onExpiry runs when the expiry of id comes.
func (s *End) onExpiry(id string) {
	if !s.gate.Enter() {
		return // disconnected: Connect schedules it again
	}
	defer s.gate.Exit()
	s.expire(context.Background(), id)
}

// expire cancels outgoing transfer id of s if it is still prepared and due,
// on s and (when connected) on the receiving end, which catches up on
// Connect otherwise; each end that changed emits its cancel event. A timer
// that fired early is armed again. The caller is inside s's gate.
func (s *End) expire(ctx context.Context, id string) {
	rec, found, err := s.record(ctx, id)
	if err != nil {
		s.logger.Error("pair: expiry", "transfer", id, "err", err)
		return
	}
	if !found || rec.Incoming || rec.State != ledger.StatePrepared {
		return
	}
	now := s.l.clock.Now()
	if now.Before(rec.Transfer.ExpiresAt) {
		s.watchExpiry(rec.Transfer)
		return
	}
	res, err := s.log.Cancel(ctx, id)
	if err != nil {
		if !errors.Is(err, ledger.ErrAlreadyFulfilled) {
			s.logger.Error("pair: expiry", "transfer", id, "err", err)
		}
		return
	}
	s.timers.remove(id)
	s.log.DropCached(id)
	reason := ledger.Timeout(s.l.prefix, now)
	if r := s.peer; r.gate.Enter() {
		if in, found, err := r.record(ctx, id); err == nil && found && in.Incoming {
			r.cancelIncoming(ctx, in, ledger.EventIncomingCancel, reason)
		}
		r.gate.Exit()
	}
	if res.Applied {
		s.emit(&ledger.Event{Kind: ledger.EventOutgoingCancel, Transfer: res.Record.Transfer, Rejection: reason})
	}
}

// repairIncoming brings e's prepared incoming record in line with the
// sending end's log, which decides: a transfer the sender never recorded,
// or cancelled, is cancelled here; one it executed is executed here with
// the same fulfillment. It runs on Connect, inside e's gate, and reads the
// sender's log directly, connected or not.
func (e *End) repairIncoming(ctx context.Context, rec ledger.Record) {
	s := e.peer
	id := rec.Transfer.ID
	out, err := s.log.Get(ctx, id)
	switch {
	case errors.Is(err, ledger.ErrTransferNotFound):
		// Never announced: take the credit back quietly.
		if _, err := e.log.Cancel(ctx, id, e.debit(rec.Transfer.Amount)); err != nil {
			e.logger.Error("pair: repair", "transfer", id, "err", err)
		}
		e.log.DropCached(id)
	case err != nil:
		e.logger.Error("pair: repair", "transfer", id, "err", err)
	case out.Incoming:
		e.logger.Error("pair: repair: both ends hold the transfer as incoming", "transfer", id)
	case out.State == ledger.StateCancelled:
		e.cancelIncoming(ctx, rec, ledger.EventIncomingCancel, ledger.Timeout(e.l.prefix, e.l.clock.Now()))
		s.log.DropCached(id)
	case out.State == ledger.StateExecuted:
		f, perr := ilp.ParseFulfillment(out.Fulfillment)
		res, err := e.log.Fulfill(ctx, id, out.Fulfillment)
		if err != nil || perr != nil {
			e.logger.Error("pair: repair", "transfer", id, "err", errors.Join(err, perr))
			return
		}
		e.log.DropCached(id)
		s.log.DropCached(id)
		if res.Applied {
			e.emit(&ledger.Event{Kind: ledger.EventIncomingFulfill, Transfer: res.Record.Transfer, Fulfillment: f})
		}
	}
}

// Fulfillment returns the fulfillment of a transfer of either direction
// (see ledger.Plugin).
func (e *End) Fulfillment(ctx context.Context, id string) (ilp.Fulfillment, error) {
	if !e.gate.Enter() {
		return ilp.Fulfillment{}, ledger.ErrNotConnected
	}
	defer e.gate.Exit()
	s, err := e.log.GetFulfillment(ctx, id)
	if err != nil {
		return ilp.Fulfillment{}, fmt.Errorf("pair: %w", err)
	}
	f, err := ilp.ParseFulfillment(s)
	if err != nil {
		e.logger.Error("pair: stored fulfillment is malformed", "transfer", id, "err", err)
		return ilp.Fulfillment{}, fmt.Errorf("pair: transfer %q: stored fulfillment unreadable: %w", id, ledger.ErrMissingFulfillment)
	}
	return f, nil
}
