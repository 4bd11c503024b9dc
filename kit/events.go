package kit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/psk"
)

// hub tells who waits on a user (a payment in progress, an event stream)
// that something of that user changed.
type hub struct {
	mu   sync.Mutex
	subs map[int64]map[chan struct{}]struct{}
}

// Watch returns a channel that receives (without blocking the sender,
// coalesced) after each change of the user's payments or balance, and the
// function that stops it.
func (k *Kit) Watch(userID int64) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	k.hub.mu.Lock()
	if k.hub.subs == nil {
		k.hub.subs = map[int64]map[chan struct{}]struct{}{}
	}
	if k.hub.subs[userID] == nil {
		k.hub.subs[userID] = map[chan struct{}]struct{}{}
	}
	k.hub.subs[userID][ch] = struct{}{}
	k.hub.mu.Unlock()
	return ch, func() {
		k.hub.mu.Lock()
		delete(k.hub.subs[userID], ch)
		if len(k.hub.subs[userID]) == 0 {
			delete(k.hub.subs, userID)
		}
		k.hub.mu.Unlock()
	}
}

// notify tells who waits on the users, in this process and the others.
func (k *Kit) notify(userIDs ...int64) {
	k.notifyLocal(userIDs...)
	k.publish(topicNotify, userIDs)
}

