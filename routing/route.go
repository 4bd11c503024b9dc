package routing

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/curve"
)

// Errors of Join.
var (
	// ErrNotAdjacent: the head route does not end where the tail starts.
	ErrNotAdjacent = errors.New("routes are not adjacent")
	// ErrLoop: the joined route would pass a ledger twice.
	ErrLoop = errors.New("joined route would loop")
)

// Route is a way to send payments from SourceLedger to every address under
// TargetPrefix, by handing them to a connector on NextLedger (PROTOCOLS.md
// 3.3; the Route of ilp-routing 10.1.0).
//
// A Route is a value; its methods never change it. Curves are immutable and
// may be shared. Paths must be treated as read-only once the route is built:
// routes made from it (joins, combinations, copies returned by Tables) may
// share them.
//
// Defaults, as 2017 applied them when a route was made: an empty
// DestinationLedger means NextLedger, an empty TargetPrefix means
// DestinationLedger, and nil Paths mean [[]] (one path with no ledger between
// NextLedger and DestinationLedger). Paths that are empty but not nil mean no
// path at all, which 2017 also kept.
type Route struct {
	// Curve maps an amount entering on SourceLedger to the amount delivered at
	// the destination. nil means no curve: the route is known, its price is
	// not (a static route, or a peer that does not broadcast curves), and the
	// connector must ask the next hop for a quote.
	Curve *curve.Curve

	SourceLedger      string // where payments enter this connector
	NextLedger        string // where this connector forwards them
	DestinationLedger string // the last ledger of the route
	// TargetPrefix is the prefix the route serves, its key in the tables.
	TargetPrefix string

	// MinMessageWindow is the time, in seconds (fractions allowed), that the
	// route needs between the expiry of the incoming and the outgoing
	// transfer; a joined route needs the sum of its parts.
	MinMessageWindow float64

	// ExpiresAt is when the route stops being valid unless refreshed by a
	// broadcast from its next hop; the zero time means no expiry.
	ExpiresAt time.Time
	// Static marks a route that never expires and is never removed by a
	// peer's failure or message (configured routes; 2017 expiresAt null).
	Static bool

	// IsLocal marks a route between two of the connector's own ledgers (a
	// local pair, or a join of local pairs): payments on it are final.
	IsLocal bool

	// SourceAccount is the account of the connector that forwards payments
	// on this route, on SourceLedger (the next hop, for a route a peer
	// broadcast); DestinationAccount is that connector's account on
	// DestinationLedger, given for local pairs only.
	SourceAccount      string
	DestinationAccount string

	// AddedDuringEpoch is the table epoch during which the route was added;
	// a broadcast sends a peer only the routes newer than its last broadcast.
	AddedDuringEpoch int

	// Paths lists the alternative sequences of ledgers strictly between
	// NextLedger and DestinationLedger.
	Paths [][]string
}

// norm fills in the 2017 defaults.
func (r Route) norm() Route {
	if r.DestinationLedger == "" {
		r.DestinationLedger = r.NextLedger
	}
	if r.TargetPrefix == "" {
		r.TargetPrefix = r.DestinationLedger
	}
	if r.Paths == nil {
		r.Paths = [][]string{{}}
	}
	return r
}

// MaxPathLength counts the ledgers of the route's longest path, source,
// next and destination ledgers included: 2 for a route to the next ledger
// itself, and one more for a destination beyond it and for each ledger of the
// longest path. Shorter routes are preferred.
func (r Route) MaxPathLength() int {
	m := 0
	for _, p := range r.Paths {
		m = max(m, len(p))
	}
	if r.DestinationLedger == "" || r.NextLedger == r.DestinationLedger {
		return m + 2
	}
	return m + 3
}

// AmountAt is the amount the route delivers for x entering it; ok is false
// when the route has no curve. 2017 failed on a curve with no points; here
// such a curve delivers 0.
func (r Route) AmountAt(x uint64) (y uint64, ok bool) {
	if r.Curve == nil {
		return 0, false
	}
	return r.Curve.AmountAt(x), true
}

// AmountReverse is the smallest amount entering the route that delivers at
// least y; ok is false when the route has no curve (check Curve to tell) or
// when y is beyond the route's liquidity (2017: Infinity).
func (r Route) AmountReverse(y uint64) (x uint64, ok bool) {
	if r.Curve == nil {
		return 0, false
	}
	return r.Curve.AmountReverse(y)
}

// IsExpired reports whether the route had expired at now: it has an expiry,
// is not static, and the expiry is strictly before now.
func (r Route) IsExpired(now time.Time) bool {
	return !r.Static && !r.ExpiresAt.IsZero() && r.ExpiresAt.Before(now)
}

