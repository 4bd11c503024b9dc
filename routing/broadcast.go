package routing

import (
	"errors"
	"fmt"
	"strings"
)

// Why a received route is refused (AcceptRoute).
var (
	// ErrNotFromSender: the route's source_account is not the sender.
	ErrNotFromSender = errors.New("route is not the sender's")
	// ErrAccountNotOnLedger: the source_account is not on the source_ledger.
	ErrAccountNotOnLedger = errors.New("source account is not on the source ledger")
	// ErrPeerDestination: the route leads to a peering ledger (peer.*).
	ErrPeerDestination = errors.New("route to a peer ledger")
)

// AcceptRoute applies the checks a 2017 connector made to each route of a
// broadcast received from the account from, before adding it: the route must
// be the sender's own (source_account == from), the sender's account must lie
// on the route's source ledger (source_account starts with source_ledger),
// and its destination must not be a peering ledger (no "peer." prefix). A
// refused route is skipped; the rest of the message still counts.
func AcceptRoute(from string, d RouteData) error {
	switch {
	case d.SourceAccount != from:
		return fmt.Errorf("%w: source_account %q, sender %q", ErrNotFromSender, d.SourceAccount, from)
	case !strings.HasPrefix(d.SourceAccount, d.SourceLedger):
		return fmt.Errorf("%w: %q is not under %q", ErrAccountNotOnLedger, d.SourceAccount, d.SourceLedger)
	case strings.HasPrefix(d.DestinationLedger, PeerPrefix):
		return fmt.Errorf("%w: %q", ErrPeerDestination, d.DestinationLedger)
	}
	return nil
}

// SelectRoutes picks, from the output of Tables.ToJSON, the routes to send
// one peer on ledger in a broadcast (ilp-connector 21.1's route broadcaster):
// those entering on ledger, not to a "peer." ledger, and added after
// peerEpoch, the epoch of the tables when the last broadcast to that peer
// succeeded (-1: never, or after a failure or a request for the full table).
// added_during_epoch is removed (the Routes schema has no such field), and so
// are the points unless broadcastCurves.
//
// As in 2017, a peerEpoch of 0 counts as -1 (it read `peerEpoch || -1`), so
// routes of epoch 0 go to such a peer again; a route without an epoch is
// never sent. The result shares paths and curves with routes.
func SelectRoutes(routes []RouteData, ledger string, peerEpoch int, broadcastCurves bool) []RouteData {
	if peerEpoch == 0 {
		peerEpoch = -1
	}
	out := []RouteData{}
	for _, d := range routes {
		if d.SourceLedger != ledger || strings.HasPrefix(d.DestinationLedger, PeerPrefix) ||
			d.AddedDuringEpoch == nil || *d.AddedDuringEpoch <= peerEpoch {
			continue
		}
		d.AddedDuringEpoch = nil
		if !broadcastCurves {
			d.Points = nil
		}
		out = append(out, d)
	}
	return out
}

// UpdateResult tells what a received RoutingUpdate did to the tables.
type UpdateResult struct {
	// Heartbeat: the update carried no route and lost nothing; it only
	// renewed the sender's routes.
	Heartbeat bool
	// Added: some route was new (the connector then broadcasts at once).
	Added bool
	// Lost are the target prefixes left with no route after the sender's
	// unreachable_through_me (the connector announces them in its own next
	// broadcast).
	Lost []string
	// Refused lists why routes were skipped (AcceptRoute), by index in
	// NewRoutes.
	Refused map[int]error
	// RequestFullTable: the sender asked for the full table, so its epoch
	// must be reset to -1.
	RequestFullTable bool
}

// ApplyUpdate applies a broadcast received from the account from, as an
// ilp-connector 21.1 did, atomically: the sender's routes are renewed for
// its hold_down_time (BumpConnector); its routes to each prefix of
// unreachable_through_me are dropped (InvalidateConnectorsRoutesTo); unless
// that was all, each new route that AcceptRoute accepts is added
// (AddRouteData, in the current epoch), without its points unless
// storeCurves. A connector with two sets of tables (local and public) applies
// the update to both.
func (t *Tables) ApplyUpdate(from string, u RoutingUpdate, storeCurves bool) UpdateResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := UpdateResult{RequestFullTable: u.RequestFullTable != nil && *u.RequestFullTable}
	t.bump(from, u.HoldDown())
	var lost lostSet
	for _, ledger := range u.UnreachableThroughMe {
		for _, l := range t.invalidateTo(from, ledger) {
			lost.add(l)
		}
	}
	res.Lost = lost.list
	if len(u.NewRoutes) == 0 && len(res.Lost) == 0 {
		res.Heartbeat = true
		return res
	}
	for i, d := range u.NewRoutes {
		if err := AcceptRoute(from, d); err != nil {
			if res.Refused == nil {
				res.Refused = make(map[int]error)
			}
			res.Refused[i] = err
			continue
		}
		if !storeCurves {
			d.Points = nil
		}
		if t.addRoute(FromData(d, t.epoch), false) {
			res.Added = true
		}
	}
	return res
}
