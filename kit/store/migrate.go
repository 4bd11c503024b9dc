package store

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"strings"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
)

// migration is one step of the schema. Its SQL is written once for both
// dialects, with {{id}} for an auto-numbered primary key, {{blob}} for
// bytes; statements are separated by ";\n".
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are applied in order, each in its own transaction; applied
// versions are recorded in kit_schema. Never edit a released migration:
// add one.
var migrations = []migration{
	{1, "users, sessions, tokens, invites, settings", `
CREATE TABLE kit_settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE kit_users (
	id            {{id}},
	username      TEXT NOT NULL UNIQUE,
	email         TEXT,
	name          TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
	disabled      BOOLEAN NOT NULL DEFAULT FALSE,
	min_balance   BIGINT,
	max_balance   BIGINT,
	picture       {{blob}},
	picture_type  TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX kit_users_email ON kit_users (email) WHERE email IS NOT NULL;
CREATE TABLE kit_sessions (
	token_hash TEXT PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES kit_users (id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX kit_sessions_user ON kit_sessions (user_id);
CREATE TABLE kit_tokens (
	id           {{id}},
	user_id      BIGINT NOT NULL REFERENCES kit_users (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT,
	revoked_at   BIGINT
);
CREATE INDEX kit_tokens_user ON kit_tokens (user_id);
CREATE TABLE kit_invites (
	code       TEXT PRIMARY KEY,
	amount     BIGINT NOT NULL CHECK (amount >= 0),
	created_at BIGINT NOT NULL,
	claimed_by BIGINT REFERENCES kit_users (id) ON DELETE SET NULL,
	claimed_at BIGINT
)`},
	{2, "payments and quotes", `
CREATE TABLE kit_payments (
	id                  TEXT PRIMARY KEY,
	user_id             BIGINT NOT NULL REFERENCES kit_users (id) ON DELETE CASCADE,
	direction           TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
	transfer_id         TEXT NOT NULL,
	counterparty        TEXT NOT NULL,
	counterparty_name   TEXT NOT NULL DEFAULT '',
	counterparty_image  TEXT NOT NULL DEFAULT '',
	source_amount       BIGINT NOT NULL CHECK (source_amount >= 0),
	destination_amount  BIGINT NOT NULL CHECK (destination_amount >= 0),
	destination_code    TEXT NOT NULL DEFAULT '',
	destination_scale   INTEGER NOT NULL DEFAULT 0,
	message             TEXT NOT NULL DEFAULT '',
	state               TEXT NOT NULL CHECK (state IN ('pending', 'success', 'failed')),
	error               TEXT NOT NULL DEFAULT '',
	request_hash        TEXT NOT NULL DEFAULT '',
	created_at          BIGINT NOT NULL,
	completed_at        BIGINT
);
CREATE UNIQUE INDEX kit_payments_transfer ON kit_payments (direction, transfer_id);
CREATE INDEX kit_payments_user ON kit_payments (user_id, created_at DESC, id DESC);
CREATE INDEX kit_payments_pending ON kit_payments (state) WHERE state = 'pending';
CREATE TABLE kit_quotes (
	id                  TEXT PRIMARY KEY,
	user_id             BIGINT NOT NULL REFERENCES kit_users (id) ON DELETE CASCADE,
	body                TEXT NOT NULL,
	created_at          BIGINT NOT NULL,
	expires_at          BIGINT NOT NULL
);
CREATE INDEX kit_quotes_expiry ON kit_quotes (expires_at)`},
	{3, "peers", `
CREATE TABLE kit_peers (
	id             TEXT PRIMARY KEY,
	hostname       TEXT NOT NULL UNIQUE,
	public_key     TEXT NOT NULL,
	rpc_uri        TEXT NOT NULL,
	prefix         TEXT NOT NULL UNIQUE,
	currency_code  TEXT NOT NULL,
	currency_scale INTEGER NOT NULL,
	max_balance    BIGINT NOT NULL CHECK (max_balance >= 0),
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL
)`},
	{4, "withdrawals, settlements, settlement methods", `
CREATE TABLE kit_withdrawals (
	id          TEXT PRIMARY KEY,
	user_id     BIGINT NOT NULL REFERENCES kit_users (id) ON DELETE CASCADE,
	amount      BIGINT NOT NULL CHECK (amount > 0),
	status      TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'rejected')),
	transfer_id TEXT NOT NULL UNIQUE,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX kit_withdrawals_user ON kit_withdrawals (user_id, created_at DESC);
CREATE INDEX kit_withdrawals_created ON kit_withdrawals (created_at DESC, id DESC);
CREATE TABLE kit_settlement_methods (
	id          TEXT PRIMARY KEY,
	type        TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	uri         TEXT NOT NULL DEFAULT '',
	logo        TEXT NOT NULL DEFAULT '',
	enabled     BOOLEAN NOT NULL DEFAULT FALSE,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE TABLE kit_settlements (
	id          TEXT PRIMARY KEY,
	user_id     BIGINT REFERENCES kit_users (id) ON DELETE SET NULL,
	peer_id     TEXT,
	peer_host   TEXT NOT NULL DEFAULT '',
	amount      BIGINT NOT NULL CHECK (amount > 0),
	currency    TEXT NOT NULL,
	method      TEXT NOT NULL DEFAULT '',
	method_id   TEXT,
	note        TEXT NOT NULL DEFAULT '',
	transfer_id TEXT,
	created_at  BIGINT NOT NULL,
	CHECK ((user_id IS NULL) OR (peer_id IS NULL))
);
CREATE INDEX kit_settlements_created ON kit_settlements (created_at DESC, id DESC)`},
	{5, "rate limits", `
CREATE TABLE kit_rate_limits (
	key        TEXT PRIMARY KEY,
	n          INTEGER NOT NULL,
	last_at    BIGINT NOT NULL,
	until_at   BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX kit_rate_limits_expiry ON kit_rate_limits (expires_at)`},
}

func (s *Store) render(sql string) string {
	id, blob := "INTEGER PRIMARY KEY", "BLOB"
	if s.dialect == sqlbackend.Postgres {
		id, blob = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BYTEA"
	}
	return strings.NewReplacer("{{id}}", id, "{{blob}}", blob).Replace(sql)
}

// migrationLock is the PostgreSQL advisory lock key of the migrations.
const migrationLock = 0x696c706b69740001 // "ilpkit" 1

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS kit_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		// Two PostgreSQL processes creating it at once: one fails, the
		// table exists afterwards.
		if _, err2 := s.db.ExecContext(ctx, `SELECT 1 FROM kit_schema LIMIT 1`); err2 != nil {
			return fmt.Errorf("store: schema table: %w", err)
		}
	}
	for _, m := range migrations {
		err := s.tx(ctx, func(tx *stdsql.Tx) error {
			if s.dialect == sqlbackend.Postgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
					return fmt.Errorf("store: migration lock: %w", err)
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM kit_schema WHERE version = ?`), m.version).Scan(&n); err != nil {
				return fmt.Errorf("store: migration %d: %w", m.version, err)
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range strings.Split(s.render(m.sql), ";\n") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
				}
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO kit_schema (version, name, applied_at) VALUES (?, ?, ?)`), m.version, m.name, s.millis())
			if err != nil {
				return fmt.Errorf("store: migration %d: %w", m.version, err)
			}
			s.log.Info("migrated", "version", m.version, "name", m.name)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
