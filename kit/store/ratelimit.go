package store

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"
)

// RateLimit is the state of one key of the web's rate limits (failed
// passwords, registrations per address), kept in the database so that the
// processes sharing it count together. The store does not interpret it:
// the caller computes each new state from the old one (UpdateRateLimit),
// and PruneRateLimits deletes the keys whose Expires is past. The zero
// value is a key that has no row.
type RateLimit struct {
	N       int
	Last    time.Time
	Until   time.Time
	Expires time.Time // after it the state means nothing and may be deleted
}

// IsZero reports whether r is the state of a key without a row.
func (r RateLimit) IsZero() bool {
	return r.N == 0 && r.Last.IsZero() && r.Until.IsZero() && r.Expires.IsZero()
}

// ms and fromMS convert times to and from the columns, 0 being the zero
// time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// RateLimit returns the state of key (the zero RateLimit when it has
// none).
func (s *Store) RateLimit(ctx context.Context, key string) (RateLimit, error) {
	var r RateLimit
	var last, until, expires int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT n, last_at, until_at, expires_at FROM kit_rate_limits WHERE key = ?`), key).
		Scan(&r.N, &last, &until, &expires)
	if errors.Is(err, stdsql.ErrNoRows) {
		return RateLimit{}, nil
	}
	if err != nil {
		return RateLimit{}, fmt.Errorf("store: rate limit: %w", err)
	}
	r.Last, r.Until, r.Expires = fromMS(last), fromMS(until), fromMS(expires)
	return r, nil
}

// UpdateRateLimit replaces the state of key with fn's result, atomically:
// fn sees the state every update before it left, and no other update of
// key runs between its read and its write, in this process or any other
// sharing the database. fn is called once, within the transaction, and
// must do nothing but compute; a zero result deletes the key's row. It
// returns the new state.
//
// The key's row is created (zero) or locked by one upsert, which on
// PostgreSQL waits for a concurrent update of the key to end (and retries
// when that one deleted the row); SQLite has a single writer.
func (s *Store) UpdateRateLimit(ctx context.Context, key string, fn func(RateLimit) RateLimit) (RateLimit, error) {
	var out RateLimit
	err := s.tx(ctx, func(tx *stdsql.Tx) error {
		var old RateLimit
		var last, until, expires int64
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO kit_rate_limits (key, n, last_at, until_at, expires_at) VALUES (?, 0, 0, 0, 0)
ON CONFLICT (key) DO UPDATE SET n = kit_rate_limits.n
RETURNING n, last_at, until_at, expires_at`), key).Scan(&old.N, &last, &until, &expires)
		if err != nil {
			return fmt.Errorf("store: rate limit %s: %w", key, err)
		}
		old.Last, old.Until, old.Expires = fromMS(last), fromMS(until), fromMS(expires)
		out = fn(old)
		if out.IsZero() {
			_, err = tx.ExecContext(ctx, s.q(`DELETE FROM kit_rate_limits WHERE key = ?`), key)
		} else {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE kit_rate_limits SET n = ?, last_at = ?, until_at = ?, expires_at = ? WHERE key = ?`),
				out.N, ms(out.Last), ms(out.Until), ms(out.Expires), key)
		}
		if err != nil {
			return fmt.Errorf("store: rate limit %s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return RateLimit{}, err
	}
	return out, nil
}

// DeleteRateLimit deletes the state of key; deleting an unknown key does
// nothing.
func (s *Store) DeleteRateLimit(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_rate_limits WHERE key = ?`), key); err != nil {
		return fmt.Errorf("store: delete rate limit: %w", err)
	}
	return nil
}

// PruneRateLimits deletes the states that expired before now and returns
// how many.
func (s *Store) PruneRateLimits(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_rate_limits WHERE expires_at < ?`), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: prune rate limits: %w", err)
	}
	return res.RowsAffected()
}
