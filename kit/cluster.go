package kit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/kit/cluster"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// Several `ilpkit serve` processes may share one PostgreSQL database. Any
// of them answers the API, the peers and the trustline clients; money is
// decided by the database's atomic statements, whichever process makes
// them. What the processes tell each other (kit/cluster's bus):
//
//   - "tl": every event of the kit's ledger, from the process that
//     committed it, for the other processes' connected views (a user's
//     client on another process's WebSocket) and the leader's expiry
//     timers (trustline.Server.Deliver);
//   - "n": the users whose payments or balance changed (event streams and
//     payments waiting on another process);
//   - "user", "limits", "peers", "methods": what to reload after an
//     admin's change or a registration;
//   - "routes": route broadcasts a peer sent to one of them;
//   - "vprep": transfers prepared with a peer, for the leader's expiry
//     timers.
//
// One process leads (holds the kit's advisory lock): it broadcasts routes,
// runs the janitor, and keeps the expiry of every prepared transfer, also
// those prepared by a process that died; on taking over it finishes what a
// dead process left (connector.Recover, reconcile).

// bus is what the kit needs of the processes sharing its database.
type bus interface {
	Publish(topic string, data []byte)
	Handle(topic string, h cluster.Handler)
	Run(ctx context.Context, cb cluster.Callbacks)
}

// Bus topics.
const (
	topicLedger  = "tl"
	topicNotify  = "n"
	topicUser    = "user"
	topicLimits  = "limits"
	topicPeers   = "peers"
	topicMethods = "methods"
	topicRoutes  = "routes"
	topicPeerTx  = "vprep"
	topicRequest = "rq"
	topicReply   = "rs"
)

// openBus joins the other processes of the kit when its database is
// PostgreSQL.
func (k *Kit) openBus(ctx context.Context) error {
	if !isPostgres(k.cfg.DBURI) {
		k.bus = cluster.Solo{}
		return nil
	}
	pg, err := cluster.OpenPostgres(ctx, k.cfg.DBURI, cluster.Options{Interval: k.cfg.LeaderInterval, Logger: k.log.With("component", "cluster")})
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	k.bus, k.pg, k.shared = pg, pg, true
	pg.Handle(topicLedger, k.onLedgerMessage)
	pg.Handle(topicNotify, func(data []byte) {
		var ids []int64
		if json.Unmarshal(data, &ids) == nil {
			k.notifyLocal(ids...)
		}
	})
	pg.Handle(topicUser, func(data []byte) {
		var name string
		if json.Unmarshal(data, &name) == nil {
			k.goBackground(func(ctx context.Context) { k.syncUser(ctx, name) })
		}
	})
	pg.Handle(topicLimits, func([]byte) { k.goBackground(k.syncLimits) })
	pg.Handle(topicPeers, func([]byte) { k.goBackground(k.syncPeers) })
	pg.Handle(topicMethods, func([]byte) { k.goBackground(k.publishSettlementMethods) })
	pg.Handle(topicRoutes, func(data []byte) {
		var m routesMessage
		if json.Unmarshal(data, &m) != nil {
			return
		}
		if err := k.conn.ApplyRoutes(m.Ledger, m.From, m.Data); err != nil {
			k.log.Debug("routes from another process", "err", err)
		}
	})
	pg.Handle(topicRequest, k.onRemoteRequest)
	pg.Handle(topicReply, k.onRemoteReply)
	pg.Handle(topicPeerTx, func(data []byte) {
		var m peerTxMessage
		if json.Unmarshal(data, &m) != nil || !k.leading.Load() {
			return
		}
		if p := k.peerByPrefix(m.Prefix); p != nil {
			p.WatchExpiry(m.ID, m.ExpiresAt)
		}
	})
	return nil
}

// isPostgres tells a PostgreSQL DSN as backend/sql reads them.
func isPostgres(uri string) bool {
	return strings.HasPrefix(uri, "postgres://") || strings.HasPrefix(uri, "postgresql://")
}

// publish sends a message to the other processes (nothing when alone).
func (k *Kit) publish(topic string, v any) {
	if !k.shared {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		k.log.Error("bus message", "topic", topic, "err", err)
		return
	}
	k.bus.Publish(topic, b)
}

