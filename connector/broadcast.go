package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/routing"
)

// peers returns the connectors to broadcast to on e's ledger.
func (c *Connector) peers(e *entry) []string {
	var out []string
	add := func(p string) {
		if p != "" && p != e.account && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if !e.opts.NoAutoloadPeers {
		for _, p := range e.plugin.Info().Connectors {
			add(p)
		}
	}
	for _, p := range e.opts.Peers {
		add(p)
	}
	return out
}

// Broadcast sends every peer on every ledger the routes it has not had yet
// (a heartbeat when there are none), after reloading the local curves. A
// peer that fails to take it loses the routes through it (they are announced
// unreachable next time) and is sent the full table next time. It returns
// the failures, joined.
func (c *Connector) Broadcast(ctx context.Context) error {
	reloadErr := c.ReloadLocalRoutes(ctx)
	routes, err := c.public.ToJSON(routing.BroadcastPoints)
	if err != nil {
		return err
	}
	epoch := c.public.Epoch()
	c.bmu.Lock()
	lost := c.lost
	c.lost = nil
	c.bmu.Unlock()

	type job struct {
		e    *entry
		peer string
		upd  routing.RoutingUpdate
	}
	var jobs []job
	entries := c.entries()
	var via map[string]bool // next hops of the routes held, if needed
	for _, e := range entries {
		if e.opts.RequestFullTable {
			via = c.nextHops()
			break
		}
	}
	c.bmu.Lock()
	for _, e := range entries {
		for _, p := range c.peers(e) {
			pe, ok := c.peerEpochs[peerKey{e.prefix, p}]
			if !ok {
				pe = -1
			}
			sel := routing.SelectRoutes(routes, e.prefix, pe, !c.cfg.OmitCurves)
			if sel == nil {
				sel = []routing.RouteData{}
			}
			u := routing.RoutingUpdate{
				NewRoutes:            sel,
				HoldDownTime:         max(ms(c.cfg.RouteExpiry), 1),
				UnreachableThroughMe: slices.Clone(lost),
			}
			if e.opts.RequestFullTable {
				full := !via[p]
				u.RequestFullTable = &full
			}
			jobs = append(jobs, job{e, p, u})
		}
	}
	c.bmu.Unlock()

	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.sendUpdate(ctx, j.e, j.peer, j.upd)
			c.bmu.Lock()
			if err == nil {
				c.peerEpochs[peerKey{j.e.prefix, j.peer}] = epoch
				c.bmu.Unlock()
				return
			}
			c.peerEpochs[peerKey{j.e.prefix, j.peer}] = -1
			c.bmu.Unlock()
			c.log.Info("route broadcast failed", "ledger", j.e.prefix, "peer", j.peer, "err", err)
			gone := c.local.InvalidateConnector(j.peer)
			c.public.InvalidateConnector(j.peer)
			c.addLost(gone)
			errs[i] = fmt.Errorf("connector: broadcast to %s: %w", j.peer, err)
		}()
	}
	wg.Wait()
	return errors.Join(append(errs, reloadErr)...)
}

// nextHops returns the next connectors of the routes in the local tables.
func (c *Connector) nextHops() map[string]bool {
	out := make(map[string]bool)
	for _, r := range c.local.Routes() {
		if !r.Pair && r.NextHop != "" {
			out[r.NextHop] = true
		}
	}
	return out
}

func (c *Connector) addLost(prefixes []string) {
	if len(prefixes) == 0 {
		return
	}
	c.bmu.Lock()
	c.lost = appendUnique(c.lost, prefixes...)
	c.bmu.Unlock()
}

// sendUpdate sends one broadcast_routes request. A response carrying an
// ILP error (the peer's handler refused the update) counts as a failure;
// 2017 counted only a failed request.
func (c *Connector) sendUpdate(ctx context.Context, e *entry, peer string, u routing.RoutingUpdate) error {
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	custom, err := json.Marshal(struct {
		Method string          `json:"method"`
		Data   json.RawMessage `json:"data"`
	}{routing.MethodBroadcastRoutes, data})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	resp, err := e.plugin.SendRequest(ctx, ledger.Message{Ledger: e.prefix, From: e.account, To: peer, Custom: custom})
	if err != nil {
		return err
	}
	if resp.ILP != "" {
		if raw, err := ilp.DecodeBase64(resp.ILP); err == nil {
			if p, err := ilp.Decode(raw); err == nil {
				if ie, ok := p.(*ilp.Error); ok {
					return ie
				}
			}
		}
	}
	return nil
}