// Combine returns the route that stands for r and alt together, two routes
// between the same ledgers through different next hops, as a broadcast
// announces them. The route with the shorter MaxPathLength is returned
// unchanged; on a tie the result takes, at every amount, the better of the
// two curves (no curve when either has none), the paths of both, the larger
// MinMessageWindow and the later epoch. It keeps r's ledgers, targets
// DestinationLedger and is not local; accounts and expiry are left empty.
func (r Route) Combine(alt Route) Route {
	r, alt = r.norm(), alt.norm()
	if a, b := alt.MaxPathLength(), r.MaxPathLength(); a < b {
		return alt
	} else if a > b {
		return r
	}
	out := Route{
		SourceLedger:      r.SourceLedger,
		NextLedger:        r.NextLedger,
		DestinationLedger: r.DestinationLedger,
		TargetPrefix:      r.DestinationLedger,
		MinMessageWindow:  math.Max(r.MinMessageWindow, alt.MinMessageWindow),
		AddedDuringEpoch:  max(r.AddedDuringEpoch, alt.AddedDuringEpoch),
	}
	if r.Curve != nil && alt.Curve != nil {
		c := r.Curve.Combine(*alt.Curve)
		out.Curve = &c
	}
	var ps pathSet
	for _, p := range r.Paths {
		ps.add(p)
	}
	for _, p := range alt.Paths {
		ps.add(p)
	}
	out.Paths = ps.list
	if out.Paths == nil {
		out.Paths = [][]string{} // neither had a path: still none (not the default)
	}
	return out
}

// Join returns the route r then tail: r goes from A through its next ledger
// to B, tail from B to C, and the result from A to tail's target, through r's
// next hop. The ledgers the result passes (A, r's next and destination
// ledgers, tail's next and destination ledgers, and those of every path) must
// all differ, or the join fails with ErrLoop; r must end on tail's source
// ledger (ErrNotAdjacent).
//
// The result's curve is r's curve joined with tail's (none unless both have
// one; 2017 failed when either was empty, the join is then empty: no
// liquidity); its MinMessageWindow is the sum; it is local when both are; it
// keeps r's SourceAccount; it expires at expiresAt (zero: never) and belongs
// to epoch. Each of its paths is a path of r, then r's destination ledger and
// tail's next ledger where they are not already the end of a route, then a
// path of tail; duplicates are dropped.
func (r Route) Join(tail Route, expiresAt time.Time, epoch int) (Route, error) {
	r, tail = r.norm(), tail.norm()
	if err := canJoin(r, tail); err != nil {
		return Route{}, err
	}
	out := Route{
		SourceLedger:      r.SourceLedger,
		NextLedger:        r.NextLedger,
		DestinationLedger: tail.DestinationLedger,
		TargetPrefix:      tail.TargetPrefix,
		MinMessageWindow:  r.MinMessageWindow + tail.MinMessageWindow,
		ExpiresAt:         expiresAt,
		IsLocal:           r.IsLocal && tail.IsLocal,
		SourceAccount:     r.SourceAccount,
		AddedDuringEpoch:  epoch,
	}
	if r.Curve != nil && tail.Curve != nil {
		c := r.Curve.Join(*tail.Curve)
		out.Curve = &c
	}
	var mid []string
	if r.DestinationLedger != r.NextLedger {
		mid = append(mid, r.DestinationLedger)
	}
	if tail.DestinationLedger != tail.NextLedger {
		mid = append(mid, tail.NextLedger)
	}
	var ps pathSet
	for _, hp := range r.Paths {
		for _, tp := range tail.Paths {
			p := make([]string, 0, len(hp)+len(mid)+len(tp))
			ps.add(append(append(append(p, hp...), mid...), tp...))
		}
	}
	out.Paths = ps.list
	if out.Paths == nil {
		out.Paths = [][]string{} // no path on either side stays no path
	}
	return out, nil
}