// ledgerMessage is an event of the kit's ledger on the bus.
type ledgerMessage struct {
	Account     string            `json:"a"`
	Kind        string            `json:"k"`
	Transfer    ledger.Transfer   `json:"t"`
	Fulfillment string            `json:"f,omitempty"`
	Rejection   *ledger.Rejection `json:"r,omitempty"`
}

// relayLedger is the trustline server's Relay.
func (k *Kit) relayLedger(account string, ev ledger.Event) {
	if ev.Transfer.ID == "" {
		return
	}
	m := ledgerMessage{Account: account, Kind: ev.Kind.String(), Transfer: ev.Transfer}
	if ev.Kind == ledger.EventIncomingFulfill || ev.Kind == ledger.EventOutgoingFulfill {
		m.Fulfillment = ev.Fulfillment.String()
	}
	if ev.Rejection.Code != "" {
		r := ev.Rejection
		m.Rejection = &r
	}
	k.publish(topicLedger, m)
}

func (k *Kit) onLedgerMessage(data []byte) {
	var m ledgerMessage
	if err := json.Unmarshal(data, &m); err != nil {
		k.log.Warn("ledger event from another process", "err", err)
		return
	}
	kind, ok := ledger.ParseEventKind(m.Kind)
	if !ok {
		return
	}
	ev := ledger.Event{Kind: kind, Transfer: m.Transfer}
	if m.Fulfillment != "" {
		f, err := ilp.ParseFulfillment(m.Fulfillment)
		if err != nil {
			return
		}
		ev.Fulfillment = f
	}
	if m.Rejection != nil {
		ev.Rejection = *m.Rejection
	}
	k.server.Deliver(m.Account, ev)
}

// routesMessage is a route broadcast a peer sent to one process.
type routesMessage struct {
	Ledger string          `json:"l"`
	From   string          `json:"f"`
	Data   json.RawMessage `json:"d"`
}

func (k *Kit) relayRoutes(ledgerPrefix, from string, data json.RawMessage) {
	k.publish(topicRoutes, routesMessage{Ledger: ledgerPrefix, From: from, Data: data})
}

// peerTxMessage is a transfer prepared with a peer.
type peerTxMessage struct {
	Prefix    string    `json:"p"`
	ID        string    `json:"i"`
	ExpiresAt time.Time `json:"e"`
}

// watchPeer tells the leader of the transfers this process prepares with
// a peer, so that they expire even if this process dies.
func (k *Kit) watchPeer(p *virtual.Plugin) func() {
	if !k.shared {
		return func() {}
	}
	prefix := p.Prefix()
	return p.Subscribe(func(ev ledger.Event) {
		if ev.Remote || (ev.Kind != ledger.EventIncomingPrepare && ev.Kind != ledger.EventOutgoingPrepare) {
			return
		}
		k.publish(topicPeerTx, peerTxMessage{Prefix: prefix, ID: ev.Transfer.ID, ExpiresAt: ev.Transfer.ExpiresAt})
	})
}

func (k *Kit) peerByPrefix(prefix string) *virtual.Plugin {
	k.peers.mu.Lock()
	defer k.peers.mu.Unlock()
	for _, p := range k.peers.by {
		if p.Prefix() == prefix {
			return p
		}
	}
	return nil
}

// lead runs the leader's work until ctx ends (this process stops leading).
func (k *Kit) lead(ctx context.Context) {
	k.leading.Store(true)
	defer k.leading.Store(false)
	if k.shared {
		k.log.Info("leading the kit's processes")
		if err := k.server.KeepExpiries(ctx, true); err != nil {
			k.log.Warn("keeping expiries", "err", err)
		}
		defer func() { _ = k.server.KeepExpiries(ctx, false) }()
		k.peers.mu.Lock()
		ps := make([]*virtual.Plugin, 0, len(k.peers.by))
		for _, p := range k.peers.by {
			ps = append(ps, p)
		}
		k.peers.mu.Unlock()
		for _, p := range ps {
			if err := p.ArmPrepared(ctx); err != nil {
				k.log.Warn("keeping a peer's expiries", "peer", p.Prefix(), "err", err)
			}
		}
		// Finish what a process that died left: its forwarded payments
		// and its users' payments.
		k.recoverLost(ctx)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); k.janitor(ctx) }()
	go func() { defer wg.Done(); k.conn.RunBroadcasts(ctx) }()
	if k.shared {
		// What dead processes left, once no live process can still be
		// working on it.
		for {
			tick := make(chan struct{})
			t := k.clock.AfterFunc(reconcileInterval, func() { close(tick) })
			select {
			case <-ctx.Done():
				t.Stop()
			case <-tick:
				// Also what a process that died unnoticed left (one that
				// left and came back within a check, say).
				k.recoverLost(ctx)
				continue
			}
			break
		}
	}
	wg.Wait()
}

