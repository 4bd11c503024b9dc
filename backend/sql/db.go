package sql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// Errors of this package.
var (
	// ErrPrefix reports a plugin prefix that cannot name a table.
	ErrPrefix = errors.New("backend/sql: invalid plugin prefix")
	// ErrCorrupt reports a stored value this package cannot read (a balance
	// that is not an integer, a transfer that is not valid JSON).
	ErrCorrupt = errors.New("backend/sql: stored value is not valid")
	// ErrClosed reports a use of a closed DB.
	ErrClosed = errors.New("backend/sql: database is closed")
	// ErrContention reports a balance change that kept racing with others.
	ErrContention = errors.New("backend/sql: too much contention")
)

// Dialect names the database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open SQLite or PostgreSQL database holding plugin stores.
type DB struct {
	dialect Dialect
	eng     engine
	log     *slog.Logger
	now     func() time.Time

	closed atomic.Bool

	mu       sync.Mutex // guards backends
	backends map[string]*backend
}

// Option configures Open.
type Option func(*config)

type config struct {
	log         *slog.Logger
	now         func() time.Time
	busyTimeout time.Duration
	groupCommit int
	maxConns    int
}

// WithLogger sets the logger (the default discards).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the clock used for "createdAt" and "updatedAt".
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithBusyTimeout sets how long SQLite waits for another process's write lock
// before failing (default 30s).
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithGroupCommit sets how many SQLite write operations may share one
// transaction (default 64; 1 commits every operation on its own).
func WithGroupCommit(n int) Option { return func(c *config) { c.groupCommit = n } }

// WithMaxConns sets the size of the PostgreSQL connection pool (default 10,
// unless the DSN sets pool_max_conns) or of the SQLite reader pool (default 4).
func WithMaxConns(n int) Option { return func(c *config) { c.maxConns = n } }

// Open opens the database named by dsn:
//
//	postgres://... or postgresql://...   PostgreSQL (pgx connection string)
//	sqlite:///abs/path.db, sqlite:rel.db  SQLite file (created if missing)
//	/any/other/path.db                   SQLite file
//
// Open connects (and for SQLite switches the file to WAL) before returning.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	cfg := config{
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:         time.Now,
		busyTimeout: 30 * time.Second,
		groupCommit: 64,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.groupCommit < 1 {
		cfg.groupCommit = 1
	}
	db := &DB{log: cfg.log, now: cfg.now, backends: make(map[string]*backend)}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db.dialect = Postgres
		db.eng, err = openPostgres(ctx, dsn, cfg)
	default:
		path := dsn
		if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
			path = strings.TrimPrefix(p, "//")
		}
		if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
			return nil, fmt.Errorf("backend/sql: %q: give a file path (an in-memory SQLite database cannot be shared by its connections)", dsn)
		}
		db.dialect = SQLite
		db.eng, err = openSQLite(ctx, path, cfg)
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}

// Dialect tells which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the database. Backends obtained from it fail afterwards.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	return db.eng.close()
}

// prefixRE is the 2.x connector's rule for store names; it also keeps quotes
// and every other special character out of the table identifier.
var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_\-~.]+$`)

// maxIdent is PostgreSQL's identifier length; a longer table name would be
// cut silently, so two prefixes could share a table.
const maxIdent = 63

// TableName returns the 2.x table name of a plugin prefix
// ("plugin_store_" + prefix + "s"), or ErrPrefix.
func TableName(prefix string) (string, error) {
	if !prefixRE.MatchString(prefix) {
		return "", fmt.Errorf("%w: %q must match %s", ErrPrefix, prefix, prefixRE)
	}
	name := "plugin_store_" + prefix + "s"
	if len(name) > maxIdent {
		return "", fmt.Errorf("%w: %q gives a table name longer than %d bytes", ErrPrefix, prefix, maxIdent)
	}
	return name, nil
}

// Backend returns the backend of the plugin with the given ILP prefix,
// creating its table when it is missing. The same prefix gives the same
// backend (and so the same caches) for the life of the DB.
func (db *DB) Backend(ctx context.Context, prefix string) (ledger.Backend, error) {
	name, err := TableName(prefix)
	if err != nil {
		return nil, err
	}
	if db.closed.Load() {
		return nil, ErrClosed
	}
	db.mu.Lock()
	b, ok := db.backends[prefix]
	db.mu.Unlock()
	if ok {
		return b, nil
	}
	// Create the table without holding the lock: other backends keep
	// working meanwhile. Two callers may both run the idempotent DDL; the
	// first to come back registers the backend.
	t := newTable(name)
	if err := db.eng.ensureTable(ctx, t); err != nil {
		return nil, fmt.Errorf("backend/sql: create table %s: %w", t.ident, err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if b, ok := db.backends[prefix]; ok {
		return b, nil
	}
	b = newBackend(db, prefix, t)
	db.backends[prefix] = b
	return b, nil
}

// Prefixes lists the plugin prefixes that have a table in the database (the
// 2.x tables included), sorted.
func (db *DB) Prefixes(ctx context.Context) ([]string, error) {
	names, err := db.eng.tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("backend/sql: list tables: %w", err)
	}
	var out []string
	for _, n := range names {
		p, ok := strings.CutPrefix(n, "plugin_store_")
		if !ok {
			continue
		}
		p, ok = strings.CutSuffix(p, "s")
		if ok && prefixRE.MatchString(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// table holds the SQL text for one plugin table; the name was checked by
// TableName, so quoting it is enough.
type table struct {
	name  string
	ident string // quoted identifier
}

func newTable(name string) *table {
	return &table{name: name, ident: `"` + name + `"`}
}

// preparedWhere selects the transfers that may still be prepared (the
// state is inside the JSON value; callers check it). It is also the
// predicate of a partial index of each table, which holds only those rows,
// so listing them reads a few rows instead of the whole history (the
// statement must repeat it word for word for the index to apply).
const preparedWhere = `substr("key", 1, 9) = 'transfer_' AND "value" LIKE '%"prepared"%'`

// preparedIndexDDL creates the partial index of t's prepared transfers. Its
// name is derived from the table's, within PostgreSQL's 63 bytes.
func preparedIndexDDL(t *table) string {
	sum := sha256.Sum256([]byte(t.name))
	return `CREATE INDEX IF NOT EXISTS "ilpkit_prepared_` + hex.EncodeToString(sum[:12]) + `" ON ` + t.ident + ` ("key") WHERE ` + preparedWhere
}

// engine is what a dialect provides. Every method is atomic on its own.
type engine interface {
	ensureTable(ctx context.Context, t *table) error
	tables(ctx context.Context) ([]string, error)
	// read returns a row's value; found is false for a missing row and
	// valid false for a NULL value.
	read(ctx context.Context, t *table, key string) (value string, found, valid bool, err error)
	// transfers returns the values of the transfer rows that may be in state
	// prepared (a superset: the caller parses and filters).
	transfers(ctx context.Context, t *table) ([]string, error)
	// connectBalance reads a balance, storing "0" when it is missing or not
	// an integer.
	connectBalance(ctx context.Context, t *table, key string) (ledger.Int128, error)
	// change applies one balance change and returns the balance it produced.
	change(ctx context.Context, t *table, c ledger.Change) (ledger.Int128, error)
	// transit runs one transfer log operation with its balance changes.
	transit(ctx context.Context, t *table, op transition) (ledger.Result, error)
	// snapshot reads the rows of keys (missing ones absent from the map)
	// and the transfer rows that may be prepared, all at one instant of
	// the database, whatever other processes write meanwhile.
	snapshot(ctx context.Context, t *table, keys []string) (map[string]*string, []string, error)
	close() error
}