// canJoin checks that head and tail meet and that the joined route passes no
// ledger twice.
func canJoin(head, tail Route) error {
	if head.DestinationLedger != tail.SourceLedger {
		return fmt.Errorf("%w: %q ends on %q, next route starts on %q", ErrNotAdjacent,
			head.SourceLedger, head.DestinationLedger, tail.SourceLedger)
	}
	fixed := []string{head.SourceLedger, head.NextLedger, tail.DestinationLedger}
	if head.DestinationLedger != head.NextLedger {
		fixed = append(fixed, head.DestinationLedger)
	}
	if tail.DestinationLedger != tail.NextLedger {
		fixed = append(fixed, tail.NextLedger)
	}
	var seen ledgerSet
	for _, l := range fixed {
		if seen.has(l) {
			return fmt.Errorf("%w: %q twice", ErrLoop, l)
		}
		seen.add(l)
	}
	// Ledgers of the head's paths may repeat among themselves (they are
	// alternatives) but not meet the fixed ledgers; the tail's may meet
	// neither.
	for _, p := range head.Paths {
		for _, l := range p {
			if seen.has(l) {
				return fmt.Errorf("%w: %q twice", ErrLoop, l)
			}
		}
	}
	for _, p := range head.Paths {
		for _, l := range p {
			seen.add(l)
		}
	}
	for _, p := range tail.Paths {
		for _, l := range p {
			if seen.has(l) {
				return fmt.Errorf("%w: %q twice", ErrLoop, l)
			}
		}
	}
	return nil
}

// ledgerSet is a set of ledger names: a short list, or a map once long.
type ledgerSet struct {
	list [8]string
	n    int
	m    map[string]bool
}

func (s *ledgerSet) has(l string) bool {
	if s.m != nil {
		return s.m[l]
	}
	return slices.Contains(s.list[:s.n], l)
}

func (s *ledgerSet) add(l string) {
	if s.has(l) {
		return
	}
	if s.m == nil && s.n < len(s.list) {
		s.list[s.n] = l
		s.n++
		return
	}
	if s.m == nil {
		s.m = make(map[string]bool, 4*len(s.list))
		for _, x := range s.list[:s.n] {
			s.m[x] = true
		}
	}
	s.m[l] = true
}

// pathSet collects distinct paths in the order first seen. Lists are
// usually a path or two, compared directly; a long one gets an index.
type pathSet struct {
	list [][]string
	seen map[string]bool
}

const pathSetLinear = 16

func (s *pathSet) add(p []string) {
	if s.seen == nil && len(s.list) < pathSetLinear {
		for _, q := range s.list {
			if slices.Equal(p, q) {
				return
			}
		}
		s.list = append(s.list, slices.Clip(p))
		if len(s.list) == pathSetLinear {
			s.seen = make(map[string]bool, 2*pathSetLinear)
			for _, q := range s.list {
				s.seen[pathKey(q)] = true
			}
		}
		return
	}
	k := pathKey(p)
	if s.seen[k] {
		return
	}
	s.seen[k] = true
	s.list = append(s.list, slices.Clip(p))
}

// pathKey spells each element with its length first, so that no two
// different paths share a key (path elements are any strings).
func pathKey(p []string) string {
	var b strings.Builder
	for _, l := range p {
		b.WriteString(strconv.Itoa(len(l)))
		b.WriteByte(':')
		b.WriteString(l)
	}
	return b.String()
}

// FromData makes the route that a broadcast entry describes, as a peer's
// route from SourceLedger to DestinationLedger (which is also its next ledger
// and target), belonging to epoch. Points become the curve (none if absent);
// absent paths mean [[]].
func FromData(d RouteData, epoch int) Route {
	r := Route{
		Curve:              d.Points,
		SourceLedger:       d.SourceLedger,
		NextLedger:         d.DestinationLedger,
		DestinationLedger:  d.DestinationLedger,
		TargetPrefix:       d.DestinationLedger,
		MinMessageWindow:   d.MinMessageWindow,
		SourceAccount:      d.SourceAccount,
		DestinationAccount: d.DestinationAccount,
		AddedDuringEpoch:   epoch,
		Paths:              d.Paths,
	}
	return r.norm()
}

// ToJSON returns the route as a broadcast entry, as ilp-routing's
// Route#toJSON built it: ledgers, points (if the route has a curve),
// MinMessageWindow, SourceAccount (if set), the epoch and the paths.
// DestinationAccount is not part of it.
func (r Route) ToJSON() RouteData {
	r = r.norm()
	e := r.AddedDuringEpoch
	return RouteData{
		SourceLedger:      r.SourceLedger,
		DestinationLedger: r.DestinationLedger,
		Points:            r.Curve,
		MinMessageWindow:  r.MinMessageWindow,
		AddedDuringEpoch:  &e,
		Paths:             r.Paths,
		SourceAccount:     r.SourceAccount,
	}
}

// clone returns r with its own copy of Paths, for handing out of the tables.
func (r Route) clone() Route {
	if r.Paths != nil {
		ps := make([][]string, len(r.Paths))
		for i, p := range r.Paths {
			ps[i] = slices.Clone(p)
			if ps[i] == nil {
				ps[i] = []string{}
			}
		}
		r.Paths = ps
	}
	return r
}
