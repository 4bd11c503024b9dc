package kit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/psk"
	"github.com/ilpkit/ilpkit/spsp"
	"github.com/ilpkit/ilpkit/webfinger"
)

// Errors of quoting and paying; each changes nothing.
var (
	ErrInvalidDestination    = errors.New("kit: invalid destination")
	ErrReceiverNotFound      = errors.New("kit: receiver not found")
	ErrInvalidAmount         = errors.New("kit: invalid amount")
	ErrQuoteNotFound         = errors.New("kit: quote not found")
	ErrQuoteExpired          = errors.New("kit: quote expired")
	ErrAmountMismatch        = errors.New("kit: amounts do not match the quote")
	ErrPaymentConflict       = errors.New("kit: payment id used for another payment")
	ErrInvalidPaymentID      = errors.New("kit: invalid payment id")
	ErrInsufficientFunds     = errors.New("kit: insufficient funds")
	ErrInsufficientLiquidity = errors.New("kit: insufficient liquidity")
	ErrNoRoute               = errors.New("kit: no route to the receiver")
	ErrMessageTooLong        = errors.New("kit: message too long")
)

// Quoting constants.
const (
	// destinationHold is how long the receiver's ledger holds a payment
	// (ILQP destinationHoldDuration).
	destinationHold = 5 * time.Second
	// localQuoteLife is how long a quote to a user of this kit lasts.
	localQuoteLife = 5 * time.Minute
	// maxMessageLen bounds a payment's message (2.x: 1024).
	maxMessageLen = 1024
)

// Quote is what the kit offers a user for paying a destination: fixed
// amounts (by source or by destination) or a liquidity curve from which the
// user's client computes amounts as the user types. A payment names it.
type Quote struct {
	ID          string `json:"id"`
	Destination string `json:"destination"` // as the user gave it, normalised
	// Local is set for a user of this kit (paid in one local step).
	Local     bool   `json:"local"`
	LocalUser string `json:"-"`
	// DestinationAccount and SharedSecret are the receiver's PSK
	// parameters (remote receivers).
	DestinationAccount string `json:"destinationAccount"`
	SharedSecret       string `json:"-"`
	// Amounts of an amount quote (0 in a curve quote).
	SourceAmount      uint64 `json:"-"`
	DestinationAmount uint64 `json:"-"`
	// Curve of a curve quote: points (x: source, y: destination base units).
	Curve           []curve.Point `json:"-"`
	AppliesToPrefix string        `json:"appliesToPrefix,omitempty"`
	SourceCode      string        `json:"sourceCurrencyCode"`
	SourceScale     int           `json:"sourceCurrencyScale"`
	DestCode        string        `json:"destinationCurrencyCode"`
	DestScale       int           `json:"destinationCurrencyScale"`
	// MaxDestination is the most the receiver accepts.
	MaxDestination uint64    `json:"-"`
	MinDestination uint64    `json:"-"`
	SourceHoldMs   uint32    `json:"sourceHoldDuration"`
	ReceiverName   string    `json:"receiverName,omitempty"`
	ReceiverImage  string    `json:"receiverImageUrl,omitempty"`
	ExpiresAt      time.Time `json:"expiresAt"`
}

// storedQuote is the JSON kept in kit_quotes (the whole quote, secrets
// included: the table never leaves the kit).
type storedQuote struct {
	Quote
	LocalUser      string        `json:"localUser,omitempty"`
	SharedSecret   string        `json:"sharedSecret,omitempty"`
	SourceAmount   uint64        `json:"sourceAmount,string"`
	DestAmount     uint64        `json:"destinationAmount,string"`
	Curve          []curve.Point `json:"curve,omitempty"`
	MaxDestination uint64        `json:"maxDestination,string"`
	MinDestination uint64        `json:"minDestination,string"`
}

// QuoteRequest asks for a quote: exactly one amount, or none for a curve.
type QuoteRequest struct {
	Destination       string
	SourceAmount      uint64
	DestinationAmount uint64
}

// receiver is a resolved destination.
type receiver struct {
	identifier string
	local      string // user name on this kit
	spsp       spsp.Receiver
}

