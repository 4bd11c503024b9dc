package virtual

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// checkTransfer validates a transfer between the two accounts and fills in
// its defaults; from and to are the expected sender and receiver.
func (p *Plugin) checkTransfer(t *ledger.Transfer, from, to string) error {
	return pluginkit.CheckTransfer(t, p.peering.Prefix, from, to)
}

// refusal turns a backend's refusal to record a transfer into the LPI
// error the caller sees.
func refusal(err error, id string) error {
	var lim *ledger.LimitError
	switch {
	case errors.As(err, &lim) && lim.Maximum:
		return &ledger.PluginError{Err: err, Name: ledger.NameNotAccepted, Message: fmt.Sprintf("transfer %q exceeds the credit extended to the sender", id)}
	case errors.Is(err, ledger.ErrOverflow):
		return &ledger.PluginError{Err: err, Name: ledger.NameNotAccepted, Message: fmt.Sprintf("transfer %q would overflow the balance", id)}
	case errors.Is(err, ledger.ErrDuplicateID):
		return &ledger.PluginError{Err: err, Name: ledger.NameDuplicateID, Message: fmt.Sprintf("transfer id %q is already used", id)}
	}
	return fmt.Errorf("virtual: recording transfer %q: %w", id, err)
}

// definite reports whether err is the peer's answer (an LPI error it sent
// or a 401/403) rather than a failure to reach it.
func definite(err error) bool {
	var pe *ledger.PluginError
	return errors.As(err, &pe)
}

// SendTransfer sends a transfer to the peer (see ledger.Plugin). An
// unconditional transfer is debited at once; a conditional one counts when
// the peer fulfils it.
func (p *Plugin) SendTransfer(ctx context.Context, t ledger.Transfer) error {
	if !p.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	if err := p.checkTransfer(&t, p.peering.Account, p.peering.PeerAccount); err != nil {
		return err
	}
	if t.Conditional() && !p.clock.Now().Before(t.ExpiresAt) {
		return ledger.Errorf(ledger.ErrNotAccepted, "transfer %q expired at %s", t.ID, ledger.FormatTime(t.ExpiresAt))
	}
	wire := t
	wire.NoteToSelf = nil // never shared with the peer

	if !t.Conditional() {
		return p.sendUnconditional(ctx, t, wire)
	}
	res, err := p.tlog.Create(ctx, ledger.Record{Transfer: t})
	if err != nil {
		return refusal(err, t.ID)
	}
	if !res.Applied {
		// Sent before: send it again if it is still open, which the peer
		// takes as a no-op, in case the first call was lost.
		if res.Record.State == ledger.StatePrepared {
			if _, err := p.call(ctx, "send_transfer", wire); err != nil {
				p.logger.Info("virtual: resending a prepared transfer failed", "transfer", t.ID, "err", err)
			}
		}
		return nil
	}
	// Only this call created the record, so only it announces.
	a := &announcement{t: t}
	p.annMu.Lock()
	p.announcing[t.ID] = a
	p.annMu.Unlock()
	defer func() {
		p.annMu.Lock()
		delete(p.announcing, t.ID)
		p.annMu.Unlock()
	}()

	if _, err = p.call(ctx, "send_transfer", wire); err != nil {
		if definite(err) {
			if _, cerr := p.tlog.Cancel(context.WithoutCancel(ctx), t.ID); cerr != nil {
				p.logger.Error("virtual: cancelling a refused transfer failed", "transfer", t.ID, "err", cerr)
			}
			p.tlog.DropCached(t.ID)
			return err
		}
		// As in 2017: the transfer stays prepared and expires if the peer
		// never got it.
		p.logger.Warn("virtual: send_transfer failed; the transfer will expire", "transfer", t.ID, "err", err)
	}
	a.once.Do(func() { p.events.Emit(&ledger.Event{Kind: ledger.EventOutgoingPrepare, Transfer: t}) })
	p.watch(t)
	return nil
}

