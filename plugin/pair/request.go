package pair

import (
	"context"

	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// SendRequest sends a request to the other end's request handler and
// returns its response (see ledger.Plugin). The handler runs in a goroutine
// of its own with a context that is cancelled when SendRequest returns, so
// the call ends when ctx does even if the handler does not.
func (e *End) SendRequest(ctx context.Context, m ledger.Message) (ledger.Message, error) {
	if !e.gate.Enter() {
		return ledger.Message{}, ledger.ErrNotConnected
	}
	defer e.gate.Exit()
	if err := e.checkRequest(&m); err != nil {
		return ledger.Message{}, err
	}
	if err := e.enterPeer(); err != nil {
		return ledger.Message{}, err
	}
	p := e.peer
	defer p.gate.Exit()
	h := p.handler.Load()
	if h == nil {
		return ledger.Message{}, ledger.NewError(ledger.ErrNotAccepted, "no request handler registered")
	}

	resp, err := pluginkit.CallHandler(ctx, *h, m, p.account, e.l.clock.Now, p.logger, "pair")
	if err != nil {
		return ledger.Message{}, err
	}
	resp.ID, resp.Ledger, resp.From, resp.To = m.ID, e.l.prefix, p.account, e.account
	return resp, nil
}

// checkRequest validates a request e is asked to send and fills in its
// defaults.
func (e *End) checkRequest(m *ledger.Message) error {
	if len(m.ID) > pluginkit.MaxIDLen {
		return ledger.Errorf(ledger.ErrInvalidFields, "message id is longer than %d bytes", pluginkit.MaxIDLen)
	}
	if m.ID == "" {
		m.ID = pluginkit.NewID()
	}
	if m.Ledger == "" {
		m.Ledger = e.l.prefix
	} else if m.Ledger != e.l.prefix {
		return ledger.Errorf(ledger.ErrInvalidFields, "ledger %q is not %q", m.Ledger, e.l.prefix)
	}
	if m.From == "" {
		m.From = e.account
	} else if m.From != e.account {
		return ledger.Errorf(ledger.ErrInvalidFields, "from %q is not this account", m.From)
	}
	if m.To != e.peerAccount {
		return ledger.Errorf(ledger.ErrInvalidFields, "to %q is not the peer account", m.To)
	}
	if m.ILP == "" && len(m.Custom) == 0 {
		return ledger.NewError(ledger.ErrInvalidFields, "message has neither ilp nor custom")
	}
	if len(m.Custom) > 0 && !ledger.IsJSONObject(m.Custom) {
		return ledger.NewError(ledger.ErrInvalidFields, "custom is not a JSON object")
	}
	return nil
}