// resolve finds the receiver of a destination: a user of this kit ("bob"
// or "bob@<this host>"), user@host, or an SPSP URL.
func (k *Kit) resolve(ctx context.Context, dest string) (receiver, error) {
	dest = strings.TrimSpace(strings.TrimPrefix(dest, "acct:"))
	if dest == "" || len(dest) > 1024 {
		return receiver{}, fmt.Errorf("%w: %q", ErrInvalidDestination, dest)
	}
	name := dest
	if user, host, err := webfinger.SplitIdentifier(dest); err == nil && strings.EqualFold(host, k.Host()) {
		name = user
	}
	if !strings.ContainsAny(name, "@/:") {
		name = strings.ToLower(name)
		u, err := k.st.UserByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
			return receiver{}, fmt.Errorf("%w: %s", ErrReceiverNotFound, dest)
		}
		if err != nil {
			return receiver{}, fmt.Errorf("kit: %w", err)
		}
		return receiver{identifier: name + "@" + k.Host(), local: name}, nil
	}
	if !strings.Contains(dest, "@") && !strings.HasPrefix(dest, "https://") && !strings.HasPrefix(dest, "http://") {
		return receiver{}, fmt.Errorf("%w: %q is neither user@host nor an SPSP URL", ErrInvalidDestination, dest)
	}
	c := &spsp.Client{HTTP: k.httpClient, AllowHTTP: k.cfg.AllowHTTPPeers}
	r, err := c.Resolve(ctx, dest)
	if err != nil {
		return receiver{}, fmt.Errorf("%w: %s: %v", ErrReceiverNotFound, dest, err)
	}
	return receiver{identifier: dest, spsp: r}, nil
}

// Quote quotes a payment from user to req.Destination: by source amount,
// by destination amount, or (both zero) a liquidity curve.
func (k *Kit) Quote(ctx context.Context, user store.User, req QuoteRequest) (Quote, error) {
	if req.SourceAmount != 0 && req.DestinationAmount != 0 {
		return Quote{}, fmt.Errorf("%w: give the source amount or the destination amount, not both", ErrInvalidAmount)
	}
	r, err := k.resolve(ctx, req.Destination)
	if err != nil {
		return Quote{}, err
	}
	code, scale := k.Currency()
	now := k.clock.Now()
	q := Quote{
		ID: newID(), Destination: r.identifier, SourceCode: code, SourceScale: scale,
	}
	if r.local != "" {
		if r.local == user.Username {
			return Quote{}, fmt.Errorf("%w: you cannot pay yourself", ErrInvalidDestination)
		}
		u, err := k.st.UserByName(ctx, r.local)
		if err != nil {
			return Quote{}, fmt.Errorf("%w: %s", ErrReceiverNotFound, r.local)
		}
		q.Local, q.LocalUser = true, r.local
		q.DestinationAccount = k.prefix + r.local
		q.DestCode, q.DestScale = code, scale
		q.ReceiverName = u.Name
		q.ReceiverImage = k.APIBase() + "/users/" + u.Username + "/profilepic"
		q.MinDestination, q.MaxDestination = 1, math.MaxUint64
		q.ExpiresAt = now.Add(localQuoteLife)
		switch {
		case req.SourceAmount != 0:
			q.SourceAmount, q.DestinationAmount = req.SourceAmount, req.SourceAmount
		case req.DestinationAmount != 0:
			q.SourceAmount, q.DestinationAmount = req.DestinationAmount, req.DestinationAmount
		default:
			q.Curve = []curve.Point{{X: 0, Y: 0}, {X: math.MaxUint64, Y: math.MaxUint64}}
			q.AppliesToPrefix = q.DestinationAccount
		}
	} else {
		sp := r.spsp
		q.DestinationAccount, q.SharedSecret = sp.DestinationAccount, sp.SharedSecret
		q.DestCode, q.DestScale = sp.LedgerInfo.CurrencyCode, sp.LedgerInfo.CurrencyScale
		q.ReceiverName, q.ReceiverImage = sp.ReceiverInfo.Name, sp.ReceiverInfo.ImageURL
		q.MinDestination, q.MaxDestination = sp.Min, sp.Max
		// The receiver's ledger holds the payment for destinationHold, or
		// less on a kit whose maximum hold time is shorter: each hop adds
		// its message window on top.
		holdMs := uint32(min(destinationHold, k.cfg.MaxHoldTime/2) / time.Millisecond)
		from := k.prefix + user.Username
		switch {
		case req.SourceAmount != 0:
			dst, hold, err := k.conn.QuoteBySource(ctx, k.prefix, from, sp.DestinationAccount, req.SourceAmount, holdMs)
			if err != nil {
				return Quote{}, quoteError(err)
			}
			q.SourceAmount, q.DestinationAmount, q.SourceHoldMs = req.SourceAmount, dst, hold
			q.ExpiresAt = now.Add(45 * time.Second)
		case req.DestinationAmount != 0:
			src, hold, err := k.conn.QuoteByDestination(ctx, k.prefix, from, sp.DestinationAccount, req.DestinationAmount, holdMs)
			if err != nil {
				return Quote{}, quoteError(err)
			}
			q.SourceAmount, q.DestinationAmount, q.SourceHoldMs = src, req.DestinationAmount, hold
			q.ExpiresAt = now.Add(45 * time.Second)
		default:
			c, applies, hold, expires, err := k.conn.QuoteLiquidity(ctx, k.prefix, from, sp.DestinationAccount, holdMs)
			if err != nil {
				return Quote{}, quoteError(err)
			}
			q.Curve, q.AppliesToPrefix, q.SourceHoldMs, q.ExpiresAt = c.Points(), applies, hold, expires
		}
		if q.DestinationAmount != 0 && (q.DestinationAmount < q.MinDestination || q.DestinationAmount > q.MaxDestination) {
			return Quote{}, fmt.Errorf("%w: the receiver accepts %d to %d", ErrInvalidAmount, q.MinDestination, q.MaxDestination)
		}
	}
	body, err := json.Marshal(storedQuote{
		Quote: q, LocalUser: q.LocalUser, SharedSecret: q.SharedSecret,
		SourceAmount: q.SourceAmount, DestAmount: q.DestinationAmount, Curve: q.Curve,
		MaxDestination: q.MaxDestination, MinDestination: q.MinDestination,
	})
	if err != nil {
		return Quote{}, fmt.Errorf("kit: %w", err)
	}
	if err := k.st.InsertQuote(ctx, store.StoredQuote{ID: q.ID, UserID: user.ID, Body: body, ExpiresAt: q.ExpiresAt}); err != nil {
		return Quote{}, fmt.Errorf("kit: %w", err)
	}
	return q, nil
}