// reconcileInterval is how often the leader of several processes looks for
// what a dead process left (recoverLost).
const reconcileInterval = 15 * time.Second

// reconcileCutoff is the creation time before which a pending payment can
// no longer be in the hands of a live process: its transfer would have
// expired.
func (k *Kit) reconcileCutoff() time.Time {
	return k.clock.Now().Add(-k.cfg.MaxHoldTime - 5*time.Second)
}

// recoverLost finishes, in the leader, what processes that died left: the
// payments their connectors were forwarding and their users' payments. It
// runs while this process serves, so it does only what no live process
// (this one included) can be doing: connector.RecoverFinished (fulfilled
// or cancelled outgoing transfers), and payments too old to be in a live
// process's hands. A process that starts alone on the database does all
// of it before it serves (recoverAll, from Open).
func (k *Kit) recoverLost(ctx context.Context) {
	if _, err := k.conn.RecoverFinished(ctx); err != nil && ctx.Err() == nil {
		k.log.Warn("recovering payments", "err", err)
	}
	if err := k.reconcile(ctx, k.reconcileCutoff()); err != nil && ctx.Err() == nil {
		k.log.Warn("reconciling payments", "err", err)
	}
}

// recoverAll finishes every payment the last run left half-done, before
// this process serves and when no other process is present to be working
// on them: connector.Recover (forwarding what was never forwarded) and
// every pending payment.
func (k *Kit) recoverAll(ctx context.Context) {
	if _, err := k.conn.Recover(ctx); err != nil && ctx.Err() == nil {
		k.log.Warn("recovering payments", "err", err)
	}
	if err := k.reconcile(ctx, time.Time{}); err != nil && ctx.Err() == nil {
		k.log.Warn("reconciling payments", "err", err)
	}
}

// resync reloads what this process caches after it may have missed
// messages.
func (k *Kit) resync() {
	k.goBackground(k.syncLimits)
	k.goBackground(k.syncPeers)
	k.goBackground(k.publishSettlementMethods)
}

// syncUser brings a user's ledger account in line with the database (a
// user registered, re-limited or disabled through another process).
func (k *Kit) syncUser(ctx context.Context, name string) {
	u, err := k.st.UserByName(ctx, name)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			k.log.Warn("syncing a user", "user", name, "err", err)
		}
		return
	}
	if err := k.syncAccount(ctx, u); err != nil {
		k.log.Warn("syncing a user", "user", name, "err", err)
	}
}

func (k *Kit) syncAccount(ctx context.Context, u store.User) error {
	l := k.limitsOf(u)
	err := k.server.CreateAccount(ctx, u.Username, l)
	if errors.Is(err, trustline.ErrAccountExists) {
		err = k.server.SetLimits(ctx, u.Username, *l)
	}
	if err != nil {
		return err
	}
	return k.server.SetDisabled(ctx, u.Username, u.Disabled)
}

// syncLimits reloads the default limits and every user's account.
func (k *Kit) syncLimits(ctx context.Context) {
	if err := k.loadDefaults(ctx); err != nil {
		k.log.Warn("syncing limits", "err", err)
		return
	}
	err := k.eachUser(ctx, func(u store.User) error {
		if err := k.syncAccount(ctx, u); err != nil {
			k.log.Warn("syncing limits", "user", u.Username, "err", err)
		}
		return nil
	})
	if err != nil {
		k.log.Warn("syncing limits", "err", err)
	}
}

