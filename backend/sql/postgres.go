package sql

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgEngine keeps plugin tables in a PostgreSQL database through a pgx pool.
type pgEngine struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time
}

// maxRetries bounds the loops that retry a statement after it raced with
// another process's change.
const maxRetries = 100

func openPostgres(ctx context.Context, dsn string, cfg config) (*pgEngine, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("backend/sql: postgres dsn: %w", err)
	}
	if cfg.maxConns > 0 {
		pc.MaxConns = int32(cfg.maxConns)
	} else if !strings.Contains(dsn, "pool_max_conns") {
		pc.MaxConns = 10
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("backend/sql: postgres: %w", err)
	}
	if err := warm(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("backend/sql: postgres: %w", err)
	}
	return &pgEngine{pool: pool, log: cfg.log, now: cfg.now}, nil
}

// warm opens every connection of the pool at once, so that the first burst
// of work does not wait for PostgreSQL to start a backend per connection.
func warm(ctx context.Context, pool *pgxpool.Pool) error {
	n := int(pool.Config().MaxConns)
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	type result struct {
		c   *pgxpool.Conn
		err error
	}
	ch := make(chan result, n)
	for range n {
		go func() {
			c, err := pool.Acquire(ctx)
			ch <- result{c, err}
		}()
	}
	var first error
	for range n {
		r := <-ch
		if r.err != nil {
			first = cmp.Or(first, r.err)
			continue
		}
		conns = append(conns, r.c)
	}
	return first
}

func (e *pgEngine) close() error {
	e.pool.Close()
	return nil
}

// pgQuerier is what the pool and a transaction have in common.
type pgQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// The statements, for one table. The balance statements are the ones the
// pgbench comparison runs (scripts/pgbench-balance-add.sql and -sub.sql).
func pgAddSQL(t *table) string {
	return `UPDATE ` + t.ident + ` SET "value" = ("value"::numeric + $1)::text, "updatedAt" = $3
WHERE "key" = $2 AND CASE WHEN "value" ~ '^[-+]?[0-9]+$' THEN "value"::numeric + $1 <= $4 ELSE false END
RETURNING "value"`
}

func pgSubSQL(t *table) string {
	return `UPDATE ` + t.ident + ` SET "value" = ("value"::numeric - $1)::text, "updatedAt" = $3
WHERE "key" = $2 AND CASE WHEN "value" ~ '^[-+]?[0-9]+$' THEN "value"::numeric - $1 >= $4 ELSE false END
RETURNING "value"`
}

func pgSelectSQL(t *table) string { return `SELECT "value" FROM ` + t.ident + ` WHERE "key" = $1` }

func pgInsertSQL(t *table) string {
	return `INSERT INTO ` + t.ident + ` ("key", "value", "createdAt", "updatedAt") VALUES ($1, $2, $3, $3) ON CONFLICT ("key") DO NOTHING`
}

func (e *pgEngine) ensureTable(ctx context.Context, t *table) error {
	// Sequelize's DDL for the 2.x store model. Concurrent CREATE TABLE IF NOT
	// EXISTS can still collide in the catalog, so creators queue on an
	// advisory lock named after the table.
	ddl := `CREATE TABLE IF NOT EXISTS ` + t.ident + ` ("key" TEXT, "value" TEXT, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY ("key"))`
	return pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "ilpkit:"+t.name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, preparedIndexDDL(t))
		return err
	})
}

func (e *pgEngine) tables(ctx context.Context) ([]string, error) {
	rows, err := e.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name LIKE 'plugin\_store\_%' ESCAPE '\' ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (e *pgEngine) read(ctx context.Context, t *table, key string) (string, bool, bool, error) {
	return pgRead(ctx, e.pool, t, key)
}

func pgRead(ctx context.Context, q pgQuerier, t *table, key string) (string, bool, bool, error) {
	var v *string
	switch err := q.QueryRow(ctx, pgSelectSQL(t), key).Scan(&v); {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, false, nil
	case err != nil:
		return "", false, false, err
	}
	if v == nil {
		return "", true, false, nil
	}
	return *v, true, true, nil
}

