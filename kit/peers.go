package kit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/virtual"
	"github.com/ilpkit/ilpkit/webfinger"
)

// Errors of peering.
var (
	ErrInvalidPeer     = errors.New("kit: invalid peer")
	ErrPeerNotFound    = errors.New("kit: no such peer")
	ErrPeerExists      = errors.New("kit: peer already added")
	ErrPeerUnreachable = errors.New("kit: peer unreachable")
)

// PeerRequest adds a peer: another kit found by its host name.
type PeerRequest struct {
	Hostname string
	// Limit is the credit extended to the peer, in base units of the
	// trustline's currency.
	Limit         uint64
	CurrencyCode  string // default: the kit's
	CurrencyScale *int   // default: the kit's
}

// PeerStatus is a peer as the admin sees it.
type PeerStatus struct {
	store.Peer
	Balance ledger.Int128 // what the peer owes this kit (negative: this kit owes)
	Online  bool
}

// peers are the kit's peers' plugins, by peer id.
type peers struct {
	mu  sync.Mutex
	by  map[string]*virtual.Plugin
	mux *virtual.Mux
}

// PeerRPC is the handler of /api/peers/rpc, where other kits call this
// kit's side of their trustlines (ilp-plugin-virtual RPC).
func (k *Kit) PeerRPC() http.Handler { return k.peers.mux }

// identity is the kit's peering identity.
func (k *Kit) peeringIdentity() (virtual.Identity, error) {
	return virtual.NewIdentity(k.PeeringSecret())
}

// AddPeer looks another kit up by host name (its WebFinger host document
// gives its public key and RPC endpoint), stores it and starts the
// trustline. The peer does the same on its side with this kit's host name.
func (k *Kit) AddPeer(ctx context.Context, req PeerRequest) (store.Peer, error) {
	host := strings.ToLower(strings.TrimSpace(req.Hostname))
	host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	host = strings.TrimSuffix(host, "/")
	if _, _, err := webfinger.SplitIdentifier("x@" + host); err != nil || host == "" {
		return store.Peer{}, fmt.Errorf("%w: host name %q", ErrInvalidPeer, req.Hostname)
	}
	if strings.EqualFold(host, k.Host()) {
		return store.Peer{}, fmt.Errorf("%w: a kit cannot peer with itself", ErrInvalidPeer)
	}
	if req.Limit > math.MaxInt64 {
		return store.Peer{}, fmt.Errorf("%w: limit above 2^63-1", ErrInvalidPeer)
	}
	code, scale := k.Currency()
	if req.CurrencyCode != "" {
		code = strings.ToUpper(req.CurrencyCode)
	}
	if req.CurrencyScale != nil {
		scale = *req.CurrencyScale
	}
	if scale < 0 || scale > 19 || len(code) < 3 || len(code) > 6 {
		return store.Peer{}, fmt.Errorf("%w: currency %q scale %d", ErrInvalidPeer, code, scale)
	}
	wf := &webfinger.Client{HTTP: k.httpClient, AllowHTTP: k.cfg.AllowHTTPPeers}
	doc, err := wf.LookupHost(ctx, host)
	if err != nil {
		return store.Peer{}, fmt.Errorf("%w: %s: %v", ErrPeerUnreachable, host, err)
	}
	pub, rpc := doc.Properties[webfinger.RelPublicKey], doc.Link(webfinger.RelPeersRPCURI)
	if pub == "" || rpc == "" {
		return store.Peer{}, fmt.Errorf("%w: %s publishes no peering key or RPC endpoint", ErrInvalidPeer, host)
	}
	if !strings.HasPrefix(rpc, "https://") && !(k.cfg.AllowHTTPPeers && strings.HasPrefix(rpc, "http://")) {
		return store.Peer{}, fmt.Errorf("%w: %s: RPC endpoint %q is not https", ErrInvalidPeer, host, rpc)
	}
	id, err := k.peeringIdentity()
	if err != nil {
		return store.Peer{}, fmt.Errorf("kit: %w", err)
	}
	peering, err := id.Peer(pub, code, scale)
	if err != nil {
		return store.Peer{}, fmt.Errorf("%w: %s: %v", ErrInvalidPeer, host, err)
	}
	p, err := k.st.CreatePeer(ctx, store.Peer{
		ID: newID(), Hostname: host, PublicKey: pub, RPCURI: rpc, Prefix: peering.Prefix,
		CurrencyCode: code, CurrencyScale: scale, MaxBalance: int64(req.Limit),
	})
	if errors.Is(err, store.ErrConflict) {
		return store.Peer{}, fmt.Errorf("%w: %s", ErrPeerExists, host)
	}
	if err != nil {
		return store.Peer{}, fmt.Errorf("kit: %w", err)
	}
	if err := k.startPeer(ctx, p); err != nil {
		_ = k.st.DeletePeer(context.WithoutCancel(ctx), p.ID)
		return store.Peer{}, err
	}
	k.log.Info("peer added", "host", host, "prefix", p.Prefix)
	k.publish(topicPeers, nil)
	return p, nil
}

