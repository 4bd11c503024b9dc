package connector

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// note is the NoteToSelf of an outgoing transfer: where it came from, so
// that its fulfillment or rejection can be passed back without a store. The
// first three fields are those of 2017; the expiry is ours (to know how long
// to retry a fulfillment).
type note struct {
	SourceLedger    string `json:"source_transfer_ledger"`
	SourceID        string `json:"source_transfer_id"`
	SourceAmount    string `json:"source_transfer_amount"`
	SourceExpiresAt string `json:"source_transfer_expires_at,omitempty"`
}

// Retry of a fulfillment passed back: first after fulfillRetryMin, doubling
// up to fulfillRetryMax, until the source transfer expires.
const (
	fulfillRetryMin = 100 * time.Millisecond
	fulfillRetryMax = 5 * time.Second
)

// eventHandler reacts to e's plugin events; slow work runs in the
// background, as the plugin contract asks.
func (c *Connector) eventHandler(e *entry) ledger.EventHandler {
	return func(ev ledger.Event) {
		if ev.Remote {
			return // the process that committed it acts on it
		}
		switch ev.Kind {
		case ledger.EventIncomingPrepare, ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
			c.spawn(task{kind: ev.Kind, e: e, t: ev.Transfer, f: ev.Fulfillment, r: ev.Rejection})
		}
	}
}

// forwardError is a refusal of an incoming transfer with its ILP code.
type forwardError struct {
	code, msg string
}

// forward handles an incoming prepared transfer on src: it sends the
// transfer that pays it on to the next ledger, or rejects it.
func (c *Connector) forward(ctx context.Context, src *entry, t ledger.Transfer) {
	out, dst, ferr, ignore := c.destinationTransfer(src, t)
	if ignore {
		return
	}
	if ferr == nil {
		err := dst.plugin.SendTransfer(ctx, out)
		if err == nil {
			return
		}
		if errors.Is(err, ledger.ErrDuplicateID) {
			// The id is derived from the source transfer, so it was
			// forwarded already (an event delivered again) with other
			// figures (the curves moved since). That transfer is still
			// under way: rejecting the source now could lose its amount if
			// it is fulfilled. 2017 rejected with F00 here.
			c.log.Info("incoming transfer already forwarded", "ledger", src.prefix, "transfer", t.ID, "outgoing", out.ID)
			return
		}
		ferr = &forwardError{sendFailureCode(err), "cannot send the outgoing transfer: " + ledger.ErrorName(err)}
		c.log.Info("forward failed", "ledger", src.prefix, "transfer", t.ID, "next", dst.prefix, "err", err)
	}
	reason := ledger.NewRejection(ferr.code, src.account, ferr.msg, c.clock.Now())
	if err := src.plugin.RejectIncomingTransfer(ctx, t.ID, reason); err != nil {
		c.log.Info("rejecting incoming transfer failed", "ledger", src.prefix, "transfer", t.ID, "err", err)
	}
}

// destinationTransfer decides what to do with t (getDestinationTransfer of
// 2017): the outgoing transfer and its plugin, or the refusal, or nothing
// (ignore) for a payment addressed to the connector itself.
func (c *Connector) destinationTransfer(src *entry, t ledger.Transfer) (ledger.Transfer, *entry, *forwardError, bool) {
	now := c.clock.Now()
	if t.ExecutionCondition == "" || t.ExpiresAt.IsZero() {
		// Not something to forward (unconditional or without expiry):
		// 2017 only forwarded conditional transfers.
		return ledger.Transfer{}, nil, &forwardError{ilp.CodeBadRequest, "transfer must be conditional and expire"}, false
	}
	raw, err := ilp.DecodeBase64(t.ILP)
	if err != nil {
		return ledger.Transfer{}, nil, &forwardError{ilp.CodeInvalidPacket, "invalid ilp packet"}, false
	}
	var pkt ilp.Payment
	if err := pkt.UnmarshalBinary(raw); err != nil {
		return ledger.Transfer{}, nil, &forwardError{ilp.CodeInvalidPacket, "invalid ilp packet"}, false
	}
	if strings.HasPrefix(pkt.Account, src.account) {
		return ledger.Transfer{}, nil, nil, true // for the connector itself
	}
	if !t.ExpiresAt.After(now) {
		return ledger.Transfer{}, nil, &forwardError{ilp.CodeTransferTimedOut, "source transfer has already expired"}, false
	}
	hop, ok := c.local.FindBestHopForSourceAmount(src.prefix, pkt.Account, t.Amount)
	if !ok {
		return ledger.Transfer{}, nil, &forwardError{ilp.CodeUnreachable, "no route found to " + pkt.Account}, false
	}
	route := hop.Route
	dst, ok := c.entry(route.NextLedger)
	if !ok {
		return ledger.Transfer{}, nil, &forwardError{ilp.CodeUnreachable, "no route found to " + pkt.Account}, false
	}
	expiresAt := t.ExpiresAt.Add(-c.cfg.MinMessageWindow)
	if !expiresAt.After(now) {
		return ledger.Transfer{}, nil, &forwardError{ilp.CodeInsufficientTimeout, "source transfer expires too soon"}, false
	}
	if expiresAt.Sub(now) > c.cfg.MaxHoldTime {
		return ledger.Transfer{}, nil, &forwardError{ilp.CodeInsufficientTimeout, "destination transfer would be held too long"}, false
	}
	out := ledger.Transfer{
		ID:                 c.outgoingID(src.prefix, t.ID),
		Ledger:             dst.prefix,
		From:               dst.account,
		ILP:                t.ILP,
		ExecutionCondition: t.ExecutionCondition,
		ExpiresAt:          expiresAt,
	}
	if route.IsLocal && route.Curve != nil {
		// Last hop: pay the receiver the packet's amount, if what arrived
		// covers it less the slippage.
		if !c.withinSlippage(pkt.Amount, route.Curve.AmountAt(t.Amount)) {
			return ledger.Transfer{}, nil, &forwardError{ilp.CodeInsufficientSourceAmount, "payment rate does not match the rate currently offered"}, false
		}
		out.To, out.Amount = pkt.Account, pkt.Amount
	} else {
		pair, ok := c.local.LocalPairRoute(src.prefix, route.NextLedger)
		if !ok || pair.Curve == nil {
			return ledger.Transfer{}, nil, &forwardError{ilp.CodeUnreachable, "no route found to " + pkt.Account}, false
		}
		out.To, out.Amount = hop.NextHop, pair.Curve.AmountAt(t.Amount)
	}
	out.NoteToSelf = sourceNote(src.prefix, t.ID, t.Amount, t.ExpiresAt)
	return out, dst, nil, false
}

