package connector

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/routing"
)

// Custom request methods.
const (
	MethodSettlementMethodsRequest  = "settlement_methods_request"
	MethodSettlementMethodsResponse = "settlement_methods_response"
)

// quoteError is a refusal of a quote that 2017 reported as a plain
// exception, which ilp-plugin-virtual turned into F00 Bad Request with the
// message as JSON data.
type quoteError struct{ msg string }

func (e *quoteError) Error() string { return e.msg }

func errNoRoute(src, dst string) error {
	return &quoteError{"No route found from: " + src + " to: " + dst}
}

// quote is the connector's answer to a liquidity query.
type quote struct {
	route routing.Route
	// curve is the route's curve as quoted by source amount; shifted as
	// quoted by liquidity and by destination amount.
	curve, shifted     curve.Curve
	appliesToPrefix    string
	sourceHoldDuration uint32 // ms
	expiresAt          time.Time
}

// requestHandler answers the requests arriving on e's plugin.
func (c *Connector) requestHandler(e *entry) ledger.RequestHandler {
	return func(ctx context.Context, req ledger.Message) (ledger.Message, error) {
		if req.ILP != "" {
			return c.handleILQP(ctx, e, req)
		}
		if len(req.Custom) > 0 {
			return c.handleCustom(ctx, e, req)
		}
		return ledger.Message{}, ledger.NewError(ledger.ErrInvalidFields, "request has neither ilp nor custom")
	}
}

func (c *Connector) handleILQP(ctx context.Context, e *entry, req ledger.Message) (ledger.Message, error) {
	now := c.clock.Now()
	raw, err := ilp.DecodeBase64(req.ILP)
	if err != nil {
		return ledger.Message{}, c.ilpError(e, ilp.CodeInvalidPacket, "invalid base64 in ilp", now)
	}
	pkt, err := ilp.Decode(raw)
	if err != nil {
		return ledger.Message{}, c.ilpError(e, ilp.CodeInvalidPacket, "invalid packet", now)
	}
	var resp ilp.Packet
	switch p := pkt.(type) {
	case *ilp.QuoteLiquidityRequest:
		q, err := c.quoteLiquidity(ctx, e, req.From, p.DestinationAccount, p.DestinationHoldDuration)
		if err != nil {
			return ledger.Message{}, c.quoteFailure(e, req, err, now)
		}
		resp = &ilp.QuoteLiquidityResponse{
			LiquidityCurve:     q.shifted.AppendBinary(nil),
			AppliesToPrefix:    q.appliesToPrefix,
			SourceHoldDuration: q.sourceHoldDuration,
			ExpiresAt:          q.expiresAt,
		}
	case *ilp.QuoteBySourceRequest:
		dst, q, err := c.QuoteBySource(ctx, e.prefix, req.From, p.DestinationAccount, p.SourceAmount, p.DestinationHoldDuration)
		if err != nil {
			return ledger.Message{}, c.quoteFailure(e, req, err, now)
		}
		resp = &ilp.QuoteBySourceResponse{DestinationAmount: dst, SourceHoldDuration: q}
	case *ilp.QuoteByDestinationRequest:
		src, q, err := c.QuoteByDestination(ctx, e.prefix, req.From, p.DestinationAccount, p.DestinationAmount, p.DestinationHoldDuration)
		if err != nil {
			return ledger.Message{}, c.quoteFailure(e, req, err, now)
		}
		resp = &ilp.QuoteByDestinationResponse{SourceAmount: src, SourceHoldDuration: q}
	default:
		return ledger.Message{}, c.ilpError(e, ilp.CodeInvalidPacket, fmt.Sprintf("unexpected packet type %d", pkt.Type()), now)
	}
	b, err := resp.MarshalBinary()
	if err != nil {
		return ledger.Message{}, c.ilpError(e, ilp.CodeInternalError, "cannot encode response", now)
	}
	// 2017 connectors answered in padded standard base64.
	return ledger.Message{ILP: base64.StdEncoding.EncodeToString(b)}, nil
}

// ilpError is an ILP error packet triggered by the connector's account on
// e's ledger, with data {"message": msg}.
func (c *Connector) ilpError(e *entry, code, msg string, now time.Time) *ilp.Error {
	data, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
	return ilp.NewError(code, e.account, now, data)
}

