// Package store owns the kit's own tables: settings, users, sessions,
// tokens and invites (payments and peers come with their features), in one
// schema for SQLite and PostgreSQL created by migrations embedded in the
// binary. Amounts are integers in base units; times are Unix milliseconds.
// The tables are named kit_*, never with the 2.x names ("Users",
// "Payments", ...), which a later import reads; the plugins' trustline state
// stays in the 2.x plugin_store_ tables of backend/sql.
package store

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
)

// Errors of this package.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is a unique key already taken (a user name, an email).
	ErrConflict = errors.New("store: already exists")
)

// Store is the kit's database.
type Store struct {
	db      *stdsql.DB
	dialect sqlbackend.Dialect
	now     func() time.Time
	log     *slog.Logger
}

// Options configure Open.
type Options struct {
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: discard
}

// Open opens the database dsn names (as backend/sql.Open reads it) and
// brings its schema up to date. Several processes may open one PostgreSQL
// database at once: the migrations run under an advisory lock.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	db, dialect, err := sqlbackend.OpenPool(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{db: db, dialect: dialect, now: o.Now, log: o.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect tells which database this is.
func (s *Store) Dialect() sqlbackend.Dialect { return s.dialect }

// q rewrites the ? placeholders of a query for the dialect.
func (s *Store) q(query string) string {
	if s.dialect != sqlbackend.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (s *Store) millis() int64 { return s.now().UnixMilli() }

// tx runs fn in a transaction, committed when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*stdsql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// isUnique reports whether err is a unique constraint violation.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "SQLSTATE 23505")
}

// Setting returns the value of a kit setting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM kit_settings WHERE name = ?`), name).Scan(&v)
	if errors.Is(err, stdsql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return v, nil
}

// InitSetting stores value under name unless a value is there already, and
// returns the stored value: the first process to start chooses, every other
// one (and every restart) reads the same.
func (s *Store) InitSetting(ctx context.Context, name, value string) (string, error) {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), name, value)
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return s.Setting(ctx, name)
}

// PutSetting stores value under name.
func (s *Store) PutSetting(ctx context.Context, name, value string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, value)
	if err != nil {
		return fmt.Errorf("store: setting %s: %w", name, err)
	}
	return nil
}