// syncPeers starts the peers added through another process, stops those
// removed, and applies changed limits.
func (k *Kit) syncPeers(ctx context.Context) {
	ps, err := k.st.Peers(ctx)
	if err != nil {
		k.log.Warn("syncing peers", "err", err)
		return
	}
	want := make(map[string]store.Peer, len(ps))
	for _, p := range ps {
		want[p.ID] = p
	}
	k.peers.mu.Lock()
	var gone []string
	have := map[string]*virtual.Plugin{}
	for id, p := range k.peers.by {
		if _, ok := want[id]; !ok {
			gone = append(gone, id)
		}
		have[id] = p
	}
	k.peers.mu.Unlock()
	for _, id := range gone {
		k.stopPeer(ctx, id)
	}
	changed := false
	for id, p := range want {
		if plugin, ok := have[id]; ok {
			plugin.SetMaxBalance(ledger.Limit(ledger.Int128FromInt64(p.MaxBalance)))
			changed = true
			continue
		}
		if err := k.startPeer(ctx, p); err != nil {
			k.log.Warn("starting a peer added elsewhere", "host", p.Hostname, "err", err)
		}
	}
	if changed {
		if err := k.conn.ReloadLocalRoutes(ctx); err != nil {
			k.log.Warn("reloading routes", "err", err)
		}
	}
}

// Leading reports whether this process leads the kit's processes (always,
// for a kit alone on its database once it runs).
func (k *Kit) Leading() bool { return k.leading.Load() }

// BusDropped counts the messages to the other processes dropped because
// the queue was full (0 for a kit alone on its database).
func (k *Kit) BusDropped() int64 {
	if k.pg == nil {
		return 0
	}
	return k.pg.Dropped()
}

// Shared reports whether the kit's database is one several processes may
// share (PostgreSQL).
func (k *Kit) Shared() bool { return k.shared }

// A request from a view to an account whose client is connected to another
// process crosses on the bus: "rq" to every process, "rs" from the one
// that answered to the asking one.

// remoteRequestWait bounds the wait for another process's answer when the
// request's context does not end sooner: no process answers when none has
// a client of the account.
const remoteRequestWait = 5 * time.Second

type requestMessage struct {
	ID      string         `json:"i"`
	Process string         `json:"p"` // the asking process
	To      string         `json:"t"`
	Message ledger.Message `json:"m"`
}

type replyMessage struct {
	ID      string          `json:"i"`
	Process string          `json:"p"` // the asking process
	Message *ledger.Message `json:"m,omitempty"`
	Error   string          `json:"e,omitempty"` // LPI error name
	Text    string          `json:"x,omitempty"`
}

// remoteRequest is the trustline server's RemoteRequest.
func (k *Kit) remoteRequest(ctx context.Context, to string, m ledger.Message) (ledger.Message, error) {
	id := newID()
	ch := make(chan replyMessage, 1)
	k.requests.Store(id, ch)
	defer k.requests.Delete(id)
	k.publish(topicRequest, requestMessage{ID: id, Process: k.pg.ID(), To: to, Message: m})
	t := time.NewTimer(remoteRequestWait)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.Error != "" {
			return ledger.Message{}, ledger.ErrorFromWire(r.Error, r.Text)
		}
		if r.Message == nil {
			return ledger.Message{}, ledger.Errorf(ledger.ErrNoSubscriptions, "account %s answered nothing", to)
		}
		return *r.Message, nil
	case <-t.C:
		return ledger.Message{}, ledger.Errorf(ledger.ErrNoSubscriptions, "account %s is not connected", to)
	case <-ctx.Done():
		return ledger.Message{}, ctx.Err()
	}
}

func (k *Kit) onRemoteRequest(data []byte) {
	var rq requestMessage
	if err := json.Unmarshal(data, &rq); err != nil {
		return
	}
	k.goBackground(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, remoteRequestWait)
		defer cancel()
		resp, found, err := k.server.AnswerRequest(ctx, rq.To, rq.Message)
		if !found {
			return // not here
		}
		r := replyMessage{ID: rq.ID, Process: rq.Process}
		if err != nil {
			r.Error, r.Text = ledger.WireError(err)
		} else {
			r.Message = &resp
		}
		k.publish(topicReply, r)
	})
}

func (k *Kit) onRemoteReply(data []byte) {
	var r replyMessage
	if json.Unmarshal(data, &r) != nil || r.Process != k.pg.ID() {
		return
	}
	if v, ok := k.requests.Load(r.ID); ok {
		select {
		case v.(chan replyMessage) <- r:
		default: // answered already (two clients of the account)
		}
	}
}