// quoteError maps the connector's refusals to the kit's.
func quoteError(err error) error {
	m := err.Error()
	switch {
	case strings.Contains(m, "no route"), strings.Contains(m, "No route"), strings.Contains(m, "unreachable"):
		return fmt.Errorf("%w: %v", ErrNoRoute, err)
	case strings.Contains(m, "liquidity"), strings.Contains(m, "minimum amount"):
		return fmt.Errorf("%w: %v", ErrInsufficientLiquidity, err)
	}
	return fmt.Errorf("%w: %v", ErrNoRoute, err)
}

func (k *Kit) loadQuote(ctx context.Context, userID int64, id string) (Quote, error) {
	sq, err := k.st.Quote(ctx, userID, id)
	if errors.Is(err, store.ErrNotFound) {
		return Quote{}, ErrQuoteNotFound
	}
	if err != nil {
		return Quote{}, fmt.Errorf("kit: %w", err)
	}
	var s storedQuote
	if err := json.Unmarshal(sq.Body, &s); err != nil {
		return Quote{}, fmt.Errorf("kit: stored quote %s: %w", id, err)
	}
	q := s.Quote
	q.LocalUser, q.SharedSecret = s.LocalUser, s.SharedSecret
	q.SourceAmount, q.DestinationAmount, q.Curve = s.SourceAmount, s.DestAmount, s.Curve
	q.MaxDestination, q.MinDestination = s.MaxDestination, s.MinDestination
	return q, nil
}

// amounts checks the amounts a payment names against its quote, which
// never re-quotes: an amount quote must be paid with its own amounts; from
// a curve, the destination amount must be the curve's at the source amount
// (what the user's client computed from the same curve with the same
// rounding) or the source amount the curve's reverse at the destination.
func (q Quote) amounts(src, dst uint64) error {
	if src == 0 || dst == 0 {
		return fmt.Errorf("%w: amounts must be positive", ErrInvalidAmount)
	}
	if q.Curve == nil {
		if src != q.SourceAmount || dst != q.DestinationAmount {
			return fmt.Errorf("%w: quoted %d for %d", ErrAmountMismatch, q.SourceAmount, q.DestinationAmount)
		}
		return nil
	}
	c, err := curve.New(q.Curve)
	if err != nil {
		return fmt.Errorf("kit: stored curve: %w", err)
	}
	if c.AmountAt(src) != dst {
		if x, ok := c.AmountReverse(dst); !ok || x != src {
			return fmt.Errorf("%w: the curve gives %d for %d", ErrAmountMismatch, c.AmountAt(src), src)
		}
	}
	if dst < q.MinDestination || dst > q.MaxDestination {
		return fmt.Errorf("%w: the receiver accepts %d to %d", ErrInvalidAmount, q.MinDestination, q.MaxDestination)
	}
	return nil
}

// PayRequest pays a quote. ID is chosen by the client, so that a retry of
// the same request pays once.
type PayRequest struct {
	ID                string
	QuoteID           string
	SourceAmount      uint64
	DestinationAmount uint64
	Message           string
}

