package virtual

import (
	"context"
	"fmt"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// Several processes may run a Plugin each for one peer on one shared
// backend (the kit's processes on one PostgreSQL database). A step is an
// atomic statement of the backend whichever process makes it; each process
// arms the expiry of the transfers it prepares, and the process that keeps
// the expiries for all (the kit's leader) also arms those of the others,
// so that a transfer whose process died still expires.

// WatchExpiry arms the expiry of transfer id, prepared by another process
// sharing this plugin's backend. When it fires, the transfer's state is
// read from the backend; one already resolved is left alone.
func (p *Plugin) WatchExpiry(id string, expiresAt time.Time) {
	if !p.gate.Enter() {
		return
	}
	defer p.gate.Exit()
	p.tlog.DropCached(id)
	p.watch(ledger.Transfer{ID: id, ExpiresAt: expiresAt})
}

// ArmPrepared arms the expiry of every transfer the backend holds
// prepared, as Connect does, expiring at once (and telling the peer) those
// already due: the process taking over the expiries calls it.
func (p *Plugin) ArmPrepared(ctx context.Context) error {
	if !p.gate.Enter() {
		return ledger.ErrNotConnected
	}
	defer p.gate.Exit()
	prepared, err := p.tlog.Prepared(ctx)
	if err != nil {
		return fmt.Errorf("virtual: %s: prepared transfers: %w", p.peering.Prefix, err)
	}
	for _, rec := range prepared {
		p.tlog.DropCached(rec.Transfer.ID)
		p.watch(rec.Transfer)
	}
	return nil
}

// PreparedIncoming lists the transfers the peer sent that are still
// prepared (connector.Recover finishes them after a restart or a takeover:
// the process that forwarded one may have died after the payment it paid
// for was fulfilled).
func (p *Plugin) PreparedIncoming(ctx context.Context) ([]ledger.Transfer, error) {
	prepared, err := p.tlog.Prepared(ctx)
	if err != nil {
		return nil, fmt.Errorf("virtual: %s: prepared transfers: %w", p.peering.Prefix, err)
	}
	out := make([]ledger.Transfer, 0, len(prepared))
	for _, rec := range prepared {
		if rec.Incoming {
			out = append(out, rec.Transfer)
		}
	}
	return out, nil
}
