package store

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"
)

// User is a row of kit_users.
type User struct {
	ID           int64
	Username     string
	Email        string // "" when none
	Name         string
	PasswordHash string
	IsAdmin      bool
	Disabled     bool
	// MinBalance and MaxBalance override the kit's default limits when set.
	MinBalance, MaxBalance *int64
	HasPicture             bool
	CreatedAt, UpdatedAt   time.Time
}

const userColumns = `id, username, email, name, password_hash, is_admin, disabled, min_balance, max_balance, picture IS NOT NULL, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var email stdsql.NullString
	var min, max stdsql.NullInt64
	var created, updated int64
	err := row.Scan(&u.ID, &u.Username, &email, &u.Name, &u.PasswordHash, &u.IsAdmin, &u.Disabled, &min, &max, &u.HasPicture, &created, &updated)
	if err != nil {
		return User{}, err
	}
	u.Email = email.String
	if min.Valid {
		u.MinBalance = &min.Int64
	}
	if max.Valid {
		u.MaxBalance = &max.Int64
	}
	u.CreatedAt, u.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return u, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateUser inserts u (its ID and times are set) or fails with ErrConflict
// when the user name or email is taken.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	now := s.millis()
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO kit_users
		(username, email, name, password_hash, is_admin, disabled, min_balance, max_balance, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		u.Username, nullString(u.Email), u.Name, u.PasswordHash, u.IsAdmin, u.Disabled,
		nullInt(u.MinBalance), nullInt(u.MaxBalance), now, now).Scan(&u.ID)
	if isUnique(err) {
		return User{}, fmt.Errorf("%w: user %q or its email", ErrConflict, u.Username)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = time.UnixMilli(now).UTC(), time.UnixMilli(now).UTC()
	return u, nil
}

// UserByName returns the user called username, or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM kit_users WHERE username = ?`), username))
	return u, notFound(err, "user "+username)
}

// UserByID returns the user with id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM kit_users WHERE id = ?`), id))
	return u, notFound(err, fmt.Sprintf("user %d", id))
}

func notFound(err error, what string) error {
	if errors.Is(err, stdsql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// Users lists up to limit users with an id above after, by id (keyset
// pagination: pass the last id of a page to get the next).
func (s *Store) Users(ctx context.Context, after int64, limit int) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+userColumns+` FROM kit_users WHERE id > ? ORDER BY id LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}

// UserUpdate is a change of a user's profile; nil fields stay.
type UserUpdate struct {
	Email        *string // "" removes it
	Name         *string
	PasswordHash *string
	Disabled     *bool
	// Limits, with ClearLimits to go back to the kit's defaults.
	MinBalance, MaxBalance *int64
	ClearLimits            bool
}

// UpdateUser applies up to the user id and returns the user after it.
func (s *Store) UpdateUser(ctx context.Context, id int64, up UserUpdate) (User, error) {
	var out User
	err := s.tx(ctx, func(tx *stdsql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM kit_users WHERE id = ?`), id))
		if err := notFound(err, fmt.Sprintf("user %d", id)); err != nil {
			return err
		}
		if up.Email != nil {
			u.Email = *up.Email
		}
		if up.Name != nil {
			u.Name = *up.Name
		}
		if up.PasswordHash != nil {
			u.PasswordHash = *up.PasswordHash
		}
		if up.Disabled != nil {
			u.Disabled = *up.Disabled
		}
		if up.ClearLimits {
			u.MinBalance, u.MaxBalance = nil, nil
		}
		if up.MinBalance != nil {
			u.MinBalance = up.MinBalance
		}
		if up.MaxBalance != nil {
			u.MaxBalance = up.MaxBalance
		}
		now := s.millis()
		_, err = tx.ExecContext(ctx, s.q(`UPDATE kit_users SET email = ?, name = ?, password_hash = ?, disabled = ?,
			min_balance = ?, max_balance = ?, updated_at = ? WHERE id = ?`),
			nullString(u.Email), u.Name, u.PasswordHash, u.Disabled, nullInt(u.MinBalance), nullInt(u.MaxBalance), now, id)
		if isUnique(err) {
			return fmt.Errorf("%w: email %q", ErrConflict, u.Email)
		}
		if err != nil {
			return fmt.Errorf("store: update user %d: %w", id, err)
		}
		u.UpdatedAt = time.UnixMilli(now).UTC()
		out = u
		return nil
	})
	return out, err
}

// SetPicture stores a user's profile picture (nil removes it).
func (s *Store) SetPicture(ctx context.Context, id int64, contentType string, data []byte) error {
	var pic any
	if data != nil {
		pic = data
	} else {
		contentType = ""
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE kit_users SET picture = ?, picture_type = ?, updated_at = ? WHERE id = ?`), pic, contentType, s.millis(), id)
	if err != nil {
		return fmt.Errorf("store: picture of user %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: user %d", ErrNotFound, id)
	}
	return nil
}

// Picture returns a user's profile picture, or ErrNotFound.
func (s *Store) Picture(ctx context.Context, id int64) (contentType string, data []byte, err error) {
	err = s.db.QueryRowContext(ctx, s.q(`SELECT picture_type, picture FROM kit_users WHERE id = ? AND picture IS NOT NULL`), id).Scan(&contentType, &data)
	return contentType, data, notFound(err, fmt.Sprintf("picture of user %d", id))
}