func (r PayRequest) hash() string {
	h := sha256.Sum256([]byte(r.QuoteID + "\x00" + strconv.FormatUint(r.SourceAmount, 10) + "\x00" +
		strconv.FormatUint(r.DestinationAmount, 10) + "\x00" + r.Message))
	return hex.EncodeToString(h[:])
}

func validPaymentID(id string) bool {
	if len(id) < 1 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Pay pays a quote for user and waits until the payment ends (or ctx ends:
// the payment then goes on, and its state shows in the history). The same
// request again returns the same payment; another request with the same ID
// fails with ErrPaymentConflict.
func (k *Kit) Pay(ctx context.Context, user store.User, req PayRequest) (store.Payment, error) {
	if !validPaymentID(req.ID) {
		return store.Payment{}, fmt.Errorf("%w: 1 to 64 characters of A-Z, a-z, 0-9, - and _", ErrInvalidPaymentID)
	}
	if len(req.Message) > maxMessageLen {
		return store.Payment{}, ErrMessageTooLong
	}
	payID := paymentKey(user.ID, req.ID)
	if p, err := k.st.Payment(ctx, payID); err == nil {
		return k.repeat(ctx, p, req)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Payment{}, fmt.Errorf("kit: %w", err)
	}
	q, err := k.loadQuote(ctx, user.ID, req.QuoteID)
	if err != nil {
		return store.Payment{}, err
	}
	if !k.clock.Now().Before(q.ExpiresAt) {
		return store.Payment{}, ErrQuoteExpired
	}
	if err := q.amounts(req.SourceAmount, req.DestinationAmount); err != nil {
		return store.Payment{}, err
	}
	if req.SourceAmount > math.MaxInt64 || req.DestinationAmount > math.MaxInt64 {
		return store.Payment{}, fmt.Errorf("%w: amounts above 2^63-1 base units", ErrInvalidAmount)
	}
	p := store.Payment{
		ID: payID, UserID: user.ID, Direction: "outgoing", TransferID: idFrom("payment " + payID),
		Counterparty: q.Destination, CounterpartyName: q.ReceiverName, CounterpartyImage: q.ReceiverImage,
		SourceAmount: int64(req.SourceAmount), DestinationAmount: int64(req.DestinationAmount),
		DestinationCode: q.DestCode, DestinationScale: q.DestScale, Message: req.Message,
		State: store.PaymentPending, RequestHash: req.hash(),
	}
	stored, inserted, err := k.st.InsertPayment(ctx, p)
	if err != nil {
		return store.Payment{}, fmt.Errorf("kit: %w", err)
	}
	if !inserted {
		return k.repeat(ctx, stored, req)
	}
	if q.Local {
		return k.payLocal(ctx, user, q, stored)
	}
	return k.payRemote(ctx, user, q, stored)
}

// paymentKey is the stored id of a user's payment: client ids are chosen
// per user, so two users may pick the same one.
func paymentKey(userID int64, id string) string { return strconv.FormatInt(userID, 10) + ":" + id }

// repeat answers a payment request whose id is stored already.
func (k *Kit) repeat(ctx context.Context, p store.Payment, req PayRequest) (store.Payment, error) {
	if p.RequestHash != req.hash() {
		return store.Payment{}, ErrPaymentConflict
	}
	return k.waitPayment(ctx, p.ID)
}

// payLocal pays a user of this kit in one step: an unconditional transfer,
// recorded on both sides.
func (k *Kit) payLocal(ctx context.Context, user store.User, q Quote, p store.Payment) (store.Payment, error) {
	view, err := k.view(ctx, user.Username)
	if err != nil {
		return k.fail(ctx, p, err)
	}
	err = view.SendTransfer(ctx, ledger.Transfer{ID: p.TransferID, To: k.prefix + q.LocalUser, Amount: uint64(p.SourceAmount)})
	if err != nil {
		return k.fail(ctx, p, err)
	}
	return k.finishLocal(ctx, p, q.LocalUser)
}

// finishLocal records a local payment whose transfer went through: the
// receiver's row, then the sender's success.
func (k *Kit) finishLocal(ctx context.Context, p store.Payment, to string) (store.Payment, error) {
	rcv, err := k.st.UserByName(ctx, to)
	if err != nil {
		return store.Payment{}, fmt.Errorf("kit: %w", err)
	}
	sender, err := k.st.UserByID(ctx, p.UserID)
	if err != nil {
		return store.Payment{}, fmt.Errorf("kit: %w", err)
	}
	now := k.clock.Now()
	_, _, err = k.st.InsertPayment(ctx, store.Payment{
		ID: "in:" + p.TransferID, UserID: rcv.ID, Direction: "incoming", TransferID: p.TransferID,
		Counterparty: sender.Username + "@" + k.Host(), CounterpartyName: sender.Name,
		CounterpartyImage: k.APIBase() + "/users/" + sender.Username + "/profilepic",
		SourceAmount:      p.DestinationAmount, DestinationAmount: p.DestinationAmount,
		DestinationCode: p.DestinationCode, DestinationScale: p.DestinationScale, Message: p.Message,
		State: store.PaymentSuccess, CompletedAt: &now,
	})
	if err != nil {
		return store.Payment{}, fmt.Errorf("kit: %w", err)
	}
	if _, err := k.st.FinishPayment(ctx, p.ID, store.PaymentSuccess, ""); err != nil {
		return store.Payment{}, fmt.Errorf("kit: %w", err)
	}
	k.notify(p.UserID, rcv.ID)
	return k.st.Payment(ctx, p.ID)
}

// fail records a payment that could not be sent and returns the error.
func (k *Kit) fail(ctx context.Context, p store.Payment, cause error) (store.Payment, error) {
	err := sendError(cause)
	if _, ferr := k.st.FinishPayment(ctx, p.ID, store.PaymentFailed, errorID(err)); ferr != nil {
		return store.Payment{}, fmt.Errorf("kit: %w", ferr)
	}
	k.notify(p.UserID)
	return store.Payment{}, err
}

func sendError(err error) error {
	switch {
	case errors.Is(err, ledger.ErrInsufficientBalance):
		return fmt.Errorf("%w: %v", ErrInsufficientFunds, err)
	case errors.Is(err, ledger.ErrAccountNotFound):
		return fmt.Errorf("%w: %v", ErrReceiverNotFound, err)
	case errors.Is(err, ledger.ErrNotAccepted):
		return fmt.Errorf("%w: %v", ErrInsufficientFunds, err)
	}
	return fmt.Errorf("kit: %w", err)
}

// errorID is the stable id of a kit error, as the API names it.
func errorID(err error) string {
	for _, e := range []struct {
		err error
		id  string
	}{
		{ErrInsufficientFunds, "InsufficientFundsError"},
		{ErrInsufficientLiquidity, "InsufficientLiquidityError"},
		{ErrNoRoute, "NoRouteError"},
		{ErrReceiverNotFound, "ReceiverNotFoundError"},
	} {
		if errors.Is(err, e.err) {
			return e.id
		}
	}
	return "PaymentFailedError"
}

// payRemote sends a PSK payment through the connector and waits for it.
func (k *Kit) payRemote(ctx context.Context, user store.User, q Quote, p store.Payment) (store.Payment, error) {
	secret, err := ilp.DecodeBase64(q.SharedSecret)
	if err != nil {
		return k.fail(ctx, p, err)
	}
	hdrs := psk.Headers{
		{Name: "Source-Identifier", Value: user.Username + "@" + k.Host()},
		{Name: "Source-Name", Value: user.Name},
		{Name: "Source-Image-Url", Value: k.APIBase() + "/users/" + user.Username + "/profilepic"},
	}
	if p.Message != "" {
		hdrs = append(hdrs, psk.Header{Name: "Message", Value: p.Message})
	}
	pkt, err := psk.CreatePacketAndCondition(psk.PaymentParams{
		DestinationAccount: q.DestinationAccount, DestinationAmount: uint64(p.DestinationAmount),
		SharedSecret: secret, Headers: hdrs, Rand: rand.Reader,
	})
	if err != nil {
		return k.fail(ctx, p, err)
	}
	hold := time.Duration(q.SourceHoldMs) * time.Millisecond
	if hold <= 0 || hold > k.cfg.MaxHoldTime {
		hold = min(k.cfg.MaxHoldTime, 30*time.Second)
	}
	view, err := k.view(ctx, user.Username)
	if err != nil {
		return k.fail(ctx, p, err)
	}
	err = view.SendTransfer(ctx, ledger.Transfer{
		ID: p.TransferID, To: k.prefix + IssuerAccount, Amount: uint64(p.SourceAmount), ILP: pkt.ILP(),
		ExecutionCondition: pkt.Condition.String(), ExpiresAt: k.clock.Now().Add(hold),
	})
	if err != nil {
		return k.fail(ctx, p, err)
	}
	return k.waitPayment(ctx, p.ID)
}

// newID is a random UUID (version 4).
func newID() string { return pluginkit.NewID() }
