package web

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
)

// quoteJSON is a quote or a liquidity curve as the API shows it: amounts
// and curve points are decimal strings of base units (the source in the
// kit's currency and scale, the destination in the receiver's), which a
// client converts to decimals only to show them.
type quoteJSON struct {
	ID                       string      `json:"id"`
	Destination              string      `json:"destination"`
	Local                    bool        `json:"local"`
	DestinationAccount       string      `json:"destinationAccount"`
	SourceAmount             *Amount     `json:"sourceAmount,omitempty"`
	DestinationAmount        *Amount     `json:"destinationAmount,omitempty"`
	Points                   [][2]string `json:"points,omitempty"`
	AppliesToPrefix          string      `json:"appliesToPrefix,omitempty"`
	MinDestinationAmount     string      `json:"minDestinationAmount"`
	MaxDestinationAmount     string      `json:"maxDestinationAmount"`
	SourceCurrencyCode       string      `json:"sourceCurrencyCode"`
	SourceCurrencyScale      int         `json:"sourceCurrencyScale"`
	DestinationCurrencyCode  string      `json:"destinationCurrencyCode"`
	DestinationCurrencyScale int         `json:"destinationCurrencyScale"`
	SourceHoldDuration       uint32      `json:"sourceHoldDuration"`
	ReceiverName             string      `json:"receiverName,omitempty"`
	ReceiverImageURL         string      `json:"receiverImageUrl,omitempty"`
	ExpiresAt                time.Time   `json:"expiresAt"`
}

func quoteView(q kit.Quote) quoteJSON {
	j := quoteJSON{
		ID: q.ID, Destination: q.Destination, Local: q.Local, DestinationAccount: q.DestinationAccount,
		AppliesToPrefix:      q.AppliesToPrefix,
		MinDestinationAmount: strconv.FormatUint(q.MinDestination, 10), MaxDestinationAmount: strconv.FormatUint(q.MaxDestination, 10),
		SourceCurrencyCode: q.SourceCode, SourceCurrencyScale: q.SourceScale,
		DestinationCurrencyCode: q.DestCode, DestinationCurrencyScale: q.DestScale,
		SourceHoldDuration: q.SourceHoldMs, ReceiverName: q.ReceiverName, ReceiverImageURL: q.ReceiverImage,
		ExpiresAt: q.ExpiresAt,
	}
	if q.Curve != nil {
		j.Points = make([][2]string, len(q.Curve))
		for i, p := range q.Curve {
			j.Points[i] = [2]string{strconv.FormatUint(p.X, 10), strconv.FormatUint(p.Y, 10)}
		}
	} else {
		src, dst := Amount(q.SourceAmount), Amount(q.DestinationAmount)
		j.SourceAmount, j.DestinationAmount = &src, &dst
	}
	return j
}