func (k *Kit) notifyLocal(userIDs ...int64) {
	k.hub.mu.Lock()
	defer k.hub.mu.Unlock()
	for _, id := range userIDs {
		for ch := range k.hub.subs[id] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// waitPayment waits until the payment id is no longer pending, or ctx ends
// (then it returns the payment as it stands).
func (k *Kit) waitPayment(ctx context.Context, id string) (store.Payment, error) {
	p, err := k.st.Payment(ctx, id)
	if err != nil {
		return store.Payment{}, err
	}
	ch, stop := k.Watch(p.UserID)
	defer stop()
	for {
		p, err = k.st.Payment(context.WithoutCancel(ctx), id)
		if err != nil || p.State != store.PaymentPending {
			return p, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return p, nil
		case <-k.closing:
			return p, nil
		}
	}
}

// view returns the kit's connected view of a user's account.
func (k *Kit) view(ctx context.Context, name string) (ledger.Plugin, error) {
	k.viewMu.Lock()
	defer k.viewMu.Unlock()
	if v, ok := k.views[name]; ok {
		return v, nil
	}
	v, err := k.server.Plugin(name)
	if err != nil {
		return nil, err
	}
	if err := v.Connect(ctx); err != nil {
		return nil, err
	}
	if k.views == nil {
		k.views = map[string]ledger.Plugin{}
	}
	k.views[name] = v
	return v, nil
}

func (k *Kit) closeViews(ctx context.Context) {
	k.viewMu.Lock()
	defer k.viewMu.Unlock()
	for name, v := range k.views {
		_ = v.Disconnect(ctx)
		delete(k.views, name)
	}
}

// goBackground runs fn in the background; Close waits for it.
func (k *Kit) goBackground(fn func(ctx context.Context)) {
	k.bgMu.Lock()
	defer k.bgMu.Unlock()
	if k.bgClosed {
		return
	}
	k.bg.Add(1)
	go func() {
		defer k.bg.Done()
		fn(k.bgCtx)
	}()
}

// onEvent follows every transfer of the kit's ledger (the admin view): it
// receives PSK payments for users and finishes the users' payments.
func (k *Kit) onEvent(account string, ev ledger.Event) {
	if account == IssuerAccount {
		return
	}
	t := ev.Transfer
	switch ev.Kind {
	case ledger.EventIncomingPrepare:
		if t.ILP != "" {
			k.goBackground(func(ctx context.Context) { k.receive(ctx, account, t) })
		}
	case ledger.EventIncomingFulfill:
		k.goBackground(func(ctx context.Context) { k.finish(ctx, "incoming", t.ID, store.PaymentSuccess, "") })
	case ledger.EventIncomingReject, ledger.EventIncomingCancel:
		k.goBackground(func(ctx context.Context) { k.finish(ctx, "incoming", t.ID, store.PaymentFailed, rejectionID(ev)) })
	case ledger.EventOutgoingFulfill:
		k.goBackground(func(ctx context.Context) { k.finish(ctx, "outgoing", t.ID, store.PaymentSuccess, "") })
	case ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
		k.goBackground(func(ctx context.Context) { k.finish(ctx, "outgoing", t.ID, store.PaymentFailed, rejectionID(ev)) })
	}
}

// rejectionID names why a payment failed.
func rejectionID(ev ledger.Event) string {
	if ev.Kind == ledger.EventIncomingCancel || ev.Kind == ledger.EventOutgoingCancel {
		return "ExpiredError"
	}
	switch ev.Rejection.Code {
	case "T04":
		return "InsufficientLiquidityError"
	case "F02":
		return "NoRouteError"
	}
	return "RejectedError"
}

// finish ends the payment of a transfer, if the kit records one.
func (k *Kit) finish(ctx context.Context, direction, transferID, state, errText string) {
	p, err := k.st.PaymentByTransfer(ctx, direction, transferID)
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		k.log.Error("payment of transfer", "transfer", transferID, "err", err)
		return
	}
	if _, err := k.st.FinishPayment(ctx, p.ID, state, errText); err != nil {
		k.log.Error("finishing payment", "payment", p.ID, "err", err)
		return
	}
	k.notify(p.UserID)
}

// receive handles a prepared transfer to a user that carries an ILP packet:
// a PSK payment to the user's SPSP receiver is recorded and fulfilled, an
// invalid one rejected with the PSK error; a packet for another receiver
// (the user's own program) is left alone.
func (k *Kit) receive(ctx context.Context, user string, t ledger.Transfer) {
	r := psk.Receiver{Account: k.prefix + user, Secret: k.ReceiverSecret(user), Now: k.clock.Now}
	acc, err := r.Receive(psk.Incoming{Amount: t.Amount, ExecutionCondition: t.ExecutionCondition, ExpiresAt: t.ExpiresAt, ILP: t.ILP})
	if errors.Is(err, psk.ErrNotMine) {
		return
	}
	view, verr := k.view(ctx, user)
	if verr != nil {
		k.log.Error("receiving", "user", user, "err", verr)
		return
	}
	var rej *psk.Rejection
	if errors.As(err, &rej) {
		reason := ledger.NewRejection(rej.Code, k.prefix+user, rej.Message, k.clock.Now())
		if err := view.RejectIncomingTransfer(ctx, t.ID, reason); err != nil {
			k.log.Info("rejecting payment", "user", user, "transfer", t.ID, "err", err)
		}
		return
	}
	if err != nil {
		k.log.Error("receiving", "user", user, "transfer", t.ID, "err", err)
		return
	}
	u, err := k.st.UserByName(ctx, user)
	if err != nil {
		k.log.Error("receiving", "user", user, "err", err)
		return
	}
	h := acc.Details.Headers
	from := h.Get("source-identifier")
	if from == "" {
		from = t.From
	}
	code, scale := k.Currency()
	p := store.Payment{
		ID: "in:" + t.ID, UserID: u.ID, Direction: "incoming", TransferID: t.ID,
		Counterparty: clip(from, 1024), CounterpartyName: clip(h.Get("source-name"), 256),
		CounterpartyImage: clip(h.Get("source-image-url"), 1024),
		SourceAmount:      int64(min(t.Amount, 1<<63-1)), DestinationAmount: int64(min(acc.DestinationAmount, 1<<63-1)),
		DestinationCode: code, DestinationScale: scale, Message: clip(h.Get("message"), maxMessageLen),
		State: store.PaymentPending,
	}
	if _, _, err := k.st.InsertPayment(ctx, p); err != nil {
		// Without a record the payment is not taken: it expires and the
		// sender keeps the money.
		k.log.Error("recording incoming payment", "user", user, "transfer", t.ID, "err", err)
		return
	}
	if err := view.FulfillCondition(ctx, t.ID, acc.Fulfillment); err != nil {
		k.log.Info("fulfilling payment", "user", user, "transfer", t.ID, "err", err)
		if errors.Is(err, ledger.ErrAlreadyRolledBack) {
			k.finish(ctx, "incoming", t.ID, store.PaymentFailed, "ExpiredError")
		}
		return
	}
	k.finish(ctx, "incoming", t.ID, store.PaymentSuccess, "")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// reconcile finishes, after a restart, the payments the last run left
// pending, from the state of their transfers on the ledger. Payments made
// after cutoff (unless it is zero) are left alone: another process sharing
// the database may be making them (it records a payment, then sends its
// transfer), and their own events finish them.
func (k *Kit) reconcile(ctx context.Context, cutoff time.Time) error {
	pending, err := k.st.PendingPayments(ctx)
	if err != nil {
		return err
	}
	for _, p := range pending {
		if !cutoff.IsZero() && p.CreatedAt.After(cutoff) {
			continue
		}
		u, err := k.st.UserByID(ctx, p.UserID)
		if err != nil {
			continue
		}
		view, err := k.view(ctx, u.Username)
		if err != nil {
			continue
		}
		_, ferr := view.Fulfillment(ctx, p.TransferID)
		switch {
		case ferr == nil:
			k.finish(ctx, p.Direction, p.TransferID, store.PaymentSuccess, "")
		case errors.Is(ferr, ledger.ErrTransferNotConditional):
			// A local payment whose transfer went through.
			if to, ok := k.localUserOf(p.Counterparty); ok && p.Direction == "outgoing" {
				if _, err := k.finishLocal(ctx, p, to); err != nil {
					k.log.Error("reconciling local payment", "payment", p.ID, "err", err)
				}
			} else {
				k.finish(ctx, p.Direction, p.TransferID, store.PaymentSuccess, "")
			}
		case errors.Is(ferr, ledger.ErrAlreadyRolledBack):
			k.finish(ctx, p.Direction, p.TransferID, store.PaymentFailed, "ExpiredError")
		case errors.Is(ferr, ledger.ErrTransferNotFound):
			if p.Direction == "outgoing" {
				k.finish(ctx, p.Direction, p.TransferID, store.PaymentFailed, "NotSentError")
			}
		case errors.Is(ferr, ledger.ErrMissingFulfillment):
			if p.Direction == "incoming" {
				k.refulfill(ctx, u.Username, view, p.TransferID)
			}
			// outgoing: still under way; its events finish it.
		default:
			k.log.Warn("reconciling payment", "payment", p.ID, "err", ferr)
		}
	}
	return nil
}

// refulfill receives again an incoming transfer still prepared whose
// fulfillment a stop interrupted.
func (k *Kit) refulfill(ctx context.Context, user string, view ledger.Plugin, transferID string) {
	lister, ok := view.(interface {
		PreparedIncoming(context.Context) ([]ledger.Transfer, error)
	})
	if !ok {
		return
	}
	ts, err := lister.PreparedIncoming(ctx)
	if err != nil {
		return
	}
	for _, t := range ts {
		if t.ID == transferID {
			k.receive(ctx, user, t)
		}
	}
}

// localUserOf tells whether an identifier is a user of this kit.
func (k *Kit) localUserOf(identifier string) (string, bool) {
	user, host, ok := strings.Cut(identifier, "@")
	if !ok || !strings.EqualFold(host, k.Host()) {
		return "", false
	}
	return user, true
}
