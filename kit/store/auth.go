package store

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"time"
)

// Session is a signed-in browser session. Only a hash of its token is
// stored, so a leaked database opens no session.
type Session struct {
	TokenHash string
	UserID    int64
	CSRF      string // the token a cookie-authenticated write must echo
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, ss Session) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		ss.TokenHash, ss.UserID, ss.CSRF, ss.CreatedAt.UnixMilli(), ss.ExpiresAt.UnixMilli())
	if isUnique(err) {
		return fmt.Errorf("%w: session", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// Session returns the unexpired session with tokenHash, or ErrNotFound.
func (s *Store) Session(ctx context.Context, tokenHash string) (Session, error) {
	ss := Session{TokenHash: tokenHash}
	var created, expires int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT user_id, csrf, created_at, expires_at FROM kit_sessions WHERE token_hash = ? AND expires_at > ?`),
		tokenHash, s.millis()).Scan(&ss.UserID, &ss.CSRF, &created, &expires)
	if err := notFound(err, "session"); err != nil {
		return Session{}, err
	}
	ss.CreatedAt, ss.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return ss, nil
}

// DeleteSession ends a session (signing out); ending an unknown one does
// nothing.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_sessions WHERE token_hash = ?`), tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (after a password
// change), except keep ("" for none).
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_sessions WHERE user_id = ? AND token_hash <> ?`), userID, keep); err != nil {
		return fmt.Errorf("store: delete sessions: %w", err)
	}
	return nil
}

// PruneSessions deletes the expired sessions and returns how many.
func (s *Store) PruneSessions(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_sessions WHERE expires_at <= ?`), s.millis())
	if err != nil {
		return 0, fmt.Errorf("store: prune sessions: %w", err)
	}
	return res.RowsAffected()
}

// Token is a bearer token of a user (for the API or the trustline
// client). Only its hash is stored.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// CreateToken stores a token and returns it with its id.
func (s *Store) CreateToken(ctx context.Context, t Token) (Token, error) {
	now := s.millis()
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO kit_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
		t.UserID, t.Name, t.TokenHash, now).Scan(&t.ID)
	if isUnique(err) {
		return Token{}, fmt.Errorf("%w: token", ErrConflict)
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: create token: %w", err)
	}
	t.CreatedAt = time.UnixMilli(now).UTC()
	return t, nil
}

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created int64
	var used, revoked stdsql.NullInt64
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, &created, &used, &revoked); err != nil {
		return Token{}, err
	}
	t.CreatedAt = time.UnixMilli(created).UTC()
	if used.Valid {
		v := time.UnixMilli(used.Int64).UTC()
		t.LastUsedAt = &v
	}
	if revoked.Valid {
		v := time.UnixMilli(revoked.Int64).UTC()
		t.RevokedAt = &v
	}
	return t, nil
}

const tokenColumns = `id, user_id, name, token_hash, created_at, last_used_at, revoked_at`

// TokenByHash returns the unrevoked token with hash, or ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM kit_tokens WHERE token_hash = ? AND revoked_at IS NULL`), hash))
	return t, notFound(err, "token")
}

// Tokens lists a user's tokens, newest first.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+tokenColumns+` FROM kit_tokens WHERE user_id = ? ORDER BY id DESC`), userID)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token of a user; ErrNotFound if the user has no
// such unrevoked token.
func (s *Store) RevokeToken(ctx context.Context, userID, id int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE kit_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`), s.millis(), id, userID)
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: token %d", ErrNotFound, id)
	}
	return nil
}

// TouchToken records that a token was used now, unless its last use was
// recorded less than every ago: of many uses within every, only the first
// writes. It tells whether it wrote. A last use in the future (a clock set
// back) is overwritten.
func (s *Store) TouchToken(ctx context.Context, id int64, every time.Duration) (bool, error) {
	now := s.millis()
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE kit_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ? OR last_used_at > ?)`),
		now, id, now-every.Milliseconds(), now)
	if err != nil {
		return false, fmt.Errorf("store: touch token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: touch token: %w", err)
	}
	return n > 0, nil
}

// Invite is an invite code worth Amount base units, claimable once.
type Invite struct {
	Code      string
	Amount    int64
	CreatedAt time.Time
	ClaimedBy *int64
	ClaimedAt *time.Time
}

// CreateInvite stores an invite.
func (s *Store) CreateInvite(ctx context.Context, code string, amount int64) (Invite, error) {
	now := s.millis()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_invites (code, amount, created_at) VALUES (?, ?, ?)`), code, amount, now)
	if isUnique(err) {
		return Invite{}, fmt.Errorf("%w: invite", ErrConflict)
	}
	if err != nil {
		return Invite{}, fmt.Errorf("store: create invite: %w", err)
	}
	return Invite{Code: code, Amount: amount, CreatedAt: time.UnixMilli(now).UTC()}, nil
}

func scanInvite(row interface{ Scan(...any) error }) (Invite, error) {
	var in Invite
	var created int64
	var by, at stdsql.NullInt64
	if err := row.Scan(&in.Code, &in.Amount, &created, &by, &at); err != nil {
		return Invite{}, err
	}
	in.CreatedAt = time.UnixMilli(created).UTC()
	if by.Valid {
		in.ClaimedBy = &by.Int64
	}
	if at.Valid {
		v := time.UnixMilli(at.Int64).UTC()
		in.ClaimedAt = &v
	}
	return in, nil
}

const inviteColumns = `code, amount, created_at, claimed_by, claimed_at`

// Invite returns an invite, or ErrNotFound.
func (s *Store) Invite(ctx context.Context, code string) (Invite, error) {
	in, err := scanInvite(s.db.QueryRowContext(ctx, s.q(`SELECT `+inviteColumns+` FROM kit_invites WHERE code = ?`), code))
	return in, notFound(err, "invite")
}

// Invites lists every invite, newest first.
func (s *Store) Invites(ctx context.Context) ([]Invite, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+inviteColumns+` FROM kit_invites ORDER BY created_at DESC, code`)
	if err != nil {
		return nil, fmt.Errorf("store: invites: %w", err)
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		in, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("store: invites: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// ClaimInvite marks an unclaimed invite claimed by a user, atomically: of
// two claims at once, one wins and the other gets ErrConflict. An unknown
// code is ErrNotFound.
func (s *Store) ClaimInvite(ctx context.Context, code string, userID int64) (Invite, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE kit_invites SET claimed_by = ?, claimed_at = ? WHERE code = ? AND claimed_at IS NULL`), userID, s.millis(), code)
	if err != nil {
		return Invite{}, fmt.Errorf("store: claim invite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Invite(ctx, code); err != nil {
			return Invite{}, err
		}
		return Invite{}, fmt.Errorf("%w: invite already claimed", ErrConflict)
	}
	return s.Invite(ctx, code)
}

// DeleteInvite deletes an invite; ErrNotFound if there is none.
func (s *Store) DeleteInvite(ctx context.Context, code string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_invites WHERE code = ?`), code)
	if err != nil {
		return fmt.Errorf("store: delete invite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: invite", ErrNotFound)
	}
	return nil
}