func (e *pgEngine) transfers(ctx context.Context, t *table) ([]string, error) {
	rows, err := e.pool.Query(ctx, `SELECT "value" FROM `+t.ident+
		` WHERE `+preparedWhere+` ORDER BY "key"`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (e *pgEngine) connectBalance(ctx context.Context, t *table, key string) (ledger.Int128, error) {
	for range maxRetries {
		s, found, valid, err := pgRead(ctx, e.pool, t, key)
		if err != nil {
			return ledger.Int128{}, err
		}
		if !found {
			if _, err := e.pool.Exec(ctx, pgInsertSQL(t), key, "0", e.now()); err != nil {
				return ledger.Int128{}, err
			}
			continue // read what is there now: another process may have won
		}
		if v, err := parseBalance(t, key, s, valid); err == nil {
			return v, nil
		}
		e.log.Warn("backend/sql: balance is not an integer; storing 0 as 2.x did", "table", t.name, "key", key, "value", s)
		// Only replace the value that was read, not one written meanwhile.
		if _, err := e.pool.Exec(ctx, `UPDATE `+t.ident+` SET "value" = '0', "updatedAt" = $3 WHERE "key" = $1 AND "value" IS NOT DISTINCT FROM $2`,
			key, nullable(s, valid), e.now()); err != nil {
			return ledger.Int128{}, err
		}
	}
	return ledger.Int128{}, fmt.Errorf("%w: connect %s %q", ErrContention, t.ident, key)
}

func nullable(s string, valid bool) *string {
	if !valid {
		return nil
	}
	return &s
}

func (e *pgEngine) change(ctx context.Context, t *table, c ledger.Change) (ledger.Int128, error) {
	return pgChange(ctx, e.pool, t, c, e.now())
}

// pgChange applies one balance change with the conditional UPDATE. When it
// updates no row, the row is read: a missing one is created as "0" and the
// statement retried; otherwise Apply on the value read gives the refusal, or
// says that the value moved since, and the statement is retried.
func pgChange(ctx context.Context, q pgQuerier, t *table, c ledger.Change, now time.Time) (ledger.Int128, error) {
	stmt := pgAddSQL(t)
	if c.Sub {
		stmt = pgSubSQL(t)
	}
	key := ledger.BalanceKey(c.Balance)
	amount := strconv.FormatUint(c.Amount, 10)
	limit := bound(c).String()
	for range maxRetries {
		var s string
		err := q.QueryRow(ctx, stmt, amount, key, now, limit).Scan(&s)
		if err == nil {
			v, err := ledger.ParseInt128(s)
			if err != nil {
				return ledger.Int128{}, fmt.Errorf("%w: %s %q: %w", ErrCorrupt, t.ident, key, err)
			}
			return v, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return ledger.Int128{}, err
		}
		cur, found, valid, err := pgRead(ctx, q, t, key)
		if err != nil {
			return ledger.Int128{}, err
		}
		if !found {
			if _, err := q.Exec(ctx, pgInsertSQL(t), key, "0", now); err != nil {
				return ledger.Int128{}, err
			}
			continue
		}
		v, err := parseBalance(t, key, cur, valid)
		if err != nil {
			return ledger.Int128{}, err
		}
		if _, err := c.Apply(v); err != nil {
			return ledger.Int128{}, err
		}
	}
	return ledger.Int128{}, fmt.Errorf("%w: %s %q", ErrContention, t.ident, key)
}

// errRetry makes transit start its transaction again; errSlow makes it
// start again on the statement-by-statement path.
var (
	errRetry = errors.New("retry")
	errSlow  = errors.New("slow path")
)

func (e *pgEngine) transit(ctx context.Context, t *table, op transition) (ledger.Result, error) {
	// Lock order: the transfer row, then the balances sorted by name (a
	// stable sort keeps the changes of one balance in their order, so each
	// change still sees the one before it).
	order := make([]int, len(op.changes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return op.changes[order[a]].Balance < op.changes[order[b]].Balance })
	fast := true
	for range maxRetries {
		res, err := e.transitOnce(ctx, t, op, order, fast)
		switch {
		case errors.Is(err, errSlow):
			fast = false
			continue
		case errors.Is(err, errRetry):
			continue
		}
		return res, err
	}
	return ledger.Result{}, fmt.Errorf("%w: %s %q", ErrContention, t.ident, op.key)
}

// transitOnce runs one transfer operation in one transaction. On the fast
// path the record's write and the balance changes go to the server in one
// pipeline (pgx batch), so the balance rows stay locked for one round trip
// and the commit; when any conditional UPDATE matches no row (a missing
// row, a refusal) it gives up with errSlow and the transaction is rolled
// back, to be run again with one statement at a time, which tells the cases
// apart.
func (e *pgEngine) transitOnce(ctx context.Context, t *table, op transition, order []int, fast bool) (ledger.Result, error) {
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		return ledger.Result{}, err
	}
	defer tx.Rollback(context.Background())
	now := e.now()

	var next ledger.Record
	var write pgWrite
	if op.create {
		rec, _, refusal := op.decide(ledger.Record{}, false)
		if refusal != nil {
			return ledger.Result{}, refusal
		}
		next = rec
		write = pgWrite{sql: pgInsertSQL(t), insert: true}
	} else {
		var v *string
		err := tx.QueryRow(ctx, pgSelectSQL(t)+` FOR UPDATE`, op.key).Scan(&v)
		found := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return ledger.Result{}, err
		}
		var stored ledger.Record
		if found {
			if stored, err = decodeRecord(t, op.key, deref(v), v != nil); err != nil {
				return ledger.Result{}, err
			}
		}
		rec, w, refusal := op.decide(stored, found)
		if refusal != nil {
			return ledger.Result{}, refusal
		}
		if !w {
			return ledger.Result{Record: rec}, nil
		}
		if !found {
			// Not reached by fulfill and cancel, which need a stored record.
			return ledger.Result{}, fmt.Errorf("backend/sql: %s %q: write without a row", t.ident, op.key)
		}
		next = rec
		write = pgWrite{sql: `UPDATE ` + t.ident + ` SET "value" = $2, "updatedAt" = $3 WHERE "key" = $1`}
	}
	value, err := ledger.MarshalRecord(next)
	if err != nil {
		return ledger.Result{}, fmt.Errorf("%w: %w", ledger.ErrInvalidTransfer, err)
	}

	var balances []ledger.Int128
	var wrote bool
	if fast {
		wrote, balances, err = e.pipeline(ctx, tx, t, op, order, write, string(value), now)
	} else {
		wrote, balances, err = e.oneByOne(ctx, tx, t, op, order, write, string(value), now)
	}
	if err != nil {
		return ledger.Result{}, err
	}
	if !wrote {
		// The new transfer's id is taken: the insert waited for the writer of
		// that row to commit. Decide on what it wrote; the transaction, with
		// any balance change it made, is rolled back.
		s, found, valid, err := pgRead(ctx, tx, t, op.key)
		if err != nil {
			return ledger.Result{}, err
		}
		if !found {
			return ledger.Result{}, errRetry
		}
		stored, err := decodeRecord(t, op.key, s, valid)
		if err != nil {
			return ledger.Result{}, err
		}
		rec, w, refusal := op.decide(stored, true)
		if refusal != nil {
			return ledger.Result{}, refusal
		}
		if w {
			return ledger.Result{}, errRetry
		}
		return ledger.Result{Record: rec}, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return ledger.Result{}, err
	}
	return ledger.Result{Record: next, Applied: true, Balances: balances}, nil
}