// quote is POST /api/payments/quote {destination, sourceAmount |
// destinationAmount}.
func (a *api) quote(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Destination       string  `json:"destination"`
		SourceAmount      *Amount `json:"sourceAmount"`
		DestinationAmount *Amount `json:"destinationAmount"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if (body.SourceAmount == nil) == (body.DestinationAmount == nil) {
		return apiErr(http.StatusBadRequest, "InvalidAmountError", "give sourceAmount or destinationAmount (for a curve: GET /api/payments/curve)")
	}
	req := kit.QuoteRequest{Destination: body.Destination}
	if body.SourceAmount != nil {
		req.SourceAmount = uint64(*body.SourceAmount)
	} else {
		req.DestinationAmount = uint64(*body.DestinationAmount)
	}
	if req.SourceAmount == 0 && req.DestinationAmount == 0 {
		return apiErr(http.StatusBadRequest, "InvalidAmountError", "the amount must be positive")
	}
	q, err := a.s.k.Quote(r.Context(), c.user, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, quoteView(q))
	return nil
}

// curve is GET /api/payments/curve?destination=: a liquidity curve to the
// destination, from which the client computes quotes as the user types.
func (a *api) curve(w http.ResponseWriter, r *http.Request, c *caller) error {
	dest := r.URL.Query().Get("destination")
	if dest == "" {
		return apiErr(http.StatusBadRequest, "InvalidQueryError", "give ?destination=")
	}
	q, err := a.s.k.Quote(r.Context(), c.user, kit.QuoteRequest{Destination: dest})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, quoteView(q))
	return nil
}

// paymentJSON is one side of a payment as the API shows it.
type paymentJSON struct {
	ID                       string     `json:"id"`
	Direction                string     `json:"direction"`
	Counterparty             string     `json:"counterparty"`
	CounterpartyName         string     `json:"counterpartyName,omitempty"`
	CounterpartyImageURL     string     `json:"counterpartyImageUrl,omitempty"`
	SourceAmount             string     `json:"sourceAmount"`
	SourceCurrencyCode       string     `json:"sourceCurrencyCode"`
	SourceCurrencyScale      int        `json:"sourceCurrencyScale"`
	DestinationAmount        string     `json:"destinationAmount"`
	DestinationCurrencyCode  string     `json:"destinationCurrencyCode"`
	DestinationCurrencyScale int        `json:"destinationCurrencyScale"`
	Message                  string     `json:"message,omitempty"`
	State                    string     `json:"state"`
	Error                    string     `json:"error,omitempty"`
	CreatedAt                time.Time  `json:"createdAt"`
	CompletedAt              *time.Time `json:"completedAt"`
}

func (a *api) paymentView(p store.Payment) paymentJSON {
	code, scale := a.s.k.Currency()
	id := p.ID
	if p.Direction == "outgoing" {
		// The kit keys a client's payment id by its user.
		id = strings.TrimPrefix(id, strconv.FormatInt(p.UserID, 10)+":")
	}
	return paymentJSON{
		ID: id, Direction: p.Direction, Counterparty: p.Counterparty, CounterpartyName: p.CounterpartyName,
		CounterpartyImageURL: p.CounterpartyImage, SourceAmount: str(p.SourceAmount), SourceCurrencyCode: code,
		SourceCurrencyScale: scale, DestinationAmount: str(p.DestinationAmount), DestinationCurrencyCode: p.DestinationCode,
		DestinationCurrencyScale: p.DestinationScale, Message: p.Message, State: p.State, Error: p.Error,
		CreatedAt: p.CreatedAt, CompletedAt: p.CompletedAt,
	}
}

// failureMessages explain the ids a failed payment records.
var failureMessages = map[string]string{
	"InsufficientFundsError":     "not enough money in the account",
	"InsufficientLiquidityError": "no path has the liquidity for this amount",
	"NoRouteError":               "no route to the receiver",
	"ReceiverNotFoundError":      "the receiver could not be found",
	"ExpiredError":               "the payment expired before the receiver took it",
	"RejectedError":              "the receiver or a connector rejected the payment",
	"NotSentError":               "the payment was not sent",
}

// pay is PUT /api/payments/{id} {quoteId, sourceAmount, destinationAmount,
// message}: pays a quote with the amounts the user accepted, which the kit
// checks against the stored quote (never re-quoting). The same request
// again answers the same payment. 200: paid; 202: still under way (see the
// history or the event stream); a failed payment answers its error.
func (a *api) pay(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		QuoteID           string `json:"quoteId"`
		SourceAmount      Amount `json:"sourceAmount"`
		DestinationAmount Amount `json:"destinationAmount"`
		Message           string `json:"message"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.QuoteID == "" || len(body.QuoteID) > 64 {
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "give the quoteId of a quote or curve")
	}
	p, err := a.s.k.Pay(r.Context(), c.user, kit.PayRequest{
		ID: r.PathValue("id"), QuoteID: body.QuoteID, SourceAmount: uint64(body.SourceAmount),
		DestinationAmount: uint64(body.DestinationAmount), Message: body.Message,
	})
	if err != nil {
		return err
	}
	switch p.State {
	case store.PaymentFailed:
		msg, ok := failureMessages[p.Error]
		if !ok {
			msg = "the payment failed"
		}
		id := p.Error
		if id == "" {
			id = "PaymentFailedError"
		}
		return apiErr(http.StatusUnprocessableEntity, id, msg)
	case store.PaymentPending:
		writeJSON(w, http.StatusAccepted, a.paymentView(p))
	default:
		writeJSON(w, http.StatusOK, a.paymentView(p))
	}
	return nil
}

