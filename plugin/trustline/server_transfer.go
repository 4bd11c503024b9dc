package trustline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// destination returns the account an address belongs to: "<prefix><name>"
// or "<prefix><name>.<anything>" (a PSK address). An empty or malformed
// address fails with ledger.ErrInvalidFields; any other address that is not
// an account's with ledger.ErrAccountNotFound.
func (s *Server) destination(addr string) (*account, error) {
	if addr == "" {
		return nil, ledger.NewError(ledger.ErrInvalidFields, "no destination")
	}
	if err := ilp.ValidateAddress(addr); err != nil {
		return nil, ledger.Errorf(ledger.ErrInvalidFields, "destination is not an ILP address")
	}
	name := s.nameOf(addr)
	if name == "" {
		return nil, ledger.Errorf(ledger.ErrAccountNotFound, "%q is not an account of ledger %q", addr, s.prefix)
	}
	a, ok := s.account(name)
	if !ok {
		return nil, ledger.Errorf(ledger.ErrAccountNotFound, "no account %q on ledger %q", s.prefix+name, s.prefix)
	}
	return a, nil
}

// The balance changes of each step of a transfer from account from to
// account to (see account for the two balances). Only the changes that
// can be refused carry limits: the sender's minimum on its balance at
// prepare, the receiver's maximum on its balance plus pending incoming.

func prepareChanges(from, to *account, n uint64) []ledger.Change {
	return []ledger.Change{
		{Balance: from.bal.Name(), Amount: n, Sub: true, Minimum: from.limits.Load().Minimum},
		{Balance: from.in.Name(), Amount: n, Sub: true},
		{Balance: to.in.Name(), Amount: n, Maximum: to.limits.Load().Maximum},
	}
}

func unconditionalChanges(from, to *account, n uint64) []ledger.Change {
	return append(prepareChanges(from, to, n), ledger.Change{Balance: to.bal.Name(), Amount: n})
}

// fulfillChanges credits the receiver's balance (its balance plus pending
// incoming does not move). by names: they work for accounts not
// registered.
func fulfillChanges(toName string, n uint64) []ledger.Change {
	return []ledger.Change{{Balance: toName, Amount: n}}
}

// cancelChanges undo prepareChanges.
func cancelChanges(fromName, toName string, n uint64) []ledger.Change {
	return []ledger.Change{
		{Balance: fromName, Amount: n},
		{Balance: inName(fromName), Amount: n},
		{Balance: inName(toName), Amount: n, Sub: true},
	}
}

// SendTransfer sends a transfer from this view's account to another account
// of the server (see ledger.Plugin and the package documentation). From
// defaults to the account; another From fails with ledger.ErrInvalidFields.
// To may be an address under the receiving account; the transfer is
// recorded with To set to the account.
func (v *view) SendTransfer(ctx context.Context, t ledger.Transfer) error {
	if !v.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer v.gate.Exit()
	return v.s.send(ctx, v.a, t)
}

// send sends transfer t from account from.
func (s *Server) send(ctx context.Context, from *account, t ledger.Transfer) error {
	var to *account
	if t.To == "" {
		return ledger.NewError(ledger.ErrInvalidFields, "transfer has no destination")
	}
	toAddr := ""
	if a, err := s.destination(t.To); err == nil {
		to, toAddr = a, a.addr
		t.To = a.addr
	} else if ledger.ErrorName(err) == ledger.NameAccountNotFound && !strings.HasPrefix(t.To, s.prefix) {
		return err
	}
	// An unknown account under the prefix and malformed addresses get
	// their errors from CheckTransfer, after the other fields.
	if err := pluginkit.CheckTransfer(&t, s.prefix, from.addr, toAddr); err != nil {
		return err
	}
	if to == from {
		return ledger.NewError(ledger.ErrInvalidFields, "a transfer to the sending account itself")
	}
	if from.disabled.Load() {
		return ledger.Errorf(ledger.ErrNotAccepted, "account %s is disabled", from.addr)
	}
	if to.disabled.Load() {
		return ledger.Errorf(ledger.ErrNotAccepted, "account %s is disabled", to.addr)
	}
	if t.Conditional() {
		now := s.clock.Now()
		if !now.Before(t.ExpiresAt) {
			return ledger.Errorf(ledger.ErrNotAccepted, "transfer %q expired at %s", t.ID, ledger.FormatTime(t.ExpiresAt))
		}
		if s.maxHold > 0 && t.ExpiresAt.After(now.Add(s.maxHold)) {
			return ledger.Errorf(ledger.ErrNotAccepted, "transfer %q expires later than the maximum hold time of %s", t.ID, s.maxHold)
		}
	}
	var changes []ledger.Change
	if t.Conditional() {
		changes = prepareChanges(from, to, t.Amount)
	} else {
		changes = unconditionalChanges(from, to, t.Amount)
	}
	s.steps.RLock()
	res, err := s.log.Create(ctx, ledger.Record{Transfer: t}, changes...)
	s.steps.RUnlock()
	if err != nil {
		refused := refusal(err, t.ID, from, to)
		if _, ok := refused.(*ledger.PluginError); !ok && t.Conditional() {
			s.inDoubt(t.ID, err)
		}
		return refused
	}
	if !res.Applied {
		if res.Record.State != ledger.StatePrepared {
			s.log.DropCached(t.ID)
		}
		return nil // the same transfer again: nothing to do
	}
	out, in := ledger.EventOutgoingTransfer, ledger.EventIncomingTransfer
	if t.Conditional() {
		s.addHeld(from.name, t.Amount, false)
		out, in = ledger.EventOutgoingPrepare, ledger.EventIncomingPrepare
	} else {
		s.log.DropCached(t.ID)
	}
	s.emit(from.name, &ledger.Event{Kind: out, Transfer: t})
	s.emit(to.name, &ledger.Event{Kind: in, Transfer: incomingCopy(t)})
	if t.Conditional() {
		s.watchExpiry(t)
	}
	return nil
}