// sendUnconditional sends an unconditional transfer: the peer records it
// first, and only then is it recorded (and debited) here, since an executed
// record cannot be undone. A failed call leaves nothing behind; sending
// the same transfer again is a no-op on both sides.
func (p *Plugin) sendUnconditional(ctx context.Context, t, wire ledger.Transfer) error {
	mine := ledger.Record{Transfer: t, State: ledger.StateExecuted}
	if stored, found, err := p.record(ctx, t.ID); err != nil {
		return err
	} else if found {
		if !stored.Same(mine) {
			return ledger.Errorf(ledger.ErrDuplicateID, "transfer id %q is already used", t.ID)
		}
		return nil
	}
	if _, err := p.call(ctx, "send_transfer", wire); err != nil {
		return err
	}
	res, err := p.tlog.Create(context.WithoutCancel(ctx), ledger.Record{Transfer: t}, p.debit(t.Amount))
	if err != nil {
		p.logger.Error("virtual: the peer took an unconditional transfer this side failed to record", "transfer", t.ID, "err", err)
		return refusal(err, t.ID)
	}
	p.tlog.DropCached(t.ID)
	if res.Applied {
		p.events.Emit(&ledger.Event{Kind: ledger.EventOutgoingTransfer, Transfer: t})
	}
	return nil
}

// handleTransfer records a transfer the peer sends (send_transfer).
func (p *Plugin) handleTransfer(ctx context.Context, t ledger.Transfer) error {
	t.NoteToSelf = nil
	if err := p.checkTransfer(&t, p.peering.PeerAccount, p.peering.Account); err != nil {
		return err
	}
	if t.Conditional() && !p.clock.Now().Before(t.ExpiresAt) {
		return ledger.Errorf(ledger.ErrNotAccepted, "transfer %q expired at %s", t.ID, ledger.FormatTime(t.ExpiresAt))
	}
	res, err := p.tlog.Create(ctx, ledger.Record{Transfer: t, Incoming: true}, p.credit(t.Amount))
	if err != nil {
		return refusal(err, t.ID)
	}
	if !res.Applied {
		return nil // a resend
	}
	if !t.Conditional() {
		p.tlog.DropCached(t.ID)
		p.events.Emit(&ledger.Event{Kind: ledger.EventIncomingTransfer, Transfer: t})
		return nil
	}
	p.events.Emit(&ledger.Event{Kind: ledger.EventIncomingPrepare, Transfer: t})
	p.watch(t)
	return nil
}

// incoming returns the record of an incoming conditional transfer this
// side may resolve.
func (p *Plugin) incoming(ctx context.Context, id string) (ledger.Record, error) {
	rec, found, err := p.record(ctx, id)
	if err != nil {
		return rec, err
	}
	return rec, pluginkit.CheckIncoming(rec, found, id)
}

// outgoing returns the record of an outgoing conditional transfer the peer
// resolves.
func (p *Plugin) outgoing(ctx context.Context, id string) (ledger.Record, error) {
	rec, found, err := p.record(ctx, id)
	switch {
	case err != nil:
		return rec, err
	case !found:
		return rec, ledger.Errorf(ledger.ErrTransferNotFound, "transfer %q not found", id)
	case rec.Incoming:
		return rec, ledger.Errorf(ledger.ErrNotAccepted, "transfer %q is not a transfer to you", id)
	case !rec.Transfer.Conditional():
		return rec, ledger.Errorf(ledger.ErrTransferNotConditional, "transfer %q is not conditional", id)
	}
	return rec, nil
}

