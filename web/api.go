package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/ledger"
)

// Body limits of the kit's own API.
const (
	maxBody    = 64 << 10 // JSON bodies
	maxPicture = 1 << 20  // profile pictures
)

// api is the state of the REST API under /api: the routes it registered
// (to answer a wrong method with JSON), the login limiter and the event
// streams to end on Close.
type api struct {
	s       *Server
	clock   ledger.Clock
	limiter *limiter

	mu      sync.Mutex
	methods map[string][]string // path pattern -> methods
	closed  chan struct{}
	once    sync.Once
}

func newAPI(s *Server) *api {
	c := s.k.Clock()
	return &api{s: s, clock: c, limiter: newLimiter(c), methods: map[string][]string{}, closed: make(chan struct{})}
}

// errAPI is an error the API answers as it is: a status, a stable id and a
// message for people.
type errAPI struct {
	status int
	id     string
	msg    string
}

func (e *errAPI) Error() string { return e.id + ": " + e.msg }

func apiErr(status int, id, msg string) *errAPI { return &errAPI{status: status, id: id, msg: msg} }

var (
	errUnauthorized = apiErr(http.StatusUnauthorized, "UnauthorizedError", "sign in first")
	errForbidden    = apiErr(http.StatusForbidden, "ForbiddenError", "you may not do this")
	errNotFound     = apiErr(http.StatusNotFound, "NotFoundError", "not found")
	errCSRF         = apiErr(http.StatusForbidden, "CsrfError", "a cookie-authenticated write needs the X-CSRF-Token header of the session")
)

// userMessage is the text of a kit refusal for people: the kit's own
// words without its package prefix. Only refusals whose text the kit
// composes from the request are passed on this way.
func userMessage(err error) string { return strings.TrimPrefix(err.Error(), "kit: ") }

// kitError maps the kit's errors to the API's.
func kitError(err error) *errAPI {
	var e *errAPI
	if errors.As(err, &e) {
		return e
	}
	type m struct {
		err    error
		status int
		id     string
		msg    string // "" : the kit's own message
	}
	for _, c := range []m{
		{kit.ErrInvalidUsername, 400, "InvalidUsernameError", ""},
		{kit.ErrInvalidPassword, 400, "InvalidPasswordError", ""},
		{kit.ErrUsernameTaken, 409, "UsernameTakenError", "the user name or the email is taken"},
		{kit.ErrEmailTaken, 409, "EmailTakenError", "the email is taken"},
		{kit.ErrRegistrationOff, 403, "RegistrationClosedError", "registration needs an invite code"},
		{kit.ErrInvalidInvite, 400, "InvalidInviteError", "the invite code is unknown or used"},
		{kit.ErrWrongCredentials, 401, "UnauthorizedError", "wrong user name or password"},
		{kit.ErrUnknownToken, 401, "UnauthorizedError", "unknown token"},
		{kit.ErrNoSession, 401, "UnauthorizedError", "sign in first"},
		{kit.ErrDisabled, 403, "UserDisabledError", "this user is disabled"},
		{kit.ErrUserNotFound, 404, "NotFoundError", "no such user"},
		{kit.ErrInvalidProfile, 400, "InvalidProfileError", ""},
		{kit.ErrInvalidLimits, 400, "InvalidLimitsError", ""},
		{kit.ErrInvalidCode, 400, "InvalidCodeError", "the code is unknown, used or expired"},
		{kit.ErrInvalidDestination, 400, "InvalidDestinationError", "the destination is neither a user, user@host nor an SPSP URL"},
		{kit.ErrReceiverNotFound, 404, "ReceiverNotFoundError", "the receiver could not be found"},
		{kit.ErrInvalidAmount, 400, "InvalidAmountError", ""},
		{kit.ErrQuoteNotFound, 404, "QuoteNotFoundError", "no such quote"},
		{kit.ErrQuoteExpired, 409, "QuoteExpiredError", "the quote expired: get a new one"},
		{kit.ErrAmountMismatch, 422, "AmountMismatchError", ""},
		{kit.ErrPaymentConflict, 409, "PaymentConflictError", "this payment id was used for another payment"},
		{kit.ErrInvalidPaymentID, 400, "InvalidPaymentIdError", "a payment id has 1 to 64 characters of A-Z, a-z, 0-9, - and _"},
		{kit.ErrInsufficientFunds, 422, "InsufficientFundsError", "not enough money in the account"},
		{kit.ErrInsufficientLiquidity, 422, "InsufficientLiquidityError", "no path has the liquidity for this amount"},
		{kit.ErrNoRoute, 422, "NoRouteError", "no route to the receiver"},
		{kit.ErrMessageTooLong, 400, "InvalidBodyError", "the message is too long"},
		{kit.ErrInvalidPeer, 400, "InvalidPeerError", ""},
		{kit.ErrPeerNotFound, 404, "NotFoundError", "no such peer"},
		{kit.ErrPeerExists, 409, "PeerExistsError", "this peer is added already"},
		{kit.ErrPeerUnreachable, 502, "PeerUnreachableError", ""},
		{kit.ErrWithdrawalNotFound, 404, "NotFoundError", "no such withdrawal"},
		{kit.ErrWithdrawalFinal, 409, "WithdrawalFinalError", ""},
		{kit.ErrInvalidStatus, 400, "InvalidStatusError", ""},
		{kit.ErrSettlementNotFound, 404, "NotFoundError", "no such settlement"},
		{kit.ErrInvalidSettlement, 400, "InvalidSettlementError", ""},
		{kit.ErrSettlementMethodNotFound, 404, "NotFoundError", "no such settlement method"},
		{kit.ErrInvalidSettlementMethod, 400, "InvalidSettlementMethodError", ""},
	} {
		if errors.Is(err, c.err) {
			msg := c.msg
			if msg == "" {
				msg = userMessage(err)
			}
			return &errAPI{status: c.status, id: c.id, msg: msg}
		}
	}
	return nil
}