// incomingCopy is t as its receiver sees it: without the sender's note to
// self.
func incomingCopy(t ledger.Transfer) ledger.Transfer {
	t.NoteToSelf = nil
	return t
}

// refusal turns the backend's refusal of a new transfer into the LPI error
// the sender sees. Details of internal errors stay in the wrapped chain;
// ledger.WireError sends only the name.
func refusal(err error, id string, from, to *account) error {
	var lim *ledger.LimitError
	switch {
	case errors.As(err, &lim) && lim.Maximum:
		return &ledger.PluginError{Err: err, Name: ledger.NameNotAccepted, Message: fmt.Sprintf("transfer %q exceeds the maximum balance of %s", id, to.addr)}
	case errors.As(err, &lim):
		return &ledger.PluginError{Err: err, Name: ledger.NameInsufficientBalance, Message: fmt.Sprintf("transfer %q exceeds the balance of %s", id, from.addr)}
	case errors.Is(err, ledger.ErrOverflow):
		return &ledger.PluginError{Err: err, Name: ledger.NameNotAccepted, Message: fmt.Sprintf("transfer %q would overflow a balance", id)}
	case errors.Is(err, ledger.ErrDuplicateID):
		return &ledger.PluginError{Err: err, Name: ledger.NameDuplicateID, Message: fmt.Sprintf("transfer id %q is already used", id)}
	}
	return fmt.Errorf("trustline: recording transfer %q: %w", id, err)
}

// retryDelay is how long the expiry of a transfer waits after the store
// failed to cancel it.
const retryDelay = time.Second

// inDoubt runs when the backend failed a step of transfer id for a reason
// other than a refusal (a store error): the store may have made the step
// all the same (a commit whose answer was lost). It reads the transfer
// back: one still prepared gets its expiry armed (so the held amount
// returns), one resolved is forgotten by the expiry scheduler. No event is
// emitted (the caller was told the step failed; a prepare it did not see
// simply expires). The held sums are then recomputed from the backend.
func (s *Server) inDoubt(id string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.log.DropCached(id)
	rec, err := s.log.Get(ctx, id)
	switch {
	case errors.Is(err, ledger.ErrTransferNotFound):
		return
	case err != nil:
		s.logger.Error("trustline: transfer in doubt after a store error; the next Connect settles it", "transfer", id, "cause", cause, "err", err)
		return
	case rec.State == ledger.StatePrepared:
		s.logger.Warn("trustline: store error on a transfer still prepared; it expires on time", "transfer", id, "cause", cause)
		at := rec.Transfer.ExpiresAt
		if now := s.clock.Now(); !now.Before(at) {
			at = now.Add(retryDelay) // its expiry failed: try again soon
		}
		s.timers.Add(id, at)
	default:
		s.log.DropCached(id)
		s.timers.Remove(id)
		s.logger.Warn("trustline: store error on a step that was recorded", "transfer", id, "state", rec.State, "cause", cause)
	}
	if err := s.resyncHeld(ctx); err != nil {
		s.logger.Error("trustline: recomputing held amounts", "err", err)
	}
}

// resyncHeld recomputes the held sums from the backend's prepared
// transfers.
func (s *Server) resyncHeld(ctx context.Context) error {
	prepared, err := s.log.Prepared(ctx)
	if err != nil {
		return err
	}
	sums := make(map[string]ledger.Int128)
	for _, rec := range prepared {
		name := s.nameOf(rec.Transfer.From)
		if v, err := sums[name].AddUint64(rec.Transfer.Amount); err == nil {
			sums[name] = v
		}
	}
	s.held.Range(func(k, v any) bool {
		h := v.(*heldSum)
		h.mu.Lock()
		h.v = sums[k.(string)]
		h.mu.Unlock()
		delete(sums, k.(string))
		return true
	})
	for name, v := range sums {
		s.held.Store(name, &heldSum{v: v})
	}
	return nil
}