// receiveBroadcast applies a peer's RoutingUpdate to both tables.
func (c *Connector) receiveBroadcast(e *entry, from string, data json.RawMessage) (ledger.Message, error) {
	u, err := routing.DecodeRoutingUpdate(data)
	if err != nil {
		return ledger.Message{}, ledger.NewError(ledger.ErrInvalidFields, "invalid routing update")
	}
	c.applyUpdate(e, from, u)
	if c.cfg.OnRoutes != nil {
		c.cfg.OnRoutes(e.prefix, from, data)
	}
	return ledger.Message{Custom: json.RawMessage("{}")}, nil
}

func (c *Connector) applyUpdate(e *entry, from string, u routing.RoutingUpdate) {
	res := c.local.ApplyUpdate(from, u, !c.cfg.DropCurves)
	c.public.ApplyUpdate(from, u, !c.cfg.DropCurves)
	if res.RequestFullTable {
		c.bmu.Lock()
		c.peerEpochs[peerKey{e.prefix, from}] = -1
		c.bmu.Unlock()
	}
	c.addLost(res.Lost)
	if res.Added || len(res.Lost) > 0 {
		c.Kick()
	}
}

// ApplyRoutes applies a route broadcast that peer from sent on the ledger
// of ledgerPrefix to another process (see Config.OnRoutes), as if this
// connector had received it.
func (c *Connector) ApplyRoutes(ledgerPrefix, from string, data json.RawMessage) error {
	e, ok := c.entry(ledgerPrefix)
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownLedger, ledgerPrefix)
	}
	u, err := routing.DecodeRoutingUpdate(data)
	if err != nil {
		return fmt.Errorf("connector: routing update from %s: %w", from, err)
	}
	c.applyUpdate(e, from, u)
	return nil
}

// RemoveExpiredRoutes drops the routes of peers that have not broadcast
// within their hold-down time; their prefixes are announced unreachable in
// the next broadcast.
func (c *Connector) RemoveExpiredRoutes() []string {
	gone := c.local.RemoveExpiredRoutes()
	c.public.RemoveExpiredRoutes()
	c.addLost(gone)
	c.forgetCurveExpiries()
	return gone
}

// Run runs the connector's timers until ctx is done: a broadcast at once,
// then every BroadcastInterval and whenever Kick is called (unless
// DisableBroadcast), and the removal of expired routes every
// CleanupInterval. Only one Run should be active per connector.
func (c *Connector) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.RunCleanup(ctx)
	}()
	if !c.cfg.DisableBroadcast {
		c.RunBroadcasts(ctx)
	}
	wg.Wait()
}

// RunCleanup is the half of Run that removes expired routes.
func (c *Connector) RunCleanup(ctx context.Context) {
	c.every(ctx, c.cfg.CleanupInterval, nil, func() { c.RemoveExpiredRoutes() })
}

// RunBroadcasts is the half of Run that broadcasts routes: at once, then
// every BroadcastInterval and whenever Kick is called. Of several
// processes sharing the connector's work, one runs it.
func (c *Connector) RunBroadcasts(ctx context.Context) {
	c.Kick()
	c.every(ctx, c.cfg.BroadcastInterval, c.kick, func() {
		if err := c.Broadcast(ctx); err != nil && ctx.Err() == nil {
			c.log.Info("broadcast", "err", err)
		}
	})
}

// every calls f every d on the connector's clock, and whenever kick
// receives, until ctx is done.
func (c *Connector) every(ctx context.Context, d time.Duration, kick <-chan struct{}, f func()) {
	tick := make(chan struct{}, 1)
	for {
		t := c.clock.AfterFunc(d, func() {
			select {
			case tick <- struct{}{}:
			default:
			}
		})
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-tick:
		case <-kick:
			t.Stop()
		}
		f()
	}
}
