package kit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
)

// ErrUnknownToken is a bearer token the kit did not issue, or revoked.
var ErrUnknownToken = errors.New("kit: unknown token")

// tokenHash is what the database keeps of a token: tokens are 32 random
// bytes, so one SHA-256 is as good as a password hash here.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateToken issues a new bearer token for a user (for the trustline
// client or the API) and returns it: the kit keeps only its hash, so this
// is the only time it is seen.
func (k *Kit) CreateToken(ctx context.Context, userID int64, name string) (string, store.Token, error) {
	if name == "" || len(name) > 100 {
		return "", store.Token{}, fmt.Errorf("%w: a token name has 1 to 100 characters", ErrInvalidUsername)
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(k.random, b); err != nil {
		return "", store.Token{}, fmt.Errorf("kit: token: %w", err)
	}
	tok := "ilpkit_" + base64.RawURLEncoding.EncodeToString(b)
	t, err := k.st.CreateToken(ctx, store.Token{UserID: userID, Name: name, TokenHash: tokenHash(tok)})
	if err != nil {
		return "", store.Token{}, fmt.Errorf("kit: %w", err)
	}
	return tok, t, nil
}

// TokenTouchInterval is how often, at most, the kit records that a token
// was used (its LastUsedAt): a token used on every request costs one write
// a minute, not one a request.
const TokenTouchInterval = time.Minute

// UserByToken returns the user a bearer token belongs to, and records that
// the token was used (at most once each TokenTouchInterval).
func (k *Kit) UserByToken(ctx context.Context, token string) (store.User, error) {
	t, err := k.st.TokenByHash(ctx, tokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrUnknownToken
	}
	if err != nil {
		return store.User{}, fmt.Errorf("kit: %w", err)
	}
	u, err := k.st.UserByID(ctx, t.UserID)
	if err != nil {
		return store.User{}, ErrUnknownToken
	}
	if u.Disabled {
		return store.User{}, ErrDisabled
	}
	k.touchToken(ctx, t)
	return u, nil
}

// touchToken records a use of t unless the use it last recorded is recent.
// The stored time was read with the token, so a recent one costs nothing;
// the store checks again, so that of uses at once only one writes. A
// failure is logged: the request goes on.
func (k *Kit) touchToken(ctx context.Context, t store.Token) {
	now := k.clock.Now()
	if last := t.LastUsedAt; last != nil && !last.After(now) && now.Sub(*last) < TokenTouchInterval {
		return
	}
	if _, err := k.st.TouchToken(ctx, t.ID, TokenTouchInterval); err != nil {
		k.log.Warn("recording a token's use", "token", t.ID, "err", err)
	}
}

// VerifyToken gives the trustline interface the account of a token (the
// user name), so that a user's own program can connect as that user.
func (k *Kit) VerifyToken(ctx context.Context, token string) (string, error) {
	u, err := k.UserByToken(ctx, token)
	if err != nil {
		return "", err
	}
	return u.Username, nil
}
