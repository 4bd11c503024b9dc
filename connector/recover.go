package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// PendingLister is what a plugin offers so that the connector can finish,
// after a restart, the payments a stop left half-done: the transfers still
// prepared to the plugin's own account. The trustline server's views
// implement it.
type PendingLister interface {
	PreparedIncoming(ctx context.Context) ([]ledger.Transfer, error)
}

// fulfillmentReader is the part of ledger.Plugin that tells what became of
// a transfer the connector sent.
type fulfillmentReader interface {
	Fulfillment(ctx context.Context, transferID string) (ilp.Fulfillment, error)
}

// Recovered counts what Recover did.
type Recovered struct {
	Fulfilled int // source transfers fulfilled: their payment had been fulfilled
	Rejected  int // source transfers rejected: their payment had ended unfulfilled
	Pending   int // payments still under way: their events finish them
	Forwarded int // source transfers not forwarded before the stop, forwarded now
	Skipped   int // left to expire: their state could not be read
}

// Recover finishes the payments that a stop of the process left half-done.
// The connector keeps no state, but an outgoing transfer's id derives from
// its source transfer, so for each transfer still prepared to one of the
// connector's accounts (on plugins that are PendingListers) it looks the
// outgoing transfer up on the other plugins: fulfilled, it fulfills the
// source transfer with the same fulfillment (a crash between the two
// steps would otherwise leave the connector paying for nothing);
// cancelled, it rejects the source; still prepared, it waits for its
// events like any payment; never sent, it forwards the source transfer now.
//
// Call it once every plugin of the process has been added (an outgoing
// transfer can only be found on a plugin the connector has). A transfer
// whose state cannot be read is left alone: it expires on its ledger.
func (c *Connector) Recover(ctx context.Context) (Recovered, error) {
	return c.recover(ctx, true)
}

// RecoverFinished is Recover for a connector that shares its plugins'
// backends with live processes (the kit's processes on one database): it
// acts only on payments whose outgoing transfer reached a final state
// (fulfilled: the source is fulfilled; cancelled: rejected). A source
// transfer with no outgoing transfer may be in the hands of a live process
// about to forward it, so it is left to that process or to its expiry
// (counted as Skipped), never forwarded again.
func (c *Connector) RecoverFinished(ctx context.Context) (Recovered, error) {
	return c.recover(ctx, false)
}

func (c *Connector) recover(ctx context.Context, forward bool) (Recovered, error) {
	var r Recovered
	c.mu.RLock()
	entries := make([]*entry, 0, len(c.plugins))
	for _, p := range c.order {
		entries = append(entries, c.plugins[p])
	}
	c.mu.RUnlock()

	var errs []error
	for _, src := range entries {
		lister, ok := src.plugin.(PendingLister)
		if !ok {
			continue
		}
		pending, err := lister.PreparedIncoming(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("connector: recover %s: %w", src.prefix, err))
			continue
		}
		for _, t := range pending {
			c.recoverOne(ctx, src, t, entries, forward, &r)
		}
	}
	if r != (Recovered{}) {
		c.log.Info("recovered payments", "fulfilled", r.Fulfilled, "rejected", r.Rejected,
			"pending", r.Pending, "forwarded", r.Forwarded, "skipped", r.Skipped)
	}
	return r, errors.Join(errs...)
}

func (c *Connector) recoverOne(ctx context.Context, src *entry, t ledger.Transfer, entries []*entry, forward bool, r *Recovered) {
	if t.ExecutionCondition == "" {
		return
	}
	outID := c.outgoingID(src.prefix, t.ID)
	for _, dst := range entries {
		if dst == src {
			continue
		}
		fr, ok := dst.plugin.(fulfillmentReader)
		if !ok {
			continue
		}
		f, err := fr.Fulfillment(ctx, outID)
		switch {
		case err == nil:
			r.Fulfilled++
			c.fulfillSource(ctx, src, t.ID, t.ExpiresAt, f)
			return
		case errors.Is(err, ledger.ErrMissingFulfillment):
			r.Pending++
			return
		case errors.Is(err, ledger.ErrAlreadyRolledBack):
			r.Rejected++
			reason := ledger.NewRejection(ilp.CodeInternalError, src.account,
				"the payment ended unfulfilled while the connector was stopped", c.clock.Now())
			if err := src.plugin.RejectIncomingTransfer(ctx, t.ID, reason); err != nil {
				c.log.Info("recover: rejecting source transfer failed", "ledger", src.prefix, "transfer", t.ID, "err", err)
			}
			return
		case errors.Is(err, ledger.ErrTransferNotFound):
			continue
		default:
			// The state on that ledger is unknown: forwarding now could pay
			// twice and rejecting could lose a fulfilled payment.
			r.Skipped++
			c.log.Warn("recover: cannot read outgoing transfer", "ledger", dst.prefix, "transfer", outID, "err", err)
			return
		}
	}
	if !forward {
		r.Skipped++
		return
	}
	r.Forwarded++
	c.forward(ctx, src, t)
}
