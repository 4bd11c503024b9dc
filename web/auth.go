package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "ilpkit_session"

// Rate limits of password checks: after freeUserFailures wrong passwords
// for a user name, or freeIPFailures from a client address (several people
// may share one), the key is locked out for one second, and each further
// failure doubles the lockout, up to maxLockout. A key forgets its
// failures after forgetAfter without one, and a user name after a right
// password.
const (
	freeUserFailures = 5
	freeIPFailures   = 20
	maxLockout       = time.Hour
	forgetAfter      = 24 * time.Hour
	maxStrikes       = 100000 // keys kept before old ones are dropped
)

// Registrations per client address: a token bucket that holds
// registerBurst registrations and gets one back each registerEvery (three
// an hour). An IPv6 client counts per /64, the least a host is given. Only
// registrations that succeed are counted.
const (
	registerBurst = 5
	registerEvery = 20 * time.Minute
	maxBuckets    = 100000 // keys kept before full buckets are dropped
)

// limits are the rate limits of a: the database's when the kit's database
// is shared by several processes, which then count together, else this
// process's own.
func (a *api) limits() rateLimits {
	if a.s.k.Shared() {
		return &storeLimits{st: a.s.k.Store(), clock: a.clock, log: a.s.log, mem: a.limiter}
	}
	return a.limiter
}

// registerKey is the key of r's client in the registration buckets: its
// address, or its /64 for IPv6.
func (a *api) registerKey(r *http.Request) string {
	ip := a.clientIP(r)
	if addr, err := netip.ParseAddr(ip); err == nil && addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return "reg:" + p.String()
		}
	}
	return "reg:" + ip
}

// limitRegistration takes a registration from the client's bucket: a 429
// with Retry-After when it is empty. The caller calls the returned
// function with the registration's outcome, which gives the registration
// back if it failed.
func (a *api) limitRegistration(w http.ResponseWriter, r *http.Request) (done func(error), err error) {
	key := a.registerKey(r)
	ok, d, refund := a.limits().take(r.Context(), key)
	if !ok {
		secs := int64(math.Ceil(d.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		return nil, apiErr(http.StatusTooManyRequests, "TooManyRequestsError", "too many registrations from this address: try again in "+strconv.FormatInt(secs, 10)+" seconds")
	}
	return func(err error) {
		if err != nil {
			refund(context.WithoutCancel(r.Context()))
		}
	}, nil
}

// clientIP is the address of r's client: the socket's peer, or what the
// trusted proxies in front of the kit say (clientAddr).
func (a *api) clientIP(r *http.Request) string { return clientAddr(r, a.s.opt.TrustedProxies) }

func userKey(name string) string            { return "u:" + strings.ToLower(name) }
func (a *api) ipKey(r *http.Request) string { return "ip:" + a.clientIP(r) }

// checkPassword runs check (a password check of user name) under the rate
// limits: refused with 429 while locked out; a wrong password
// (kit.ErrWrongCredentials or kit.ErrInvalidCode) counts against the name
// and the client address.
func (a *api) checkPassword(w http.ResponseWriter, r *http.Request, name string, check func() error) error {
	ctx := r.Context()
	l := a.limits()
	if d := l.wait(ctx, userKey(name), a.ipKey(r)); d > 0 {
		secs := int64(math.Ceil(d.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		return apiErr(http.StatusTooManyRequests, "TooManyRequestsError", "too many wrong passwords: try again in "+strconv.FormatInt(secs, 10)+" seconds")
	}
	err := check()
	// The outcome is counted even when the client has gone meanwhile.
	ctx = context.WithoutCancel(ctx)
	switch {
	case errors.Is(err, kit.ErrWrongCredentials), errors.Is(err, kit.ErrInvalidCode):
		l.fail(ctx, userKey(name), freeUserFailures)
		l.fail(ctx, a.ipKey(r), freeIPFailures)
	case err == nil:
		l.forget(ctx, userKey(name))
	}
	return err
}

// caller is who makes an authenticated request.
type caller struct {
	user store.User
	// via is "cookie", "basic" or "bearer".
	via string
	// session: the session of a cookie-authenticated request; token: its
	// cookie, or the bearer token.
	session store.Session
	token   string
}

func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// authenticate finds the caller of r: an Authorization header (Basic user
// name and password, or Bearer token), else the session cookie, whose
// writes must carry the session's CSRF token in X-CSRF-Token. No
// credentials: errUnauthorized.
func (a *api) authenticate(w http.ResponseWriter, r *http.Request) (*caller, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		switch strings.ToLower(scheme) {
		case "bearer":
			tok := strings.TrimSpace(rest)
			u, err := a.s.k.UserByToken(ctx, tok)
			if err != nil {
				return nil, err
			}
			return &caller{user: u, via: "bearer", token: tok}, nil
		case "basic":
			name, pw, ok := r.BasicAuth()
			if !ok {
				return nil, apiErr(http.StatusUnauthorized, "UnauthorizedError", "malformed Basic credentials")
			}
			var u store.User
			err := a.checkPassword(w, r, name, func() (err error) {
				u, err = a.s.k.Authenticate(ctx, name, pw)
				return err
			})
			if err != nil {
				return nil, err
			}
			return &caller{user: u, via: "basic"}, nil
		}
		return nil, apiErr(http.StatusUnauthorized, "UnauthorizedError", "the Authorization header takes Basic or Bearer")
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, errUnauthorized
	}
	u, ss, err := a.s.k.SessionUser(ctx, c.Value)
	if err != nil {
		if errors.Is(err, kit.ErrNoSession) {
			a.clearCookie(w)
		}
		return nil, err
	}
	if isWrite(r.Method) {
		got := r.Header.Get("X-CSRF-Token")
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ss.CSRF)) != 1 {
			return nil, errCSRF
		}
	}
	return &caller{user: u, via: "cookie", session: ss, token: c.Value}, nil
}

// authed wraps a handler that needs a signed-in caller.
func (a *api) authed(h func(w http.ResponseWriter, r *http.Request, c *caller) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := a.authenticate(w, r)
		if err != nil {
			return err
		}
		return h(w, r, c)
	}
}