// quoteFailure makes the error answer of a failed quote as 2017 did: an ILP
// error from the next connector is passed on with the connector's account
// added to forwarded_by; anything else is F00 Bad Request with the message
// as JSON data.
func (c *Connector) quoteFailure(e *entry, req ledger.Message, err error, now time.Time) error {
	var ie *ilp.Error
	if errors.As(err, &ie) {
		out := *ie
		out.Wire = ilp.Wire{}
		out.ForwardedBy = append(append([]string(nil), ie.ForwardedBy...), e.account)
		return &out
	}
	var qe *quoteError
	if errors.As(err, &qe) {
		return c.ilpError(e, ilp.CodeBadRequest, qe.msg, now)
	}
	c.log.Warn("quote failed", "ledger", e.prefix, "from", req.From, "err", err)
	return c.ilpError(e, ilp.CodeInternalError, "internal error", now)
}

// QuoteBySource answers a quote by source amount (ILQP type 4) from account
// on ledger: the amount delivered at destination for sourceAmount, and the
// hold time the source transfer needs (ms). It is the unshifted curve at
// sourceAmount.
func (c *Connector) QuoteBySource(ctx context.Context, ledgerPrefix, from, destination string, sourceAmount uint64, destHoldMs uint32) (uint64, uint32, error) {
	e, ok := c.entry(ledgerPrefix)
	if !ok {
		return 0, 0, fmt.Errorf("%w: %s", ErrUnknownLedger, ledgerPrefix)
	}
	if sourceAmount == 0 {
		return 0, 0, &quoteError{"sourceAmount must be positive"}
	}
	q, err := c.quoteLiquidity(ctx, e, from, destination, destHoldMs)
	if err != nil {
		return 0, 0, err
	}
	dst := q.curve.AmountAt(sourceAmount)
	if dst == 0 {
		return 0, 0, &quoteError{"Quoted destination is lower than minimum amount allowed"}
	}
	return dst, q.sourceHoldDuration, nil
}

// QuoteByDestination answers a quote by destination amount (ILQP type 6):
// the source amount needed, on the curve shifted one source unit because
// the reverse lookup floors.
func (c *Connector) QuoteByDestination(ctx context.Context, ledgerPrefix, from, destination string, destinationAmount uint64, destHoldMs uint32) (uint64, uint32, error) {
	e, ok := c.entry(ledgerPrefix)
	if !ok {
		return 0, 0, fmt.Errorf("%w: %s", ErrUnknownLedger, ledgerPrefix)
	}
	if destinationAmount == 0 {
		return 0, 0, &quoteError{"destinationAmount must be positive"}
	}
	q, err := c.quoteLiquidity(ctx, e, from, destination, destHoldMs)
	if err != nil {
		return 0, 0, err
	}
	src, ok := q.shifted.AmountReverse(destinationAmount)
	if !ok {
		return 0, 0, errNoRoute(from, destination)
	}
	return src, q.sourceHoldDuration, nil
}

// QuoteLiquidity answers a liquidity quote (ILQP type 2): the shifted curve,
// the prefix it applies to, the source hold time (ms) and its expiry.
func (c *Connector) QuoteLiquidity(ctx context.Context, ledgerPrefix, from, destination string, destHoldMs uint32) (curve.Curve, string, uint32, time.Time, error) {
	e, ok := c.entry(ledgerPrefix)
	if !ok {
		return curve.Curve{}, "", 0, time.Time{}, fmt.Errorf("%w: %s", ErrUnknownLedger, ledgerPrefix)
	}
	q, err := c.quoteLiquidity(ctx, e, from, destination, destHoldMs)
	if err != nil {
		return curve.Curve{}, "", 0, time.Time{}, err
	}
	return q.shifted, q.appliesToPrefix, q.sourceHoldDuration, q.expiresAt, nil
}