// pgWrite is the statement that stores a transfer record: an insert that
// does nothing when the key exists, or an update of a locked row.
type pgWrite struct {
	sql    string
	insert bool
}

// pipeline sends the record's write and every balance change in one batch.
// wrote is false when the insert found the key taken.
func (e *pgEngine) pipeline(ctx context.Context, tx pgx.Tx, t *table, op transition, order []int, w pgWrite, value string, now time.Time) (wrote bool, balances []ledger.Int128, err error) {
	b := &pgx.Batch{}
	b.Queue(w.sql, op.key, value, now)
	for _, i := range order {
		c := op.changes[i]
		stmt := pgAddSQL(t)
		if c.Sub {
			stmt = pgSubSQL(t)
		}
		b.Queue(stmt, strconv.FormatUint(c.Amount, 10), ledger.BalanceKey(c.Balance), now, bound(c).String())
	}
	br := tx.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	tag, err := br.Exec()
	if err != nil {
		return false, nil, err
	}
	wrote = tag.RowsAffected() == 1
	balances = make([]ledger.Int128, len(op.changes))
	slow := false
	for _, i := range order {
		var s string
		switch err := br.QueryRow().Scan(&s); {
		case errors.Is(err, pgx.ErrNoRows):
			slow = true
		case err != nil:
			return false, nil, err
		default:
			v, err := ledger.ParseInt128(s)
			if err != nil {
				return false, nil, fmt.Errorf("%w: %s %q: %w", ErrCorrupt, t.ident, ledger.BalanceKey(op.changes[i].Balance), err)
			}
			balances[i] = v
		}
	}
	if slow && wrote {
		return false, nil, errSlow
	}
	return wrote, balances, nil
}

// oneByOne writes the record, then applies the changes one statement at a
// time with pgChange, which creates missing rows and tells a refusal from a
// race.
func (e *pgEngine) oneByOne(ctx context.Context, tx pgx.Tx, t *table, op transition, order []int, w pgWrite, value string, now time.Time) (bool, []ledger.Int128, error) {
	tag, err := tx.Exec(ctx, w.sql, op.key, value, now)
	if err != nil {
		return false, nil, err
	}
	if tag.RowsAffected() != 1 {
		return false, nil, nil
	}
	balances := make([]ledger.Int128, len(op.changes))
	for _, i := range order {
		v, err := pgChange(ctx, tx, t, op.changes[i], now)
		if err != nil {
			return false, nil, err
		}
		balances[i] = v
	}
	return true, balances, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (e *pgEngine) snapshot(ctx context.Context, t *table, keys []string) (map[string]*string, []string, error) {
	tx, err := e.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	rows, err := tx.Query(ctx, `SELECT "key", "value" FROM `+t.ident+` WHERE "key" = ANY($1)`, keys)
	if err != nil {
		return nil, nil, err
	}
	values := make(map[string]*string, len(keys))
	for rows.Next() {
		var k string
		var v *string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, nil, err
		}
		values[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = tx.Query(ctx, `SELECT "value" FROM `+t.ident+` WHERE `+preparedWhere+` ORDER BY "key"`)
	if err != nil {
		return nil, nil, err
	}
	prepared, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, err
	}
	return values, prepared, tx.Commit(ctx)
}
