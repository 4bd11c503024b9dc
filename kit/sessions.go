package kit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
)

// SessionLifetime is how long a browser session lasts (2.x: 30 days).
const SessionLifetime = 30 * 24 * time.Hour

// ErrNoSession is a session token the kit does not know, or that expired.
var ErrNoSession = errors.New("kit: no such session")

// Session is a signed-in session as its holder sees it: Token goes in the
// cookie (the kit keeps only its hash), CSRF must accompany every
// cookie-authenticated write.
type Session struct {
	Token     string
	CSRF      string
	ExpiresAt time.Time
}

// Login checks a user name and password and starts a session.
func (k *Kit) Login(ctx context.Context, username, password string) (store.User, Session, error) {
	u, err := k.Authenticate(ctx, username, password)
	if err != nil {
		return store.User{}, Session{}, err
	}
	ss, err := k.NewSession(ctx, u.ID)
	if err != nil {
		return store.User{}, Session{}, err
	}
	return u, ss, nil
}

// NewSession starts a session for a user whose identity the caller has
// checked (a login, or a password change that ended the old sessions).
func (k *Kit) NewSession(ctx context.Context, userID int64) (Session, error) {
	tok, err := k.randomToken(32)
	if err != nil {
		return Session{}, err
	}
	csrf, err := k.randomToken(32)
	if err != nil {
		return Session{}, err
	}
	now := k.clock.Now()
	ss := Session{Token: tok, CSRF: csrf, ExpiresAt: now.Add(SessionLifetime)}
	err = k.st.CreateSession(ctx, store.Session{TokenHash: tokenHash(tok), UserID: userID, CSRF: csrf, CreatedAt: now, ExpiresAt: ss.ExpiresAt})
	if err != nil {
		return Session{}, fmt.Errorf("kit: %w", err)
	}
	return ss, nil
}

// SessionUser returns the user and the stored session of a session token.
func (k *Kit) SessionUser(ctx context.Context, token string) (store.User, store.Session, error) {
	if token == "" || len(token) > 200 {
		return store.User{}, store.Session{}, ErrNoSession
	}
	ss, err := k.st.Session(ctx, tokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, store.Session{}, ErrNoSession
	}
	if err != nil {
		return store.User{}, store.Session{}, fmt.Errorf("kit: %w", err)
	}
	u, err := k.st.UserByID(ctx, ss.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, store.Session{}, ErrNoSession
	}
	if err != nil {
		return store.User{}, store.Session{}, fmt.Errorf("kit: %w", err)
	}
	if u.Disabled {
		return store.User{}, store.Session{}, ErrDisabled
	}
	return u, ss, nil
}

// Logout ends the session of a token; an unknown token is no error.
func (k *Kit) Logout(ctx context.Context, token string) error {
	if err := k.st.DeleteSession(ctx, tokenHash(token)); err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	return nil
}

// SessionHash is what the kit stores of a session token, to name the
// session to keep in DeleteUserSessions.
func SessionHash(token string) string { return tokenHash(token) }

// randomToken is n random bytes in base64url.
func (k *Kit) randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(k.random, b); err != nil {
		return "", fmt.Errorf("kit: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Clock is the kit's clock, which its HTTP handler shares.
func (k *Kit) Clock() ledger.Clock { return k.clock }