// startPeer builds a peer's plugin on its 2.x store table and adds it to
// the connector. The plugin connects locally; its calls reach the peer
// when the peer is up, and the connector's broadcasts retry until then.
func (k *Kit) startPeer(ctx context.Context, p store.Peer) error {
	id, err := k.peeringIdentity()
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	be, err := k.db.Backend(ctx, p.Prefix)
	if err != nil {
		return fmt.Errorf("kit: peer %s: %w", p.Hostname, err)
	}
	plugin, err := virtual.New(virtual.Options{
		Identity: id, PeerPublicKey: p.PublicKey, CurrencyCode: p.CurrencyCode, CurrencyScale: p.CurrencyScale,
		Prefix: p.Prefix, MaxBalance: ledger.Limit(ledger.Int128FromInt64(p.MaxBalance)), RPCURI: p.RPCURI,
		Backend: be, HTTPClient: k.httpClient, Logger: k.log.With("peer", p.Hostname), Clock: k.clock,
		Refulfilled: func(t ledger.Transfer, f ilp.Fulfillment) {
			k.goBackground(func(ctx context.Context) { k.conn.PassFulfillment(ctx, t, f) })
		},
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidPeer, p.Hostname, err)
	}
	if err := plugin.Connect(ctx); err != nil {
		return fmt.Errorf("kit: peer %s: %w", p.Hostname, err)
	}
	k.peers.mu.Lock()
	if k.peers.by == nil {
		k.peers.by = map[string]*virtual.Plugin{}
	}
	k.peers.by[p.ID] = plugin
	k.peers.mu.Unlock()
	k.watchPeer(plugin)
	k.peers.mux.Add(plugin)
	if err := k.conn.AddPlugin(ctx, plugin, connector.PluginOptions{}); err != nil {
		k.stopPeer(ctx, p.ID)
		return fmt.Errorf("kit: peer %s: %w", p.Hostname, err)
	}
	return nil
}

func (k *Kit) stopPeer(ctx context.Context, id string) {
	k.peers.mu.Lock()
	plugin := k.peers.by[id]
	delete(k.peers.by, id)
	k.peers.mu.Unlock()
	if plugin == nil {
		return
	}
	_ = k.conn.RemovePlugin(ctx, plugin.Prefix())
	k.peers.mux.Remove(plugin.Prefix())
	_ = plugin.Disconnect(ctx)
}

// loadPeers starts every stored peer (on start).
func (k *Kit) loadPeers(ctx context.Context) error {
	ps, err := k.st.Peers(ctx)
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	for _, p := range ps {
		if err := k.startPeer(ctx, p); err != nil {
			k.log.Error("starting peer", "host", p.Hostname, "err", err)
		}
	}
	return nil
}

// closePeers stops every peer's plugin.
func (k *Kit) closePeers(ctx context.Context) {
	k.peers.mu.Lock()
	ids := make([]string, 0, len(k.peers.by))
	for id := range k.peers.by {
		ids = append(ids, id)
	}
	k.peers.mu.Unlock()
	for _, id := range ids {
		k.stopPeer(ctx, id)
	}
}

// SetPeerLimit changes the credit extended to a peer.
func (k *Kit) SetPeerLimit(ctx context.Context, id string, limit uint64) error {
	if limit > math.MaxInt64 {
		return fmt.Errorf("%w: limit above 2^63-1", ErrInvalidPeer)
	}
	if err := k.st.SetPeerMaxBalance(ctx, id, int64(limit)); errors.Is(err, store.ErrNotFound) {
		return ErrPeerNotFound
	} else if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	k.peers.mu.Lock()
	plugin := k.peers.by[id]
	k.peers.mu.Unlock()
	if plugin != nil {
		plugin.SetMaxBalance(ledger.Limit(ledger.Int128FromUint64(limit)))
		if err := k.conn.ReloadLocalRoutes(ctx); err != nil {
			k.log.Warn("reloading routes", "err", err)
		}
	}
	k.publish(topicPeers, nil)
	return nil
}

// RemovePeer stops and forgets a peer. Its trustline state stays in the
// database: adding the peer again restores its balance (2.x #462).
func (k *Kit) RemovePeer(ctx context.Context, id string) error {
	if err := k.st.DeletePeer(ctx, id); errors.Is(err, store.ErrNotFound) {
		return ErrPeerNotFound
	} else if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	k.stopPeer(ctx, id)
	k.publish(topicPeers, nil)
	return nil
}

// Peers lists the peers with their balances, and whether each answers
// (a get_limit call, bounded by timeout) — one slow peer does not hold up
// the list (2.x #215).
func (k *Kit) Peers(ctx context.Context, timeout time.Duration) ([]PeerStatus, error) {
	ps, err := k.st.Peers(ctx)
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	out := make([]PeerStatus, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		out[i].Peer = p
		k.peers.mu.Lock()
		plugin := k.peers.by[p.ID]
		k.peers.mu.Unlock()
		if plugin == nil {
			continue
		}
		if b, err := plugin.Balance(ctx); err == nil {
			out[i].Balance = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			_, err := plugin.GetLimit(cctx)
			out[i].Online = err == nil
		}()
	}
	wg.Wait()
	return out, nil
}