func (c *Connector) quoteLiquidity(ctx context.Context, e *entry, from, destination string, destHoldMs uint32) (quote, error) {
	now := c.clock.Now()
	if time.Duration(destHoldMs)*time.Millisecond > c.cfg.MaxHoldTime {
		return quote{}, &quoteError{"Destination expiry duration is too long"}
	}
	if from == "" {
		from = e.prefix
	}
	hop, ok := c.local.FindBestHopForSourceAmount(from, destination, 0)
	if !ok {
		return quote{}, errNoRoute(from, destination)
	}
	q := quote{expiresAt: now.Add(c.cfg.QuoteExpiry)}
	curveExpiresAt, cached := c.curveExpiry(hop)
	if hop.Route.Curve == nil || cached && !now.Before(curveExpiresAt) {
		// No curve (a static route, or a peer that sends none), or the
		// one the next connector gave last time has expired: ask it.
		var err error
		hop, curveExpiresAt, err = c.remoteCurve(ctx, from, destination, destHoldMs, hop)
		if err != nil {
			return quote{}, err
		}
		cached = true
	}
	if cached && curveExpiresAt.Before(q.expiresAt) {
		q.expiresAt = curveExpiresAt
	}
	route := hop.Route
	q.route = route
	q.curve = *route.Curve
	q.appliesToPrefix = c.local.AppliesToPrefix(from, route.TargetPrefix, destination)
	shifted, err := q.curve.ShiftXInt64(c.shift(route.SourceLedger, route.NextLedger))
	if err != nil {
		return quote{}, fmt.Errorf("connector: shifting quote curve: %w", err)
	}
	q.shifted = shifted
	hold := float64(destHoldMs) + route.MinMessageWindow*1000
	if hold < 0 || hold > math.MaxUint32 {
		return quote{}, &quoteError{"Source hold duration out of range"}
	}
	q.sourceHoldDuration = uint32(math.Round(hold))
	return q, nil
}

// tailKey names a route as the next connector offers it: entering on the
// connector's ledger shared with it, to a target prefix, through it.
type tailKey struct{ ledger, target, hop string }

func tailKeyOf(h routing.Hop) tailKey {
	return tailKey{h.Route.NextLedger, h.Route.TargetPrefix, h.NextHop}
}

// curveExpiry tells whether the curve of h's route came from a remote
// quote, and until when it holds.
func (c *Connector) curveExpiry(h routing.Hop) (time.Time, bool) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	exp, ok := c.tails[tailKeyOf(h)]
	return exp, ok
}

func (c *Connector) setCurveExpiry(k tailKey, exp time.Time) {
	c.tmu.Lock()
	c.tails[k] = exp
	c.tmu.Unlock()
}

// forgetCurveExpiries drops the expiries of remote curves whose route has
// left the local tables (the expiry of a route still there must stay known,
// or its remote curve would be taken for a broadcast one and kept forever).
func (c *Connector) forgetCurveExpiries() {
	c.tmu.Lock()
	n := len(c.tails)
	c.tmu.Unlock()
	if n == 0 {
		return
	}
	live := make(map[tailKey]bool)
	for _, r := range c.local.Routes() {
		if !r.Pair {
			live[tailKey{r.Route.NextLedger, r.TargetPrefix, r.NextHop}] = true
		}
	}
	c.tmu.Lock()
	for k := range c.tails {
		if !live[k] {
			delete(c.tails, k)
		}
	}
	c.tmu.Unlock()
}

