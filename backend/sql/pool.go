package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// OpenPool opens a general database/sql pool on the database dsn names (the
// forms Open takes), for tables other than plugin stores, such as the kit's
// own. SQLite is switched to WAL with synchronous=NORMAL, foreign keys on,
// the busy timeout of WithBusyTimeout (30 s by default), and transactions
// that take the write lock when they begin, so that two writers wait for
// each other instead of failing; WithMaxConns bounds the pool (default 4
// for SQLite, 10 for PostgreSQL).
func OpenPool(ctx context.Context, dsn string, opts ...Option) (*stdsql.DB, Dialect, error) {
	cfg := config{busyTimeout: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	var db *stdsql.DB
	var dialect Dialect
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		pc, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, "", fmt.Errorf("backend/sql: postgres dsn: %w", err)
		}
		db, dialect = stdlib.OpenDB(*pc), Postgres
		n := cfg.maxConns
		if n <= 0 {
			n = 10
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	default:
		path := dsn
		if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
			path = strings.TrimPrefix(p, "//")
		}
		if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
			return nil, "", fmt.Errorf("backend/sql: %q: give a file path", dsn)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, "", fmt.Errorf("backend/sql: sqlite path %q: %w", path, err)
		}
		conn, err := sqlite.NewConnector(sqliteDSN(abs, cfg.busyTimeout, "journal_mode(WAL)") + "&_txlock=immediate")
		if err != nil {
			return nil, "", fmt.Errorf("backend/sql: sqlite %s: %w", abs, err)
		}
		db, dialect = stdsql.OpenDB(conn), SQLite
		n := cfg.maxConns
		if n <= 0 {
			n = 4
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	}
	if err := pingBusy(ctx, db, dialect, cfg.busyTimeout); err != nil {
		db.Close()
		return nil, "", fmt.Errorf("backend/sql: %w", err)
	}
	return db, dialect, nil
}

// pingBusy opens the pool's first connection. Several processes opening a
// new SQLite file at once race to switch it to WAL, which SQLite refuses
// with SQLITE_BUSY at once rather than through the busy timeout: the loser
// tries again, within that timeout.
func pingBusy(ctx context.Context, db *stdsql.DB, dialect Dialect, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || dialect != SQLite || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