// fail answers err: an API error as it is, a kit refusal mapped, anything
// else logged and answered as a generic 500.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := kitError(err)
	if e == nil {
		a.s.internal(w, r, err)
		return
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ilpkit"`)
	}
	writeError(w, e.status, e.id, e.msg)
}

// handle registers h for method and path (a ServeMux pattern without the
// method) and remembers the pair, so that another method on the same path
// gets a JSON 405.
func (a *api) handle(method, path string, h func(w http.ResponseWriter, r *http.Request) error) {
	a.mu.Lock()
	a.methods[path] = append(a.methods[path], method)
	a.mu.Unlock()
	a.s.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// methodFallbacks answers the registered paths with a JSON 405 for the
// methods they do not have.
func (a *api) methodFallbacks() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for path, ms := range a.methods {
		allow := append([]string(nil), ms...)
		for _, m := range ms {
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
		sort.Strings(allow)
		hdr := strings.Join(allow, ", ")
		h := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", hdr)
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedError", "this endpoint takes "+hdr)
		}
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			if !slices.Contains(ms, m) {
				a.s.mux.HandleFunc(m+" "+path, h)
			}
		}
	}
}

// decode reads a JSON body of at most limit bytes into v: one JSON value,
// no unknown fields.
//
// The body must be declared application/json: a form of another site
// cannot send that without the browser asking first (CORS), which the kit
// never allows, so no site can make a browser post JSON to the kit, not
// even to the endpoints that need no session (login, register, reset).
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return apiErr(http.StatusUnsupportedMediaType, "UnsupportedMediaTypeError", "the body must be JSON, with Content-Type: application/json")
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return bodyError(err)
		}
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "the body must be a single JSON value")
	}
	return nil
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apiErr(http.StatusRequestEntityTooLarge, "BodyTooLargeError", fmt.Sprintf("the body is over %d bytes", tooBig.Limit))
	}
	var e *errAPI
	if errors.As(err, &e) {
		return e
	}
	msg := "the body is not valid JSON for this endpoint"
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		msg = "the body is empty"
	case errors.As(err, &se):
		msg = "the body is not valid JSON"
	case errors.As(err, &te) && te.Field != "":
		msg = "the field " + te.Field + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		msg = "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return apiErr(http.StatusBadRequest, "InvalidBodyError", msg)
}

// Amount is an amount of base units in JSON: a string of decimal digits,
// at most 2^63-1. Numbers, signs, fractions and exponents are refused, so
// that no amount ever passes through a float.
type Amount uint64

// UnmarshalJSON reads "123".
func (a *Amount) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return apiErr(http.StatusBadRequest, "InvalidAmountError", "amounts are strings of decimal digits of base units, such as \"1000\"")
	}
	v, err := parseAmount(s)
	if err != nil {
		return err
	}
	*a = Amount(v)
	return nil
}

// MarshalJSON writes "123".
func (a Amount) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(a), 10) + `"`), nil
}

func parseAmount(s string) (uint64, error) {
	if s == "" || len(s) > 19 || strings.Trim(s, "0123456789") != "" {
		return 0, apiErr(http.StatusBadRequest, "InvalidAmountError", "amounts are strings of decimal digits of base units, at most 9223372036854775807")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > math.MaxInt64 {
		return 0, apiErr(http.StatusBadRequest, "InvalidAmountError", "amounts are strings of decimal digits of base units, at most 9223372036854775807")
	}
	return v, nil
}

// Limit is a signed amount of base units in JSON ("-100"), or null.
type Limit struct {
	V   int64
	Set bool
}

// UnmarshalJSON reads "-100" or null.
func (l *Limit) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*l = Limit{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return apiErr(http.StatusBadRequest, "InvalidAmountError", "limits are strings of decimal digits of base units (a minimum may be negative) or null")
	}
	neg := strings.HasPrefix(s, "-")
	v, err := parseAmount(strings.TrimPrefix(s, "-"))
	if err != nil {
		return err
	}
	l.V, l.Set = int64(v), true
	if neg {
		l.V = -l.V
	}
	return nil
}