// FulfillCondition executes an incoming prepared transfer (see
// ledger.Plugin). The peer records the fulfillment first; this side
// follows when it accepted.
func (p *Plugin) FulfillCondition(ctx context.Context, id string, f ilp.Fulfillment) error {
	if !p.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	rec, err := p.incoming(ctx, id)
	if err != nil {
		return err
	}
	fs := f.String()
	if done, err := pluginkit.CheckFulfillment(rec, f); done || err != nil {
		return err
	}
	if !p.clock.Now().Before(rec.Transfer.ExpiresAt) {
		p.expire(ctx, id, true)
		return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q expired at %s", id, ledger.FormatTime(rec.Transfer.ExpiresAt))
	}
	// This side's timer must not cancel the transfer while the sender may
	// be executing it; the sender's answer decides.
	p.timers.disarm(id)
	if _, err := p.call(ctx, "fulfill_condition", id, fs); err != nil {
		switch {
		case errors.Is(err, ledger.ErrAlreadyRolledBack):
			p.cancel(ctx, rec, ledger.EventIncomingCancel, ledger.Timeout(p.peering.Prefix, p.clock.Now()))
			return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q was already rolled back by the sender", id)
		case errors.Is(err, ledger.ErrAlreadyFulfilled):
			// The sender holds a fulfillment of the same condition:
			// the transfer is executed.
		default:
			p.watch(rec.Transfer)
			return err
		}
	}
	res, err := p.tlog.Fulfill(context.WithoutCancel(ctx), id, fs)
	if err != nil {
		if errors.Is(err, ledger.ErrAlreadyRolledBack) {
			p.logger.Error("virtual: the sender executed a transfer this side had cancelled", "transfer", id)
		}
		return fmt.Errorf("virtual: fulfilling transfer %q: %w", id, err)
	}
	p.timers.disarm(id)
	p.tlog.DropCached(id)
	if res.Applied {
		p.events.Emit(&ledger.Event{Kind: ledger.EventIncomingFulfill, Transfer: res.Record.Transfer, Fulfillment: f})
	}
	return nil
}

// handleFulfill executes an outgoing transfer the peer fulfils
// (fulfill_condition).
func (p *Plugin) handleFulfill(ctx context.Context, id, fs string) error {
	rec, err := p.outgoing(ctx, id)
	if err != nil {
		return err
	}
	f, err := ilp.ParseFulfillment(fs)
	if err != nil {
		return ledger.NewError(ledger.ErrInvalidFields, "fulfillment is not 32 bytes of base64url")
	}
	fs = f.String()
	switch rec.State {
	case ledger.StateExecuted:
		if rec.Fulfillment == fs {
			// The peer asks again: its first call may have reached a
			// process that executed the transfer and died before its
			// connector passed the fulfillment back (the event was
			// emitted there, once).
			if p.refulfilled != nil {
				p.refulfilled(rec.Transfer, f)
			}
			return nil
		}
		return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	case ledger.StateCancelled:
		return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q was already rolled back", id)
	}
	cond, ok := pluginkit.ParseCondition(rec.Transfer.ExecutionCondition)
	if !ok || !ilp.Verify(f, cond) {
		return ledger.Errorf(ledger.ErrNotAccepted, "fulfillment does not match the condition of transfer %q", id)
	}
	if !p.clock.Now().Before(rec.Transfer.ExpiresAt) {
		p.expire(ctx, id, false)
		return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q expired at %s", id, ledger.FormatTime(rec.Transfer.ExpiresAt))
	}
	p.emitPrepareOf(id)
	res, err := p.tlog.Fulfill(ctx, id, fs, p.debit(rec.Transfer.Amount))
	if err != nil {
		switch {
		case errors.Is(err, ledger.ErrAlreadyRolledBack):
			return ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q was already rolled back", id)
		case errors.Is(err, ledger.ErrAlreadyFulfilled):
			return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
		}
		return fmt.Errorf("virtual: fulfilling transfer %q: %w", id, err)
	}
	p.timers.disarm(id)
	p.tlog.DropCached(id)
	if res.Applied {
		p.events.Emit(&ledger.Event{Kind: ledger.EventOutgoingFulfill, Transfer: res.Record.Transfer, Fulfillment: f})
	}
	return nil
}

