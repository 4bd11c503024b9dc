package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/pair"
	"github.com/ilpkit/ilpkit/psk"
)

// holdData is the PSK data that makes a local receiver leave a payment
// prepared until it expires (a debug facility for expiry tests).
const holdData = "hold"

// localLedger is an in-process ledger with one user account: a trustline
// whose one end the connector holds and whose other end is the user. The user
// sends PSK payments (Pay) and receives them as a PSK receiver that fulfills
// every valid payment at once.
type localLedger struct {
	prefix string
	conn   *pair.End // the connector's end
	user   *pair.End // the local user's end
	recv   psk.Receiver
	clock  ledger.Clock
	log    *slog.Logger

	mu      sync.Mutex
	waiters map[string]chan ledger.Event

	unsub []func()
	wg    sync.WaitGroup
}

func newLocalLedger(l LedgerConfig, connBackend, userBackend ledger.Backend, clock ledger.Clock, log *slog.Logger) (*localLedger, error) {
	o := l.Local
	secret := []byte(o.ReceiverSecret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("receiver secret: %w", err)
		}
	}
	conn, user, err := pair.New(pair.Options{
		Prefix:        l.Prefix,
		CurrencyCode:  l.Currency,
		CurrencyScale: *o.CurrencyScale,
		A:             pair.Side{Name: "connector", Backend: connBackend, MaxBalance: o.maxBalance},
		B: pair.Side{Name: o.Account, Backend: userBackend, MaxBalance: o.userMaxBalance,
			Connectors: []string{l.Prefix + "connector"}},
		Clock:  clock,
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("local ledger %s: %w", l.Prefix, err)
	}
	ll := &localLedger{
		prefix:  l.Prefix,
		conn:    conn,
		user:    user,
		recv:    psk.Receiver{Account: user.Account(), Secret: secret, Now: clock.Now, Cache: psk.NewKeyCache(secret, 0)},
		clock:   clock,
		log:     log,
		waiters: map[string]chan ledger.Event{},
	}
	ll.unsub = append(ll.unsub, user.Subscribe(ll.onEvent))
	return ll, nil
}

func (l *localLedger) connect(ctx context.Context) error {
	if err := l.conn.Connect(ctx); err != nil {
		return fmt.Errorf("local ledger %s: %w", l.prefix, err)
	}
	if err := l.user.Connect(ctx); err != nil {
		return fmt.Errorf("local ledger %s: %w", l.prefix, err)
	}
	return nil
}

// close disconnects both ends after the receiver's work is done.
func (l *localLedger) close(ctx context.Context) error {
	for _, u := range l.unsub {
		u()
	}
	err := l.user.Disconnect(ctx)
	l.wg.Wait()
	return errors.Join(err, l.conn.Disconnect(ctx))
}

func (l *localLedger) onEvent(ev ledger.Event) {
	switch ev.Kind {
	case ledger.EventIncomingPrepare:
		t := ev.Transfer
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.receive(t)
		}()
	case ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
		l.mu.Lock()
		ch, ok := l.waiters[ev.Transfer.ID]
		delete(l.waiters, ev.Transfer.ID)
		l.mu.Unlock()
		if ok {
			ch <- ev
		}
	}
}

// receive answers one incoming prepared transfer as a PSK receiver.
func (l *localLedger) receive(t ledger.Transfer) {
	ctx := context.Background()
	acc, err := l.recv.Receive(psk.Incoming{Amount: t.Amount, ExecutionCondition: t.ExecutionCondition, ExpiresAt: t.ExpiresAt, ILP: t.ILP})
	var rej *psk.Rejection
	switch {
	case err == nil:
		if string(acc.Details.Data) == holdData {
			return // left to expire
		}
		if err := l.user.FulfillCondition(ctx, t.ID, acc.Fulfillment); err != nil {
			l.log.Warn("fulfill", "ledger", l.prefix, "transfer", t.ID, "err", err)
		}
		return
	case errors.As(err, &rej):
		err = l.user.RejectIncomingTransfer(ctx, t.ID, ledger.NewRejection(rej.Code, l.user.Account(), rej.Message, l.clock.Now()))
	case errors.Is(err, psk.ErrNotMine):
		err = l.user.RejectIncomingTransfer(ctx, t.ID, ledger.NewRejection(ilp.CodeUnreachable, l.user.Account(), "no such receiver", l.clock.Now()))
	default:
		l.log.Error("receive", "ledger", l.prefix, "err", err)
		return
	}
	if err != nil {
		l.log.Warn("reject", "ledger", l.prefix, "transfer", t.ID, "err", err)
	}
}

// request sends an ILQP request to the connector and decodes its answer;
// an ILP error answer is returned as the error.
func (l *localLedger) request(ctx context.Context, req ilp.Packet) (ilp.Packet, error) {
	b, err := req.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode quote: %w", err)
	}
	resp, err := l.user.SendRequest(ctx, ledger.Message{To: l.conn.Account(), ILP: ilp.EncodeBase64URL(b)})
	if err != nil {
		return nil, fmt.Errorf("quote request: %w", err)
	}
	raw, err := ilp.DecodeBase64(resp.ILP)
	if err != nil {
		return nil, fmt.Errorf("quote response: %w", err)
	}
	p, err := ilp.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("quote response: %w", err)
	}
	if e, ok := p.(*ilp.Error); ok {
		return nil, e
	}
	return p, nil
}

// payResult is the outcome of one payment.
type payResult struct {
	State     string // fulfilled, rejected or expired
	Code      string // ILP code of a rejection
	Message   string
	Fulfilled bool
}

// pay sends one PSK payment of sourceAmount that must deliver
// destinationAmount to dest, under the keys of the shared secret, and waits
// for its outcome.
func (l *localLedger) pay(ctx context.Context, dest string, keys *psk.Keys, sourceAmount, destinationAmount uint64, hold time.Duration, data []byte) (payResult, error) {
	pkt, err := psk.CreatePacketAndCondition(psk.PaymentParams{
		DestinationAccount: dest,
		DestinationAmount:  destinationAmount,
		Keys:               keys,
		Data:               data,
	})
	if err != nil {
		return payResult{}, fmt.Errorf("psk packet: %w", err)
	}
	id, err := newUUID()
	if err != nil {
		return payResult{}, err
	}
	ch := make(chan ledger.Event, 1)
	l.mu.Lock()
	l.waiters[id] = ch
	l.mu.Unlock()
	err = l.user.SendTransfer(ctx, ledger.Transfer{
		ID:                 id,
		To:                 l.conn.Account(),
		Amount:             sourceAmount,
		ILP:                pkt.ILP(),
		ExecutionCondition: pkt.Condition.String(),
		ExpiresAt:          l.clock.Now().Add(hold),
	})
	if err != nil {
		l.mu.Lock()
		delete(l.waiters, id)
		l.mu.Unlock()
		return payResult{}, fmt.Errorf("send transfer: %w", err)
	}
	select {
	case ev := <-ch:
		switch ev.Kind {
		case ledger.EventOutgoingFulfill:
			return payResult{State: "fulfilled", Fulfilled: true}, nil
		case ledger.EventOutgoingCancel:
			return payResult{State: "expired", Code: ev.Rejection.Code, Message: ev.Rejection.Message}, nil
		default:
			return payResult{State: "rejected", Code: ev.Rejection.Code, Message: ev.Rejection.Message}, nil
		}
	case <-ctx.Done():
		l.mu.Lock()
		delete(l.waiters, id)
		l.mu.Unlock()
		return payResult{}, fmt.Errorf("payment %s: %w", id, ctx.Err())
	}
}

// newUUID returns a random version 4 UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