// History page sizes.
const (
	defaultPage = 20
	maxPage     = 100
)

func encodeCursor(p store.Payment) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.CreatedAt.UnixMilli(), 10) + ":" + p.ID))
}

func decodeCursor(s string) (store.Cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Cursor{}, false
	}
	ms, id, ok := strings.Cut(string(b), ":")
	v, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return store.Cursor{}, false
	}
	return store.Cursor{CreatedAt: time.UnixMilli(v), ID: id}, true
}

// history is GET /api/payments?cursor=&limit=: the caller's payments,
// newest first; nextCursor (opaque) fetches the next page, null at the
// end.
func (a *api) history(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	limit := defaultPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			return apiErr(http.StatusBadRequest, "InvalidQueryError", "limit is 1 to 100")
		}
		limit = n
	}
	var cur store.Cursor
	if s := q.Get("cursor"); s != "" {
		var ok bool
		if cur, ok = decodeCursor(s); !ok {
			return apiErr(http.StatusBadRequest, "InvalidQueryError", "unreadable cursor")
		}
	}
	ps, err := a.s.k.Store().Payments(r.Context(), c.user.ID, cur, limit+1)
	if err != nil {
		return err
	}
	out := struct {
		Payments   []paymentJSON `json:"payments"`
		NextCursor *string       `json:"nextCursor"`
	}{Payments: []paymentJSON{}}
	if len(ps) > limit {
		ps = ps[:limit]
		next := encodeCursor(ps[limit-1])
		out.NextCursor = &next
	}
	for _, p := range ps {
		out.Payments = append(out.Payments, a.paymentView(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// stats is GET /api/payments/stats: the caller's successful payments
// summed per counterparty, the most recent first.
func (a *api) stats(w http.ResponseWriter, r *http.Request, c *caller) error {
	st, err := a.s.k.Store().Stats(r.Context(), c.user.ID)
	if err != nil {
		return err
	}
	type statJSON struct {
		Counterparty  string    `json:"counterparty"`
		Name          string    `json:"name,omitempty"`
		SentCount     int64     `json:"sentCount"`
		Sent          string    `json:"sent"`
		ReceivedCount int64     `json:"receivedCount"`
		Received      string    `json:"received"`
		LastPaymentAt time.Time `json:"lastPaymentAt"`
	}
	out := []statJSON{}
	for _, s := range st {
		out = append(out, statJSON{Counterparty: s.Counterparty, Name: s.Name, SentCount: s.SentCount, Sent: str(s.Sent),
			ReceivedCount: s.ReceivedCount, Received: str(s.Received), LastPaymentAt: s.LastPaymentAtUTC})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// currencySymbols are the symbols the UI shows for common codes.
var currencySymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "BTC": "₿", "XRP": "XRP"}

// parseDestination is GET /api/parse/destination?destination= (signed
// in, since it may look up another kit): who the destination is, in the
// shape of 2.x.
func (a *api) parseDestination(w http.ResponseWriter, r *http.Request, c *caller) error {
	dest := r.URL.Query().Get("destination")
	if dest == "" {
		return apiErr(http.StatusBadRequest, "InvalidQueryError", "give ?destination=")
	}
	d, err := a.s.k.ParseDestination(r.Context(), dest)
	if err != nil {
		return err
	}
	out := map[string]any{
		"identifier": d.Identifier, "name": d.Name, "imageUrl": d.ImageURL, "ilpAddress": d.ILPAddress,
		"currencyCode": d.CurrencyCode, "currencyScale": d.CurrencyScale, "currencySymbol": currencySymbols[d.CurrencyCode],
		"local": d.Local,
	}
	if d.Local {
		user, _, _ := strings.Cut(d.Identifier, "@")
		out["ledgerUri"] = a.s.k.PublicURL()
		out["paymentUri"] = a.s.k.APIBase() + "/spsp/" + user
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