// RejectIncomingTransfer rejects an incoming prepared transfer (see
// ledger.Plugin): the credit is taken back here, then the peer is told.
// If the peer cannot be told, its side of the transfer expires.
func (p *Plugin) RejectIncomingTransfer(ctx context.Context, id string, reason ledger.Rejection) error {
	if !p.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	rec, err := p.incoming(ctx, id)
	if err != nil {
		return err
	}
	switch rec.State {
	case ledger.StateExecuted:
		return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	}
	if reason.TriggeredBy == "" {
		reason.TriggeredBy = p.peering.Account
	}
	if reason.TriggeredAt.IsZero() {
		reason.TriggeredAt = p.clock.Now()
	}
	if rec.State == ledger.StateCancelled {
		// Rejecting again, or after the expiry: nothing changes here, but
		// the rejection is sent again in case the peer missed it (a no-op
		// for a peer that has it).
		if _, err := p.call(ctx, "reject_incoming_transfer", id, reason); err != nil {
			p.logger.Debug("virtual: resending reject_incoming_transfer failed (ignored)", "transfer", id, "err", err)
		}
		return nil
	}
	res, err := p.tlog.Cancel(ctx, id, p.debit(rec.Transfer.Amount))
	if err != nil {
		if errors.Is(err, ledger.ErrAlreadyFulfilled) {
			return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
		}
		return fmt.Errorf("virtual: rejecting transfer %q: %w", id, err)
	}
	p.timers.disarm(id)
	p.tlog.DropCached(id)
	if !res.Applied {
		return nil // a concurrent rejection or expiry won
	}
	p.events.Emit(&ledger.Event{Kind: ledger.EventIncomingReject, Transfer: res.Record.Transfer, Rejection: reason})
	if _, err := p.call(ctx, "reject_incoming_transfer", id, reason); err != nil {
		p.logger.Warn("virtual: reject_incoming_transfer failed; the sender's transfer will expire", "transfer", id, "err", err)
	}
	return nil
}

// handleReject cancels an outgoing transfer the peer rejected
// (reject_incoming_transfer).
func (p *Plugin) handleReject(ctx context.Context, id string, reason ledger.Rejection) error {
	rec, err := p.outgoing(ctx, id)
	if err != nil {
		return err
	}
	switch rec.State {
	case ledger.StateExecuted:
		return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	case ledger.StateCancelled:
		return nil
	}
	p.emitPrepareOf(id)
	res, err := p.tlog.Cancel(ctx, id)
	if err != nil {
		if errors.Is(err, ledger.ErrAlreadyFulfilled) {
			return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
		}
		return fmt.Errorf("virtual: rejecting transfer %q: %w", id, err)
	}
	p.timers.disarm(id)
	p.tlog.DropCached(id)
	if res.Applied {
		p.events.Emit(&ledger.Event{Kind: ledger.EventOutgoingReject, Transfer: res.Record.Transfer, Rejection: reason})
	}
	return nil
}

// handleExpire cancels a transfer the peer's timer expired
// (expire_transfer); it refuses one that is not due by this side's clock.
func (p *Plugin) handleExpire(ctx context.Context, id string) error {
	rec, found, err := p.record(ctx, id)
	switch {
	case err != nil:
		return err
	case !found:
		return ledger.Errorf(ledger.ErrTransferNotFound, "transfer %q not found", id)
	case !rec.Transfer.Conditional():
		return ledger.Errorf(ledger.ErrTransferNotConditional, "transfer %q is not conditional", id)
	case rec.State == ledger.StateExecuted:
		return ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	case rec.State == ledger.StateCancelled:
		return nil
	case p.clock.Now().Before(rec.Transfer.ExpiresAt):
		return ledger.Errorf(ledger.ErrNotAccepted, "transfer %q does not expire before %s", id, ledger.FormatTime(rec.Transfer.ExpiresAt))
	}
	p.expire(ctx, id, false)
	return nil
}

// watch arms the expiry timer of a prepared transfer, or expires it now
// when it is due. The caller is inside the gate.
func (p *Plugin) watch(t ledger.Transfer) {
	d := t.ExpiresAt.Sub(p.clock.Now())
	if d <= 0 {
		p.expire(context.Background(), t.ID, true)
		return
	}
	id := t.ID
	p.timers.arm(p.clock, id, d, func() { p.onExpiry(id) })
	// The peer may have fulfilled or rejected the transfer while it was
	// being announced, before this timer was armed: the disarm of that
	// call then found nothing, and the timer would only wake at the expiry
	// to find the transfer resolved. Look again now that it is armed.
	if !p.stillPrepared(id) {
		p.timers.disarm(id)
	}
}