// remoteCurve asks the next connector of h for its curve to destination
// (Quoter._quoteLiquidity of 2017) and stores the answer in the local
// tables, so that the next quotes and payments use it until it expires:
//
//   - when the answer applies to a prefix longer than the route's target
//     (the next connector knows a more specific route), it is added as the
//     next connector's route to that prefix, and the route is looked up
//     again;
//   - otherwise the answer becomes the curve of h's route: the local pair
//     joined with it, its message window the pair's plus the hold time the
//     next connector adds.
//
// It returns the hop to quote with, its route carrying a curve, and when
// that curve expires (the expiry of the next connector's answer).
//
// The public tables are left as they are: the remote curve is the next
// connector's answer to this connector, not something to broadcast. A route
// a peer broadcast that gets a remote curve is stored again, so its expiry
// starts over; the peer has just answered, after all.
func (c *Connector) remoteCurve(ctx context.Context, from, destination string, destHoldMs uint32, h routing.Hop) (routing.Hop, time.Time, error) {
	route := h.Route
	head, ok := c.local.LocalPairRoute(route.SourceLedger, route.NextLedger)
	if !ok || head.Curve == nil {
		return routing.Hop{}, time.Time{}, errNoRoute(from, destination)
	}
	tail, err := c.remoteQuote(ctx, route.NextLedger, h.NextHop, destination, destHoldMs)
	if err != nil {
		return routing.Hop{}, time.Time{}, err
	}
	tc, err := curve.FromBinary(tail.LiquidityCurve)
	if err != nil {
		return routing.Hop{}, time.Time{}, fmt.Errorf("connector: remote quote from %s: %w", h.NextHop, err)
	}
	if tail.SourceHoldDuration < destHoldMs {
		return routing.Hop{}, time.Time{}, fmt.Errorf("connector: remote quote from %s: source hold %d ms shorter than the %d ms asked for", h.NextHop, tail.SourceHoldDuration, destHoldMs)
	}
	window := float64(tail.SourceHoldDuration-destHoldMs) / 1000
	applies := tail.AppliesToPrefix
	if len(applies) > len(route.TargetPrefix) && strings.HasPrefix(destination, applies) {
		c.local.AddRouteData(routing.RouteData{
			SourceLedger:      route.NextLedger,
			DestinationLedger: applies,
			Points:            &tc,
			MinMessageWindow:  window,
			SourceAccount:     h.NextHop,
		})
		k := tailKey{route.NextLedger, applies, h.NextHop}
		c.setCurveExpiry(k, tail.ExpiresAt)
		if h2, ok := c.local.FindBestHopForSourceAmount(from, destination, 0); ok && h2.Route.Curve != nil && tailKeyOf(h2) == k {
			return h2, tail.ExpiresAt, nil
		}
		// The tail could not be joined to the local pair (it would loop):
		// answer this quote with it all the same.
		route.TargetPrefix = applies
	} else {
		t := routing.Route{
			Curve:             &tc,
			SourceLedger:      route.NextLedger,
			NextLedger:        route.DestinationLedger,
			DestinationLedger: route.DestinationLedger,
			TargetPrefix:      route.TargetPrefix,
			MinMessageWindow:  window,
			SourceAccount:     h.NextHop,
			Paths:             route.Paths,
		}
		if route.Static {
			c.local.AddStaticRoute(t)
		} else {
			c.local.AddRoute(t)
		}
		c.setCurveExpiry(tailKeyOf(h), tail.ExpiresAt)
	}
	joined := head.Curve.Join(tc)
	route.Curve = &joined
	route.MinMessageWindow = head.MinMessageWindow + window
	h.Route = route
	return h, tail.ExpiresAt, nil
}

// remoteQuote asks the connector next on ledger for its liquidity curve to
// destination (ILQP type 2). An ILP error in its answer is returned as the
// error.
func (c *Connector) remoteQuote(ctx context.Context, ledgerPrefix, next, destination string, destHoldMs uint32) (*ilp.QuoteLiquidityResponse, error) {
	e, ok := c.entry(ledgerPrefix)
	if !ok {
		return nil, errNoRoute(ledgerPrefix, destination)
	}
	req := &ilp.QuoteLiquidityRequest{DestinationAccount: destination, DestinationHoldDuration: destHoldMs}
	b, err := req.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("connector: encoding remote quote: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	resp, err := e.plugin.SendRequest(ctx, ledger.Message{Ledger: e.prefix, From: e.account, To: next, ILP: ilp.EncodeBase64URL(b)})
	if err != nil {
		return nil, fmt.Errorf("connector: remote quote from %s: %w", next, err)
	}
	raw, err := ilp.DecodeBase64(resp.ILP)
	if err != nil {
		return nil, fmt.Errorf("connector: remote quote from %s: %w", next, err)
	}
	pkt, err := ilp.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("connector: remote quote from %s: %w", next, err)
	}
	switch p := pkt.(type) {
	case *ilp.QuoteLiquidityResponse:
		return p, nil
	case *ilp.Error:
		return nil, p
	}
	return nil, fmt.Errorf("connector: remote quote from %s: unexpected packet type %d", next, pkt.Type())
}

// handleCustom answers the custom requests: route broadcasts, settlement
// methods, and an error for anything else (never silence: the peer would
// wait for its timeout).
func (c *Connector) handleCustom(ctx context.Context, e *entry, req ledger.Message) (ledger.Message, error) {
	var m struct {
		Method string          `json:"method"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(req.Custom, &m); err != nil {
		return ledger.Message{}, ledger.NewError(ledger.ErrInvalidFields, "custom data is not an object")
	}
	switch m.Method {
	case routing.MethodBroadcastRoutes:
		return c.receiveBroadcast(e, req.From, m.Data)
	case MethodSettlementMethodsRequest:
		out, err := json.Marshal(struct {
			Method  string          `json:"method"`
			Methods json.RawMessage `json:"settlement_methods"`
		}{MethodSettlementMethodsResponse, c.settlementMethods()})
		if err != nil {
			return ledger.Message{}, err
		}
		return ledger.Message{Custom: out}, nil
	}
	return ledger.Message{}, ledger.Errorf(ledger.ErrInvalidFields, "unknown method %q", m.Method)
}