func str(v int64) string { return strconv.FormatInt(v, 10) }

// bound is a limit in JSON: its decimal string, or nil for unlimited.
func bound(b ledger.Bound) *string {
	v, ok := b.Value()
	if !ok {
		return nil
	}
	s := v.String()
	return &s
}

// routes registers the REST API. Auth: "public" needs nothing, "user" a
// session cookie (with X-CSRF-Token on writes), HTTP Basic or a bearer
// token, "admin" the same as the admin.
func (a *api) routes() {
	// Sessions.
	a.handle("POST", "/api/auth/login", a.login)             // public
	a.handle("GET", "/api/auth/load", a.authed(a.load))      // user
	a.handle("POST", "/api/auth/logout", a.authed(a.logout)) // user
	a.handle("POST", "/api/auth/reset", a.reset)             // public, with the admin's code
	// Users.
	a.handle("GET", "/api/users", a.admin(a.listUsers))
	a.handle("POST", "/api/users/{username}", a.register)                           // public
	a.handle("GET", "/api/users/{username}", a.authed(a.getUser))                   // self or admin
	a.handle("PUT", "/api/users/{username}", a.authed(a.updateUser))                // self or admin
	a.handle("PUT", "/api/users/{username}/limits", a.admin(a.setLimits))           // admin
	a.handle("POST", "/api/users/{username}/reset-link", a.admin(a.resetLink))      // admin
	a.handle("POST", "/api/users/{username}/profilepic", a.authed(a.uploadPicture)) // self or admin
	a.handle("GET", "/api/users/{username}/profilepic", a.picture)                  // public
	// Tokens of the caller.
	a.handle("GET", "/api/tokens", a.authed(a.listTokens))
	a.handle("POST", "/api/tokens", a.authed(a.createToken))
	a.handle("DELETE", "/api/tokens/{id}", a.authed(a.deleteToken))
	// Payments of the caller.
	a.handle("POST", "/api/payments/quote", a.authed(a.quote))
	a.handle("GET", "/api/payments/curve", a.authed(a.curve))
	a.handle("PUT", "/api/payments/{id}", a.authed(a.pay))
	a.handle("GET", "/api/payments", a.authed(a.history))
	a.handle("GET", "/api/payments/stats", a.authed(a.stats))
	a.handle("GET", "/api/parse/destination", a.authed(a.parseDestination))
	// The kit's books (admin).
	a.handle("GET", "/api/admin/ledger", a.admin(a.ledgerBooks))
	a.handle("GET", "/api/admin/limits", a.admin(a.getDefaultLimits))
	a.handle("PUT", "/api/admin/limits", a.admin(a.setDefaultLimits))
	// Peers (admin).
	a.handle("GET", "/api/peers", a.admin(a.listPeers))
	a.handle("POST", "/api/peers", a.admin(a.addPeer))
	a.handle("PUT", "/api/peers/{id}", a.admin(a.updatePeer))
	a.handle("DELETE", "/api/peers/{id}", a.admin(a.deletePeer))
	a.handle("GET", "/api/peers/{id}/settlement_methods", a.admin(a.peerSettlementMethods))
	// Invites.
	a.handle("GET", "/api/invites", a.admin(a.listInvites))
	a.handle("POST", "/api/invites", a.admin(a.createInvite))
	a.handle("GET", "/api/invites/{code}", a.getInvite) // public
	a.handle("DELETE", "/api/invites/{code}", a.admin(a.deleteInvite))
	// Withdrawals: a user asks, the admin processes.
	a.handle("POST", "/api/withdrawals", a.authed(a.withdraw))
	a.handle("GET", "/api/withdrawals", a.authed(a.listWithdrawals)) // admin: all; a user: own
	a.handle("PUT", "/api/withdrawals/{id}", a.admin(a.setWithdrawalStatus))
	// Settlements (admin; a user may read one that credited them).
	a.handle("POST", "/api/settlements/user/{username}", a.admin(a.settleUser))
	a.handle("POST", "/api/settlements/peer/{peerId}", a.admin(a.settlePeer))
	a.handle("GET", "/api/settlements", a.admin(a.listSettlements))
	a.handle("GET", "/api/settlements/{id}", a.authed(a.getSettlement)) // admin or the user credited
	// Settlement methods.
	a.handle("GET", "/api/settlement_methods", a.listSettlementMethods) // public: enabled ones; ?all=true: admin
	a.handle("POST", "/api/settlement_methods", a.admin(a.createSettlementMethod))
	a.handle("PUT", "/api/settlement_methods/{id}", a.admin(a.updateSettlementMethod))
	a.handle("DELETE", "/api/settlement_methods/{id}", a.admin(a.deleteSettlementMethod))
	// Live updates.
	a.handle("GET", "/api/events", a.authed(a.events))
	a.methodFallbacks()
}