// noteTime is the layout of ledger.FormatTime.
const noteTime = "2006-01-02T15:04:05.000Z"

// sourceNote is the marshalled note of a transfer forwarding the transfer
// id of ledger: what note.marshal gives, written in one buffer.
func sourceNote(ledgerPrefix, id string, amount uint64, expiresAt time.Time) []byte {
	if !plainJSON(ledgerPrefix) || !plainJSON(id) {
		return note{
			SourceLedger:    ledgerPrefix,
			SourceID:        id,
			SourceAmount:    strconv.FormatUint(amount, 10),
			SourceExpiresAt: ledger.FormatTime(expiresAt),
		}.marshal()
	}
	b := make([]byte, 0, 160+len(ledgerPrefix)+len(id))
	b = append(b, `{"source_transfer_ledger":"`...)
	b = append(b, ledgerPrefix...)
	b = append(b, `","source_transfer_id":"`...)
	b = append(b, id...)
	b = append(b, `","source_transfer_amount":"`...)
	b = strconv.AppendUint(b, amount, 10)
	b = append(b, `","source_transfer_expires_at":"`...)
	b = expiresAt.UTC().AppendFormat(b, noteTime)
	return append(b, `"}`...)
}

// marshal encodes the note. Its strings are ILP addresses, ids and
// timestamps, plain ASCII in practice, which are written directly; anything
// else goes through encoding/json.
func (n note) marshal() []byte {
	if !plainJSON(n.SourceLedger) || !plainJSON(n.SourceID) || !plainJSON(n.SourceAmount) || !plainJSON(n.SourceExpiresAt) {
		b, _ := json.Marshal(n)
		return b
	}
	b := make([]byte, 0, 128+len(n.SourceLedger)+len(n.SourceID))
	b = append(b, `{"source_transfer_ledger":"`...)
	b = append(b, n.SourceLedger...)
	b = append(b, `","source_transfer_id":"`...)
	b = append(b, n.SourceID...)
	b = append(b, `","source_transfer_amount":"`...)
	b = append(b, n.SourceAmount...)
	if n.SourceExpiresAt != "" {
		b = append(b, `","source_transfer_expires_at":"`...)
		b = append(b, n.SourceExpiresAt...)
	}
	return append(b, `"}`...)
}

// parseNote reads a note. The exact form marshal writes is read without
// encoding/json (it is on every payment's path); any other form, such as a
// note re-encoded by a durable backend, goes through encoding/json.
func parseNote(b []byte) (note, bool) {
	var n note
	s := string(b)
	fields := []struct {
		key string
		dst *string
		opt bool
	}{
		{`{"source_transfer_ledger":"`, &n.SourceLedger, false},
		{`","source_transfer_id":"`, &n.SourceID, false},
		{`","source_transfer_amount":"`, &n.SourceAmount, false},
		{`","source_transfer_expires_at":"`, &n.SourceExpiresAt, true},
	}
	fast := true
	for _, f := range fields {
		rest, ok := strings.CutPrefix(s, f.key)
		if !ok {
			if f.opt {
				break
			}
			fast = false
			break
		}
		end := strings.IndexByte(rest, '"')
		if end < 0 || strings.IndexByte(rest[:end], '\\') >= 0 {
			fast = false
			break
		}
		*f.dst, s = rest[:end], rest[end:]
	}
	if fast && s == `"}` {
		return n, n.SourceLedger != "" && n.SourceID != ""
	}
	// A note of its own for encoding/json, so that the fast path's stays
	// on the stack.
	j := new(note)
	if json.Unmarshal(b, j) != nil {
		return note{}, false
	}
	return *j, j.SourceLedger != "" && j.SourceID != ""
}