// record returns the record of a transfer, from the log's cache when it has
// one.
func (s *Server) record(ctx context.Context, id string) (ledger.Record, bool, error) {
	if rec, ok := s.log.GetCached(id); ok {
		return rec, true, nil
	}
	rec, err := s.log.Get(ctx, id)
	if errors.Is(err, ledger.ErrTransferNotFound) {
		return ledger.Record{}, false, nil
	}
	if err != nil {
		return ledger.Record{}, false, fmt.Errorf("trustline: reading transfer %q: %w", id, err)
	}
	if rec.State != ledger.StatePrepared {
		s.log.DropCached(id)
	}
	return rec, true, nil
}

// incoming returns the record of a conditional transfer to account a, which
// a may resolve, or the LPI refusal: a transfer a sent is not accepted, one
// that does not concern a is not found.
func (s *Server) incoming(ctx context.Context, a *account, id string) (ledger.Record, error) {
	rec, found, err := s.record(ctx, id)
	if err != nil {
		return rec, err
	}
	if found && rec.Transfer.To != a.addr {
		if rec.Transfer.From == a.addr {
			return rec, ledger.Errorf(ledger.ErrNotAccepted, "transfer %q is outgoing: only its receiver resolves it", id)
		}
		found = false
	}
	rec.Incoming = true // as a sees it
	return rec, pluginkit.CheckIncoming(rec, found, id)
}

// FulfillCondition executes a transfer prepared to this view's account
// (see ledger.Plugin): the receiver is credited in the same step. A
// transfer to another account fails with ledger.ErrTransferNotFound (or
// ledger.ErrNotAccepted when this account sent it) and changes nothing.
func (v *view) FulfillCondition(ctx context.Context, id string, f ilp.Fulfillment) error {
	if !v.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer v.gate.Exit()
	s := v.s
	rec, err := s.incoming(ctx, v.a, id)
	if err != nil {
		return err
	}
	if done, err := pluginkit.CheckFulfillment(rec, f); done || err != nil {
		return err
	}
	if !s.clock.Now().Before(rec.Transfer.ExpiresAt) {
		s.expire(ctx, id)
		return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q expired at %s", id, ledger.FormatTime(rec.Transfer.ExpiresAt))
	}
	t := rec.Transfer
	// The fulfillment must be written before the transfer expires, not
	// only asked for before: a write still waiting in the backend's queue
	// when the time runs out is given up (a connector passing the
	// fulfillment back has only the margin between the two expiries).
	fctx, fcancel := context.WithTimeout(ctx, t.ExpiresAt.Sub(s.clock.Now()))
	s.steps.RLock()
	res, err := s.log.Fulfill(fctx, id, f.String(), fulfillChanges(s.nameOf(t.To), t.Amount)...)
	s.steps.RUnlock()
	late := err != nil && fctx.Err() != nil && ctx.Err() == nil
	fcancel()
	switch {
	case errors.Is(err, ledger.ErrAlreadyRolledBack):
		return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q was already rolled back", id)
	case errors.Is(err, ledger.ErrAlreadyFulfilled):
		return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	case late:
		return s.lateFulfillment(ctx, id, f, t, err)
	case err != nil:
		s.inDoubt(id, err)
		return fmt.Errorf("trustline: fulfilling transfer %q: %w", id, err)
	}
	s.log.DropCached(id)
	if !res.Applied {
		return nil
	}
	s.fulfilled(res.Record.Transfer, f)
	return nil
}

// fulfilled ends the watch of transfer t, just fulfilled with f, and emits
// its fulfill events.
func (s *Server) fulfilled(t ledger.Transfer, f ilp.Fulfillment) {
	s.timers.Remove(t.ID)
	s.addHeld(s.nameOf(t.From), t.Amount, true)
	s.emit(s.nameOf(t.To), &ledger.Event{Kind: ledger.EventIncomingFulfill, Transfer: incomingCopy(t), Fulfillment: f})
	s.emit(s.nameOf(t.From), &ledger.Event{Kind: ledger.EventOutgoingFulfill, Transfer: t, Fulfillment: f})
}