// stillPrepared reports whether transfer id may still be prepared: from
// the cache when it holds the transfer, else from the log (without leaving
// it in the cache). A read that fails counts as prepared.
func (p *Plugin) stillPrepared(id string) bool {
	if rec, ok := p.tlog.GetCached(id); ok {
		return rec.State == ledger.StatePrepared
	}
	rec, err := p.tlog.Get(context.Background(), id)
	if err != nil {
		return !errors.Is(err, ledger.ErrTransferNotFound)
	}
	p.tlog.DropCached(id)
	return rec.State == ledger.StatePrepared
}

func (p *Plugin) onExpiry(id string) {
	p.timers.fired(id)
	if !p.gate.Enter() {
		return // disconnected: Connect arms it again
	}
	defer p.gate.Exit()
	p.expire(context.Background(), id, true)
}

// expire cancels a prepared transfer that is due, emits its cancel event
// and, if tell is set, tells the peer (expire_transfer, errors ignored). A
// transfer not yet due is watched again. It reports whether this call
// cancelled the transfer. The caller is inside the gate.
func (p *Plugin) expire(ctx context.Context, id string, tell bool) bool {
	rec, found, err := p.record(ctx, id)
	if err != nil {
		p.logger.Error("virtual: expiry", "transfer", id, "err", err)
		return false
	}
	if !found || rec.State != ledger.StatePrepared {
		return false
	}
	now := p.clock.Now()
	if now.Before(rec.Transfer.ExpiresAt) {
		p.watch(rec.Transfer)
		return false
	}
	kind := ledger.EventOutgoingCancel
	if rec.Incoming {
		kind = ledger.EventIncomingCancel
	} else {
		p.emitPrepareOf(id)
	}
	if !p.cancel(ctx, rec, kind, ledger.Timeout(p.peering.Prefix, now)) {
		return false
	}
	if tell {
		if _, err := p.call(ctx, "expire_transfer", id); err != nil {
			p.logger.Debug("virtual: expire_transfer failed (ignored)", "transfer", id, "err", err)
		}
	}
	return true
}

// cancel cancels a prepared transfer, taking back the credit of an
// incoming one, and emits kind if this call did it, which it reports.
func (p *Plugin) cancel(ctx context.Context, rec ledger.Record, kind ledger.EventKind, reason ledger.Rejection) bool {
	var changes []ledger.Change
	if rec.Incoming {
		changes = []ledger.Change{p.debit(rec.Transfer.Amount)}
	}
	id := rec.Transfer.ID
	res, err := p.tlog.Cancel(context.WithoutCancel(ctx), id, changes...)
	if err != nil {
		if !errors.Is(err, ledger.ErrAlreadyFulfilled) {
			p.logger.Error("virtual: cancelling transfer", "transfer", id, "err", err)
		}
		return false
	}
	p.timers.disarm(id)
	p.tlog.DropCached(id)
	if res.Applied {
		p.events.Emit(&ledger.Event{Kind: kind, Transfer: res.Record.Transfer, Rejection: reason})
	}
	return res.Applied
}

