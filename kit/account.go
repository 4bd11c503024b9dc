package kit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
)

// Errors of account administration.
var (
	ErrInvalidProfile = errors.New("kit: invalid profile")
	ErrEmailTaken     = errors.New("kit: email taken")
	ErrInvalidLimits  = errors.New("kit: invalid limits")
	ErrInvalidCode    = errors.New("kit: invalid or expired code")
)

// ResetCodeLifetime is how long a password reset code issued by the admin
// stays valid.
const ResetCodeLifetime = 24 * time.Hour

// resetKey is the kit_settings name of a reset code: only its hash is
// kept.
func resetKey(code string) string { return "reset:" + tokenHash(code) }

// ProfileUpdate changes a user's name or email; nil fields stay.
type ProfileUpdate struct {
	Name  *string
	Email *string // "" removes it
}

// UpdateProfile changes a user's name or email.
func (k *Kit) UpdateProfile(ctx context.Context, userID int64, up ProfileUpdate) (store.User, error) {
	if up.Name != nil && len(*up.Name) > 200 {
		return store.User{}, fmt.Errorf("%w: a name has at most 200 characters", ErrInvalidProfile)
	}
	if up.Email != nil {
		e := strings.TrimSpace(*up.Email)
		if len(e) > 254 || (e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \t\r\n<>"))) {
			return store.User{}, fmt.Errorf("%w: not an email address", ErrInvalidProfile)
		}
		up.Email = &e
	}
	u, err := k.st.UpdateUser(ctx, userID, store.UserUpdate{Name: up.Name, Email: up.Email})
	switch {
	case errors.Is(err, store.ErrConflict):
		return store.User{}, ErrEmailTaken
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, ErrUserNotFound
	case err != nil:
		return store.User{}, fmt.Errorf("kit: %w", err)
	}
	return u, nil
}

// SetUserLimits sets a user's trustline limits in base units: nil for the
// kit's default (minimum 0, maximum unlimited). They apply at once to this
// process's ledger and are kept in the user's row.
func (k *Kit) SetUserLimits(ctx context.Context, username string, min, max *int64) (store.User, error) {
	u, err := k.st.UserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrUserNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("kit: %w", err)
	}
	next := u
	next.MinBalance, next.MaxBalance = min, max
	l := *k.limitsOf(next)
	lo, okLo := l.Minimum.Value()
	hi, okHi := l.Maximum.Value()
	if okLo && okHi && lo.Cmp(hi) > 0 {
		return store.User{}, fmt.Errorf("%w: the minimum %s is above the maximum %s", ErrInvalidLimits, lo, hi)
	}
	u, err = k.st.UpdateUser(ctx, u.ID, store.UserUpdate{ClearLimits: true, MinBalance: min, MaxBalance: max})
	if err != nil {
		return store.User{}, fmt.Errorf("kit: %w", err)
	}
	if err := k.server.SetLimits(ctx, username, l); err != nil {
		return store.User{}, fmt.Errorf("kit: limits of %s: %w", username, err)
	}
	k.publish(topicUser, username)
	return u, nil
}

// IssueResetCode makes a one-time code with which a user sets a new
// password (the admin's reset link). The kit keeps only its hash.
func (k *Kit) IssueResetCode(ctx context.Context, username string) (string, time.Time, error) {
	u, err := k.st.UserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return "", time.Time{}, ErrUserNotFound
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("kit: %w", err)
	}
	code, err := k.randomToken(24)
	if err != nil {
		return "", time.Time{}, err
	}
	exp := k.clock.Now().Add(ResetCodeLifetime)
	if err := k.st.PutSetting(ctx, resetKey(code), strconv.FormatInt(u.ID, 10)+":"+strconv.FormatInt(exp.UnixMilli(), 10)); err != nil {
		return "", time.Time{}, fmt.Errorf("kit: %w", err)
	}
	return code, exp, nil
}

// ResetPassword sets a user's password with a code from IssueResetCode,
// which it uses up, and ends the user's sessions.
func (k *Kit) ResetPassword(ctx context.Context, username, code, password string) error {
	if code == "" || len(code) > 100 {
		return ErrInvalidCode
	}
	if err := validPassword(password); err != nil {
		return err
	}
	u, err := k.st.UserByName(ctx, strings.ToLower(username))
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	v, err := k.st.Setting(ctx, resetKey(code))
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	id, exp, ok := strings.Cut(v, ":")
	ms, _ := strconv.ParseInt(exp, 10, 64)
	if !ok || id != strconv.FormatInt(u.ID, 10) {
		return ErrInvalidCode
	}
	if !k.clock.Now().Before(time.UnixMilli(ms)) {
		_, _ = k.st.TakeSetting(ctx, resetKey(code))
		return ErrInvalidCode
	}
	// Use the code up first: of two resets at once, one wins.
	if _, err := k.st.TakeSetting(ctx, resetKey(code)); errors.Is(err, store.ErrNotFound) {
		return ErrInvalidCode
	} else if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	return k.SetPassword(ctx, u.ID, password)
}

// CreateInvite makes an invite code worth amount base units, which the
// issuer pays to the user who registers with it.
func (k *Kit) CreateInvite(ctx context.Context, amount int64) (store.Invite, error) {
	if amount < 0 {
		return store.Invite{}, fmt.Errorf("%w: an invite amount is not negative", ErrInvalidAmount)
	}
	in, err := k.st.CreateInvite(ctx, newID(), amount)
	if err != nil {
		return store.Invite{}, fmt.Errorf("kit: %w", err)
	}
	return in, nil
}

// Destination describes a resolved destination for the UI before a quote.
type Destination struct {
	Identifier    string
	Local         bool
	ILPAddress    string
	Name          string
	ImageURL      string
	CurrencyCode  string
	CurrencyScale int
}

// ParseDestination resolves a destination as Quote does (a user of this
// kit, user@host or an SPSP URL) and says who and what it is.
func (k *Kit) ParseDestination(ctx context.Context, dest string) (Destination, error) {
	r, err := k.resolve(ctx, dest)
	if err != nil {
		return Destination{}, err
	}
	if r.local != "" {
		u, err := k.st.UserByName(ctx, r.local)
		if err != nil {
			return Destination{}, fmt.Errorf("%w: %s", ErrReceiverNotFound, r.local)
		}
		code, scale := k.Currency()
		return Destination{
			Identifier: r.identifier, Local: true, ILPAddress: k.prefix + u.Username, Name: u.Name,
			ImageURL: k.APIBase() + "/users/" + u.Username + "/profilepic", CurrencyCode: code, CurrencyScale: scale,
		}, nil
	}
	id := r.spsp.ReceiverInfo.Identifier
	if id == "" {
		id = r.identifier
	}
	return Destination{
		Identifier: id, ILPAddress: r.spsp.DestinationAccount, Name: r.spsp.ReceiverInfo.Name,
		ImageURL: r.spsp.ReceiverInfo.ImageURL, CurrencyCode: r.spsp.LedgerInfo.CurrencyCode,
		CurrencyScale: r.spsp.LedgerInfo.CurrencyScale,
	}, nil
}