// lateFulfillment settles a fulfillment of transfer t whose write the
// backend gave up because t expired meanwhile (cause). A backend that gives
// up writes nothing; the record is read back to be sure: still prepared,
// it expires now (ledger.ErrAlreadyRolledBack); fulfilled after all, the
// fulfillment stands.
func (s *Server) lateFulfillment(ctx context.Context, id string, f ilp.Fulfillment, t ledger.Transfer, cause error) error {
	s.log.DropCached(id)
	rec, err := s.log.Get(ctx, id)
	if err != nil {
		s.inDoubt(id, cause)
		return fmt.Errorf("trustline: fulfilling transfer %q: %w", id, cause)
	}
	switch rec.State {
	case ledger.StateExecuted:
		if fs, err := ledger.FulfillmentOf(rec); err == nil && fs == f.String() {
			s.log.DropCached(id)
			s.fulfilled(rec.Transfer, f)
			return nil
		}
		return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	case ledger.StatePrepared:
		s.expire(ctx, id)
	}
	return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q expired at %s before its fulfillment was written", id, ledger.FormatTime(t.ExpiresAt))
}

// RejectIncomingTransfer rejects a transfer prepared to this view's account
// (see ledger.Plugin), which returns the amount to the sender. Rejecting a
// transfer already rolled back does nothing.
func (v *view) RejectIncomingTransfer(ctx context.Context, id string, reason ledger.Rejection) error {
	if !v.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer v.gate.Exit()
	s := v.s
	rec, err := s.incoming(ctx, v.a, id)
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
		reason.TriggeredBy = v.a.addr
	}
	if reason.TriggeredAt.IsZero() {
		reason.TriggeredAt = s.clock.Now()
	}
	err = s.cancel(ctx, rec.Transfer, ledger.EventIncomingReject, ledger.EventOutgoingReject, reason)
	if errors.Is(err, ledger.ErrAlreadyFulfilled) {
		return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	}
	return err
}

// cancel cancels prepared transfer t, returning its amount to the sender,
// and, if this call did it, emits in to the receiver and out to the sender
// with reason.
func (s *Server) cancel(ctx context.Context, t ledger.Transfer, in, out ledger.EventKind, reason ledger.Rejection) error {
	from, to := s.nameOf(t.From), s.nameOf(t.To)
	s.steps.RLock()
	res, err := s.log.Cancel(ctx, t.ID, cancelChanges(from, to, t.Amount)...)
	s.steps.RUnlock()
	if err != nil {
		if errors.Is(err, ledger.ErrAlreadyFulfilled) {
			s.log.DropCached(t.ID)
			return err
		}
		s.inDoubt(t.ID, err)
		return fmt.Errorf("trustline: cancelling transfer %q: %w", t.ID, err)
	}
	s.log.DropCached(t.ID)
	if !res.Applied {
		return nil
	}
	s.timers.Remove(t.ID)
	s.addHeld(from, t.Amount, true)
	t = res.Record.Transfer
	s.emit(to, &ledger.Event{Kind: in, Transfer: incomingCopy(t), Rejection: reason})
	s.emit(from, &ledger.Event{Kind: out, Transfer: t, Rejection: reason})
	return nil
}

// Fulfillment returns the fulfillment of a transfer to or from this view's
// account (see ledger.Plugin); any other transfer is not found.
func (v *view) Fulfillment(ctx context.Context, id string) (ilp.Fulfillment, error) {
	if !v.gate.Enter() {
		return ilp.Fulfillment{}, ledger.ErrNotConnected
	}
	defer v.gate.Exit()
	rec, err := v.s.log.Get(ctx, id)
	if err != nil {
		if errors.Is(err, ledger.ErrTransferNotFound) {
			return ilp.Fulfillment{}, ledger.Errorf(ledger.ErrTransferNotFound, "transfer %q not found", id)
		}
		return ilp.Fulfillment{}, fmt.Errorf("trustline: reading transfer %q: %w", id, err)
	}
	if rec.State != ledger.StatePrepared {
		v.s.log.DropCached(id)
	}
	if rec.Transfer.From != v.a.addr && rec.Transfer.To != v.a.addr {
		return ilp.Fulfillment{}, ledger.Errorf(ledger.ErrTransferNotFound, "transfer %q not found", id)
	}
	fs, err := ledger.FulfillmentOf(rec)
	if err != nil {
		return ilp.Fulfillment{}, fmt.Errorf("trustline: %w", err)
	}
	f, err := ilp.ParseFulfillment(fs)
	if err != nil {
		v.logger.Error("trustline: stored fulfillment is malformed", "transfer", id, "err", err)
		return ilp.Fulfillment{}, fmt.Errorf("trustline: transfer %q: stored fulfillment unreadable: %w", id, ledger.ErrMissingFulfillment)
	}
	return f, nil
}

// emit delivers an event of account name to its connected views, then to
// the admin handlers.
func (s *Server) emit(name string, ev *ledger.Event) {
	if a, ok := s.account(name); ok {
		for _, v := range a.connectedViews() {
			if v.gate.Enter() {
				v.emit(ev)
				v.gate.Exit()
			}
		}
	}
	s.admin.emit(name, ev)
	if s.relay != nil {
		s.relay(name, *ev)
	}
}