// admin wraps a handler for the admin only.
func (a *api) admin(h func(w http.ResponseWriter, r *http.Request, c *caller) error) func(w http.ResponseWriter, r *http.Request) error {
	return a.authed(func(w http.ResponseWriter, r *http.Request, c *caller) error {
		if !c.user.IsAdmin {
			return errForbidden
		}
		return h(w, r, c)
	})
}

func (a *api) secure() bool { return strings.HasPrefix(a.s.k.PublicURL(), "https://") }

func (a *api) setCookie(w http.ResponseWriter, ss kit.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: ss.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: a.secure(), Expires: ss.ExpiresAt, MaxAge: int(kit.SessionLifetime / time.Second),
	})
}

func (a *api) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secure(), MaxAge: -1})
}

// sessionJSON answers a login and a load.
type sessionJSON struct {
	User      userJSON `json:"user"`
	CSRFToken string   `json:"csrfToken,omitempty"`
}

// login is POST /api/auth/login {username, password}: a session cookie,
// the user and the session's CSRF token.
func (a *api) login(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Username == "" || body.Password == "" || len(body.Username) > 100 || len(body.Password) > kit.MaxPasswordLen {
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "give a username and a password")
	}
	var u store.User
	var ss kit.Session
	err := a.checkPassword(w, r, body.Username, func() (err error) {
		u, ss, err = a.s.k.Login(r.Context(), body.Username, body.Password)
		return err
	})
	if err != nil {
		return err
	}
	a.setCookie(w, ss)
	uj, err := a.userView(r, u, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionJSON{User: uj, CSRFToken: ss.CSRF})
	return nil
}

// load is GET /api/auth/load: the caller, with balance (and the CSRF token
// of a cookie session, for a reloaded page).
func (a *api) load(w http.ResponseWriter, r *http.Request, c *caller) error {
	uj, err := a.userView(r, c.user, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionJSON{User: uj, CSRFToken: c.session.CSRF})
	return nil
}

// logout is POST /api/auth/logout: ends the cookie's session.
func (a *api) logout(w http.ResponseWriter, r *http.Request, c *caller) error {
	if c.via == "cookie" {
		if err := a.s.k.Logout(r.Context(), c.token); err != nil {
			return err
		}
		a.clearCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// reset is POST /api/auth/reset {username, code, password}: a new password
// with a code from the admin's reset link.
func (a *api) reset(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Username string `json:"username"`
		Code     string `json:"code"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Username == "" || body.Code == "" || len(body.Username) > 100 {
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "give a username, the code and a password")
	}
	err := a.checkPassword(w, r, body.Username, func() error {
		return a.s.k.ResetPassword(r.Context(), body.Username, body.Code, body.Password)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