// plainJSON reports whether s can be written between JSON quotes as it is.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// sendFailureCode maps a refused outgoing transfer to the ILP code sent back.
func sendFailureCode(err error) string {
	switch ledger.ErrorName(err) {
	case ledger.NameInsufficientBalance, ledger.NameNotAccepted:
		return ilp.CodeInsufficientLiquidity
	case ledger.NameAccountNotFound:
		return ilp.CodeUnreachable
	case ledger.NameInvalidFields:
		return ilp.CodeBadRequest
	}
	return ilp.CodeLedgerUnreachable
}

// source finds the source transfer of an outgoing transfer of ours.
func (c *Connector) source(t ledger.Transfer) (*entry, note, bool) {
	n, ok := parseNote(t.NoteToSelf)
	if !ok {
		return nil, n, false
	}
	e, ok := c.entry(n.SourceLedger)
	return e, n, ok
}

// PassFulfillment fulfills the source transfer of outgoing transfer t with
// f, retrying until the source transfer expires: what the connector does on
// t's outgoing_fulfill event, for a process that learns of the fulfillment
// otherwise (a peer fulfilling again a transfer that another process
// sharing the backend executed). A source already fulfilled stays so.
func (c *Connector) PassFulfillment(ctx context.Context, t ledger.Transfer, f ilp.Fulfillment) {
	c.passFulfillment(ctx, t, f)
}

// passFulfillment fulfills the source transfer of t with f, retrying until
// the source transfer expires.
func (c *Connector) passFulfillment(ctx context.Context, t ledger.Transfer, f ilp.Fulfillment) {
	src, n, ok := c.source(t)
	if !ok {
		return
	}
	var deadline time.Time
	if n.SourceExpiresAt != "" {
		deadline, _ = ledger.ParseTime(n.SourceExpiresAt)
	}
	c.fulfillSource(ctx, src, n.SourceID, deadline, f)
}

// fulfillSource fulfills the source transfer id on src with f, retrying
// until the source transfer expires (deadline; zero means no deadline).
func (c *Connector) fulfillSource(ctx context.Context, src *entry, id string, deadline time.Time, f ilp.Fulfillment) {
	wait := fulfillRetryMin
	for {
		err := src.plugin.FulfillCondition(ctx, id, f)
		if err == nil {
			return
		}
		if permanent(err) || ctx.Err() != nil {
			c.log.Warn("passing fulfillment back failed", "ledger", src.prefix, "transfer", id, "err", err)
			return
		}
		now := c.clock.Now()
		if !deadline.IsZero() && !now.Add(wait).Before(deadline) {
			c.log.Warn("gave up passing fulfillment back: source transfer expires", "ledger", src.prefix, "transfer", id, "err", err)
			return
		}
		if !c.sleep(ctx, wait) {
			return
		}
		wait = min(wait*2, fulfillRetryMax)
	}
}

// permanent reports whether retrying a fulfillment cannot help.
func permanent(err error) bool {
	return errors.Is(err, ledger.ErrAlreadyRolledBack) || errors.Is(err, ledger.ErrTransferNotFound) ||
		errors.Is(err, ledger.ErrTransferNotConditional) || errors.Is(err, ledger.ErrNotAccepted) ||
		errors.Is(err, ledger.ErrAlreadyFulfilled) || errors.Is(err, ledger.ErrInvalidFields)
}

// sleep waits d on the connector's clock; false if ctx ended first.
func (c *Connector) sleep(ctx context.Context, d time.Duration) bool {
	done := make(chan struct{})
	t := c.clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// passRejection rejects the source transfer of t with the reason the next
// ledger gave, marked as forwarded by the connector.
func (c *Connector) passRejection(ctx context.Context, t ledger.Transfer, r ledger.Rejection) {
	src, n, ok := c.source(t)
	if !ok {
		return
	}
	if r.Code == "" {
		r = ledger.NewRejection(ilp.CodeInternalError, t.Ledger, "rejected without a reason", c.clock.Now())
	}
	if err := src.plugin.RejectIncomingTransfer(ctx, n.SourceID, r.Forwarded(src.account)); err != nil {
		c.log.Info("passing rejection back failed", "ledger", src.prefix, "transfer", n.SourceID, "err", err)
	}
}