// Fulfillment returns the fulfillment of a transfer of either direction.
func (p *Plugin) Fulfillment(ctx context.Context, id string) (ilp.Fulfillment, error) {
	if !p.gate.Enter() {
		return ilp.Fulfillment{}, ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	s, err := p.tlog.GetFulfillment(ctx, id)
	if err != nil {
		return ilp.Fulfillment{}, fmt.Errorf("virtual: %w", err)
	}
	f, err := ilp.ParseFulfillment(s)
	if err != nil {
		return ilp.Fulfillment{}, fmt.Errorf("virtual: transfer %q: stored fulfillment unreadable: %w", id, ledger.ErrMissingFulfillment)
	}
	return f, nil
}

// SendRequest sends a message to the peer's request handler and returns
// its response (see ledger.Plugin).
func (p *Plugin) SendRequest(ctx context.Context, m ledger.Message) (ledger.Message, error) {
	if !p.gate.Enter() {
		return ledger.Message{}, ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	if err := p.checkMessage(&m, p.peering.Account, p.peering.PeerAccount); err != nil {
		return ledger.Message{}, err
	}
	raw, err := p.call(ctx, "send_request", m)
	if err != nil {
		return ledger.Message{}, err
	}
	var resp ledger.Message
	if err := json.Unmarshal(raw, &resp); err != nil {
		return ledger.Message{}, fmt.Errorf("virtual: request %q: reading the response: %w", m.ID, err)
	}
	// 2017 peers were checked field by field; accept missing fields,
	// refuse wrong ones.
	if resp.ID == "" {
		resp.ID = m.ID
	}
	if resp.Ledger == "" {
		resp.Ledger = p.peering.Prefix
	}
	if resp.From == "" {
		resp.From = p.peering.PeerAccount
	}
	if resp.To == "" {
		resp.To = p.peering.Account
	}
	if resp.ID != m.ID || resp.Ledger != p.peering.Prefix || resp.From != p.peering.PeerAccount || resp.To != p.peering.Account {
		return ledger.Message{}, ledger.Errorf(ledger.ErrInvalidFields, "response to request %q has the wrong id, ledger, from or to", m.ID)
	}
	return resp, nil
}

// handleRequest answers a request of the peer (send_request) with the
// registered handler. A failing handler gives an error response, as in
// 2017; a missing one a NotAcceptedError.
func (p *Plugin) handleRequest(ctx context.Context, m ledger.Message) (resp ledger.Message, err error) {
	if err := p.checkMessage(&m, p.peering.PeerAccount, p.peering.Account); err != nil {
		return ledger.Message{}, err
	}
	h := p.handler.Load()
	if h == nil {
		return ledger.Message{}, ledger.NewError(ledger.ErrNotAccepted, "no request handler registered")
	}
	resp, herr := p.runHandler(ctx, *h, m)
	if herr != nil {
		p.logger.Info("virtual: request handler failed", "request", m.ID, "err", herr)
		if resp, err = ledger.ErrorResponse(m, p.peering.Account, herr, p.clock.Now()); err != nil {
			return ledger.Message{}, err
		}
	}
	resp.ID, resp.Ledger, resp.From, resp.To = m.ID, p.peering.Prefix, p.peering.Account, p.peering.PeerAccount
	return resp, nil
}

func (p *Plugin) runHandler(ctx context.Context, h ledger.RequestHandler, m ledger.Message) (resp ledger.Message, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("virtual: request handler panicked: %v", v)
		}
	}()
	return h(ctx, m)
}

// checkMessage validates a message between the two accounts and fills in
// its defaults.
func (p *Plugin) checkMessage(m *ledger.Message, from, to string) error {
	if len(m.ID) > pluginkit.MaxIDLen {
		return ledger.Errorf(ledger.ErrInvalidFields, "message id is longer than %d bytes", pluginkit.MaxIDLen)
	}
	if m.ID == "" {
		m.ID = pluginkit.NewID()
	}
	prefix := p.peering.Prefix
	if m.Ledger == "" {
		m.Ledger = prefix
	} else if m.Ledger != prefix {
		return ledger.Errorf(ledger.ErrInvalidFields, "ledger %q is not %q", m.Ledger, prefix)
	}
	if m.From == "" {
		m.From = from
	} else if m.From != from {
		return ledger.Errorf(ledger.ErrInvalidFields, "from %q is not the sending account", m.From)
	}
	if m.To != to {
		return ledger.Errorf(ledger.ErrInvalidFields, "to %q is not the receiving account", m.To)
	}
	if m.ILP == "" && len(m.Custom) == 0 {
		return ledger.NewError(ledger.ErrInvalidFields, "message has neither ilp nor custom")
	}
	if len(m.Custom) > 0 && !ledger.IsJSONObject(m.Custom) {
		return ledger.NewError(ledger.ErrInvalidFields, "custom is not a JSON object")
	}
	return nil
}
