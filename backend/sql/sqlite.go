package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
	"modernc.org/sqlite"
)

// sequelizeSQLiteTime is how Sequelize wrote DATETIME columns in SQLite.
const sequelizeSQLiteTime = "2006-01-02 15:04:05.000 -07:00"

// sqliteEngine keeps plugin tables in one SQLite file. Writes go through one
// connection owned by the writer goroutine; reads use a pool of read-only
// connections (WAL lets them run beside the writer).
type sqliteEngine struct {
	path     string
	log      *slog.Logger
	now      func() time.Time
	maxBatch int

	w    *stdsql.DB
	wc   *stdsql.Conn // the one writer connection
	r    *stdsql.DB
	reqs chan *writeReq
	quit chan struct{}
	done chan struct{}

	wstmts map[string]*stdsql.Stmt // writer goroutine only

	// rows caches rows as the writer connection last read or wrote them
	// (writer goroutine only). It is valid while no other connection
	// commits: every transaction checks PRAGMA data_version first and
	// empties it when another connection (another process, another DB on
	// the same file) has committed since.
	rows        map[rowKey]cachedRow
	dataVersion int64
	upserts     map[upsertKey]string // the text of the upserts, by table and row count

	rmu    sync.Mutex
	rstmts map[string]*stdsql.Stmt
}

func sqliteDSN(path string, busy time.Duration, extra ...string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	for _, e := range extra {
		q.Add("_pragma", e)
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string, cfg config) (*sqliteEngine, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("backend/sql: sqlite path %q: %w", path, err)
	}
	e := &sqliteEngine{
		path:     abs,
		log:      cfg.log,
		now:      cfg.now,
		maxBatch: cfg.groupCommit,
		reqs:     make(chan *writeReq, 1024),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		wstmts:   make(map[string]*stdsql.Stmt),
		rstmts:   make(map[string]*stdsql.Stmt),
		rows:     make(map[rowKey]cachedRow),
		upserts:  make(map[upsertKey]string),
	}
	// The writer keeps up to 64 MiB of pages: the transfer keys are random,
	// so a small cache reads an index page back for most new transfers.
	wconn, err := sqlite.NewConnector(sqliteDSN(abs, cfg.busyTimeout, "journal_mode(WAL)", "cache_size(-65536)"))
	if err != nil {
		return nil, fmt.Errorf("backend/sql: sqlite %s: %w", abs, err)
	}
	e.w = stdsql.OpenDB(wconn)
	e.w.SetMaxOpenConns(1)
	e.w.SetConnMaxLifetime(0)
	e.w.SetConnMaxIdleTime(0)
	if e.wc, err = e.w.Conn(ctx); err != nil {
		e.w.Close()
		return nil, fmt.Errorf("backend/sql: sqlite %s: %w", abs, err)
	}
	var mode string
	err = e.wc.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	if err == nil && mode != "wal" {
		err = fmt.Errorf("journal mode is %q, not wal", mode)
	}
	if err != nil {
		e.wc.Close()
		e.w.Close()
		return nil, fmt.Errorf("backend/sql: sqlite %s: %w", abs, err)
	}
	rconn, err := sqlite.NewConnector(sqliteDSN(abs, cfg.busyTimeout, "query_only(1)"))
	if err != nil {
		e.wc.Close()
		e.w.Close()
		return nil, fmt.Errorf("backend/sql: sqlite %s: %w", abs, err)
	}
	e.r = stdsql.OpenDB(rconn)
	n := cfg.maxConns
	if n <= 0 {
		n = 4
	}
	e.r.SetMaxOpenConns(n)
	e.r.SetMaxIdleConns(n)
	go e.writer()
	return e, nil
}

func (e *sqliteEngine) close() error {
	close(e.quit)
	<-e.done
	e.rmu.Lock()
	for _, s := range e.rstmts {
		s.Close()
	}
	e.rmu.Unlock()
	err := errors.Join(e.wc.Close(), e.w.Close(), e.r.Close())
	if err != nil {
		return fmt.Errorf("backend/sql: close sqlite %s: %w", e.path, err)
	}
	return nil
}

// writeReq is one write operation for the writer goroutine. fn runs inside
// a transaction; it returns a refusal (the operation is refused and fn wrote
// nothing) or err (a statement failed: the whole transaction is rolled back).
type writeReq struct {
	fn      func(w *writeTx) (refusal, err error)
	state   atomic.Int32
	done    chan struct{}
	refusal error
	err     error
}

const (
	reqQueued int32 = iota
	reqRunning
	reqAbandoned
)

// do runs fn in the writer. When ctx ends while fn waits in the queue, fn
// is dropped and ctx's error returned; once fn has started, do waits for
// its outcome, so an error from do always means nothing was written.
func (e *sqliteEngine) do(ctx context.Context, fn func(w *writeTx) (refusal, err error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{fn: fn, done: make(chan struct{})}
	select {
	case e.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.quit:
		return ErrClosed
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		<-r.done
	case <-e.done:
		// The writer has stopped (Close); it closes done for every request
		// it took, so a request still queued never ran.
		select {
		case <-r.done:
		default:
			if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
				return ErrClosed
			}
			<-r.done
		}
	}
	if r.err != nil {
		return r.err
	}
	return r.refusal
}

func (e *sqliteEngine) writer() {
	defer close(e.done)
	defer func() {
		for _, s := range e.wstmts {
			s.Close()
		}
	}()
	batch := make([]*writeReq, 0, e.maxBatch)
	for {
		var first *writeReq
		select {
		case first = <-e.reqs:
		case <-e.quit:
			e.drain()
			return
		}
		batch = append(batch[:0], first)
		if len(e.reqs) < e.maxBatch {
			// Let the goroutines that are about to write queue their
			// requests too: one transaction for more of them.
			runtime.Gosched()
		}
	fill:
		for len(batch) < e.maxBatch {
			select {
			case r := <-e.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		e.runBatch(batch)
	}
}

// drain fails the requests still queued at close.
func (e *sqliteEngine) drain() {
	for {
		select {
		case r := <-e.reqs:
			r.err = ErrClosed
			close(r.done)
		default:
			return
		}
	}
}

// runBatch runs requests in one transaction. Statements use a background
// context: interrupting one would roll the transaction back under the other
// requests of the batch.
func (e *sqliteEngine) runBatch(batch []*writeReq) {
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqRunning) {
			live = append(live, r)
		} else {
			close(r.done)
		}
	}
	if len(live) == 0 {
		return
	}
	err := e.runTx(live, false)
	if errors.Is(err, errNotNew) {
		// A transfer assumed new was not: run the batch again, reading
		// every transfer first.
		err = e.runTx(live, true)
	}
	if err != nil && len(live) > 1 {
		// Run each alone, so that one failing statement fails only its own
		// request. The batch was rolled back: nothing of it is stored.
		e.log.Warn("backend/sql: sqlite group commit failed; retrying one by one", "ops", len(live), "err", err)
		for _, r := range live {
			r.err = e.runTx([]*writeReq{r}, true)
		}
	} else if err != nil {
		live[0].err = err
	}
	for _, r := range live {
		close(r.done)
	}
}

// errNotNew reports that a transfer row the transaction assumed missing
// exists: the transaction is rolled back and run again without assuming.
var errNotNew = errors.New("backend/sql: a transfer assumed new exists")

// runTx runs reqs in one transaction. Unless careful, a new transfer whose
// row is not cached is assumed missing (not read) and inserted only if it
// is: when it was there after all, runTx fails with errNotNew.
func (e *sqliteEngine) runTx(reqs []*writeReq, careful bool) error {
	ctx := context.Background()
	if err := e.execW("BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite begin: %w", err)
	}
	if err := e.checkDataVersion(); err != nil {
		e.rollback(ctx)
		return fmt.Errorf("sqlite data_version: %w", err)
	}
	w := &writeTx{e: e, now: e.now().UTC().Format(sequelizeSQLiteTime), pending: make(map[rowKey]cachedRow), careful: careful}
	for _, r := range reqs {
		r.refusal, r.err = r.fn(w)
		if r.err != nil {
			e.rollback(ctx)
			return r.err
		}
	}
	if err := w.flush(); err != nil {
		e.rollback(ctx)
		return err
	}
	if err := e.execW("COMMIT"); err != nil {
		e.rollback(ctx)
		return fmt.Errorf("sqlite commit: %w", err)
	}
	w.committed()
	return nil
}

// checkDataVersion empties the row cache when another connection has
// committed since the writer last looked. It runs inside the write
// transaction, so nobody else commits until it ends.
func (e *sqliteEngine) checkDataVersion() error {
	s, err := e.wstmt("PRAGMA data_version")
	if err != nil {
		return err
	}
	var v int64
	if err := s.QueryRow().Scan(&v); err != nil {
		return err
	}
	if v != e.dataVersion {
		clear(e.rows)
		e.dataVersion = v
	}
	return nil
}

// execW runs a prepared statement without arguments on the writer.
func (e *sqliteEngine) execW(q string) error {
	s, err := e.wstmt(q)
	if err != nil {
		return err
	}
	_, err = s.Exec()
	return err
}

// rollback ends a failed transaction. The row cache starts again empty:
// what failed may have been half done.
func (e *sqliteEngine) rollback(ctx context.Context) {
	clear(e.rows)
	if _, err := e.wc.ExecContext(ctx, "ROLLBACK"); err != nil {
		e.log.Debug("backend/sql: sqlite rollback", "err", err)
	}
}

// wstmt returns a prepared statement on the writer connection.
func (e *sqliteEngine) wstmt(q string) (*stdsql.Stmt, error) {
	if s, ok := e.wstmts[q]; ok {
		return s, nil
	}
	s, err := e.wc.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	e.wstmts[q] = s
	return s, nil
}

// rstmt returns a prepared statement on the reader pool.
func (e *sqliteEngine) rstmt(ctx context.Context, q string) (*stdsql.Stmt, error) {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	if s, ok := e.rstmts[q]; ok {
		return s, nil
	}
	s, err := e.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	e.rstmts[q] = s
	return s, nil
}

// writeTx is what a write request sees: the open transaction. Rows are
// written when the transaction commits (each row once, however many
// requests of the batch changed it); until then reads see them in pending.
type writeTx struct {
	e       *sqliteEngine
	now     string
	pending map[rowKey]cachedRow // rows written by this transaction
	careful bool                 // read every transfer row (see runTx)
	assumed map[rowKey]bool      // transfer rows written as new without reading them
}

// stored is a row's value as read: found false for a missing row, valid
// false for NULL.
type stored struct {
	value        string
	found, valid bool
}

// rowKey names a row of a table.
type rowKey struct {
	t   *table
	key string
}

// cachedRow is a row the writer knows; rec is the decoded record of a
// transfer row, when known.
type cachedRow struct {
	stored
	rec *ledger.Record
}

// maxCachedRows bounds the writer's row cache; beyond it the cache starts
// again empty.
const maxCachedRows = 1 << 16

// getMany returns the rows of keys: those the transaction wrote, those
// the cache holds, and the others read with one statement. The rows read
// are cached, except a missing row noCache (a transfer about to be
// created: its row is cached when it is written).
//
// With assume, a row noCache that is neither written nor cached is not
// read but taken as missing, and assumed reports it.
func (w *writeTx) getMany(t *table, keys []string, noCache string, assume bool) (_ map[string]cachedRow, assumed bool, _ error) {
	out := make(map[string]cachedRow, len(keys))
	var missing []string
	for _, k := range keys {
		rk := rowKey{t, k}
		if r, ok := w.pending[rk]; ok {
			out[k] = r
		} else if r, ok := w.e.rows[rk]; ok {
			out[k] = r
		} else if assume && k == noCache {
			assumed = true
		} else {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return out, assumed, nil
	}
	q := `SELECT "key", "value" FROM ` + t.ident + ` WHERE "key" IN (?` + strings.Repeat(", ?", len(missing)-1) + `)`
	s, err := w.e.wstmt(q)
	if err != nil {
		return nil, false, err
	}
	args := make([]any, len(missing))
	for i, k := range missing {
		args[i] = k
	}
	rows, err := s.Query(args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v stdsql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, false, err
		}
		out[k] = cachedRow{stored: stored{value: v.String, found: true, valid: v.Valid}}
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(w.e.rows)+len(missing) > maxCachedRows {
		clear(w.e.rows)
	}
	for _, k := range missing {
		if r := out[k]; r.found || k != noCache {
			w.e.rows[rowKey{t, k}] = r
		}
	}
	return out, assumed, nil
}

// putMany writes balance rows in the transaction.
func (w *writeTx) putMany(t *table, kv [][2]string) {
	for _, r := range kv {
		w.pending[rowKey{t, r[0]}] = cachedRow{stored: stored{value: r[1], found: true, valid: true}}
	}
}

// putRecord writes a transfer row in the transaction; assumed says it was
// taken as missing without reading it (see getMany).
func (w *writeTx) putRecord(t *table, key, value string, rec ledger.Record, assumed bool) {
	rk := rowKey{t, key}
	w.pending[rk] = cachedRow{stored: stored{value: value, found: true, valid: true}, rec: &rec}
	if assumed {
		if w.assumed == nil {
			w.assumed = make(map[rowKey]bool)
		}
		w.assumed[rk] = true
	}
}

// maxRowsPerStatement bounds the rows of one upsert.
const maxRowsPerStatement = 32

// flush stores the rows the transaction wrote, with one upsert per table
// and maxRowsPerStatement rows.
func (w *writeTx) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	byTable := make(map[*table][][2]string, 1)
	var inserts map[*table][][2]string
	for rk, r := range w.pending {
		if w.assumed[rk] {
			if inserts == nil {
				inserts = make(map[*table][][2]string, 1)
			}
			inserts[rk.t] = append(inserts[rk.t], [2]string{rk.key, r.value})
			continue
		}
		byTable[rk.t] = append(byTable[rk.t], [2]string{rk.key, r.value})
	}
	for t, kv := range inserts {
		for len(kv) > 0 {
			n := min(len(kv), maxRowsPerStatement)
			if err := w.upsert(t, kv[:n], true); err != nil {
				return err
			}
			kv = kv[n:]
		}
	}
	for t, kv := range byTable {
		for len(kv) > 0 {
			n := min(len(kv), maxRowsPerStatement)
			if err := w.upsert(t, kv[:n], false); err != nil {
				return err
			}
			kv = kv[n:]
		}
	}
	return nil
}

// committed moves the rows the transaction wrote into the cache. A
// transfer in a final state leaves it: it is rarely read again.
func (w *writeTx) committed() {
	c := w.e.rows
	if len(c)+len(w.pending) > maxCachedRows {
		clear(c)
	}
	for rk, r := range w.pending {
		if r.rec != nil && r.rec.State != ledger.StatePrepared {
			delete(c, rk)
			continue
		}
		c[rk] = r
	}
}

type upsertKey struct {
	t      *table
	n      int
	insert bool
}

// upsert writes rows with one statement, keeping "createdAt" of the rows
// that exist. With insert, the rows must be new: it writes none that exists
// and fails with errNotNew if there was one.
func (w *writeTx) upsert(t *table, kv [][2]string, insert bool) error {
	qk := upsertKey{t, len(kv), insert}
	q, ok := w.e.upserts[qk]
	if !ok {
		// ?1 is the time; row i has ?(2i+2) and ?(2i+3).
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + t.ident + ` ("key", "value", "createdAt", "updatedAt") VALUES `)
		for i := range kv {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(?%d, ?%d, ?1, ?1)", 2*i+2, 2*i+3)
		}
		if insert {
			b.WriteString(` ON CONFLICT ("key") DO NOTHING`)
		} else {
			b.WriteString(` ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value", "updatedAt" = excluded."updatedAt"`)
		}
		q = b.String()
		w.e.upserts[qk] = q
	}
	s, err := w.e.wstmt(q)
	if err != nil {
		return err
	}
	args := make([]any, 0, 1+2*len(kv))
	args = append(args, w.now)
	for _, r := range kv {
		args = append(args, r[0], r[1])
	}
	res, err := s.Exec(args...)
	if err != nil || !insert {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != int64(len(kv)) {
		return errNotNew
	}
	return nil
}

// reads lists the keys an operation reads: its own key (if any) and the
// balances of its changes, each once.
func reads(key string, changes []ledger.Change) []string {
	keys := make([]string, 0, 1+len(changes))
	if key != "" {
		keys = append(keys, key)
	}
	for _, c := range changes {
		k := ledger.BalanceKey(c.Balance)
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// compute applies changes in Go to the balances in rows (a missing row is
// 0). It returns the balance after each change and the rows to write; a
// refusal means nothing may be written.
func compute(t *table, rows map[string]cachedRow, changes []ledger.Change) (out []ledger.Int128, writes [][2]string, refusal error) {
	var names []string
	out, final, refusal := ledger.ApplyChanges(changes, func(name string) (ledger.Int128, error) {
		names = append(names, name)
		key := ledger.BalanceKey(name)
		r := rows[key]
		if !r.found {
			return ledger.Int128{}, nil
		}
		return parseBalance(t, key, r.value, r.valid)
	})
	if refusal != nil {
		return nil, nil, refusal
	}
	for _, n := range names {
		writes = append(writes, [2]string{ledger.BalanceKey(n), final[n].String()})
	}
	return out, writes, nil
}

func (e *sqliteEngine) ensureTable(ctx context.Context, t *table) error {
	// The DDL Sequelize 3 ran for the 2.x connector's store model on SQLite.
	ddl := `CREATE TABLE IF NOT EXISTS ` + t.ident + ` ("key" TEXT PRIMARY KEY, "value" TEXT, "createdAt" DATETIME NOT NULL, "updatedAt" DATETIME NOT NULL)`
	return e.do(ctx, func(w *writeTx) (error, error) {
		if _, err := e.wc.ExecContext(context.Background(), ddl); err != nil {
			return nil, err
		}
		_, err := e.wc.ExecContext(context.Background(), preparedIndexDDL(t))
		return nil, err
	})
}

func (e *sqliteEngine) tables(ctx context.Context) ([]string, error) {
	rows, err := e.r.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'plugin\_store\_%' ESCAPE '\'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (e *sqliteEngine) read(ctx context.Context, t *table, key string) (string, bool, bool, error) {
	s, err := e.rstmt(ctx, `SELECT "value" FROM `+t.ident+` WHERE "key" = ?`)
	if err != nil {
		return "", false, false, err
	}
	var v stdsql.NullString
	switch err := s.QueryRowContext(ctx, key).Scan(&v); {
	case errors.Is(err, stdsql.ErrNoRows):
		return "", false, false, nil
	case err != nil:
		return "", false, false, err
	}
	return v.String, true, v.Valid, nil
}

func (e *sqliteEngine) transfers(ctx context.Context, t *table) ([]string, error) {
	rows, err := e.r.QueryContext(ctx, `SELECT "value" FROM `+t.ident+
		` WHERE `+preparedWhere+` ORDER BY "key"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (e *sqliteEngine) connectBalance(ctx context.Context, t *table, key string) (ledger.Int128, error) {
	var v ledger.Int128
	err := e.do(ctx, func(w *writeTx) (error, error) {
		rows, _, err := w.getMany(t, []string{key}, "", false)
		if err != nil {
			return nil, err
		}
		v = ledger.Int128{}
		if r := rows[key]; r.found {
			if v, err = parseBalance(t, key, r.value, r.valid); err == nil {
				return nil, nil
			}
			w.e.log.Warn("backend/sql: balance is not an integer; storing 0 as 2.x did", "table", t.name, "key", key, "value", r.value)
			v = ledger.Int128{}
		}
		w.putMany(t, [][2]string{{key, "0"}})
		return nil, nil
	})
	return v, err
}

func (e *sqliteEngine) change(ctx context.Context, t *table, c ledger.Change) (ledger.Int128, error) {
	var v ledger.Int128
	changes := []ledger.Change{c}
	keys := reads("", changes)
	err := e.do(ctx, func(w *writeTx) (error, error) {
		rows, _, err := w.getMany(t, keys, "", false)
		if err != nil {
			return nil, err
		}
		out, writes, refusal := compute(t, rows, changes)
		if refusal != nil {
			return refusal, nil
		}
		v = out[0]
		w.putMany(t, writes)
		return nil, nil
	})
	return v, err
}

func (e *sqliteEngine) transit(ctx context.Context, t *table, op transition) (ledger.Result, error) {
	var res ledger.Result
	keys := reads(op.key, op.changes)
	err := e.do(ctx, func(w *writeTx) (error, error) {
		refusal, err, assumed := w.transit(t, op, keys, &res, op.create && !w.careful)
		if refusal != nil && assumed {
			// Refused with the transfer taken as new: read it to be sure
			// (a transfer that exists gets its own answer).
			refusal, err, _ = w.transit(t, op, keys, &res, false)
		}
		return refusal, err
	})
	return res, err
}

// transit runs op in the transaction, with res its result; see getMany
// for assume and assumed.
func (w *writeTx) transit(t *table, op transition, keys []string, res *ledger.Result, assume bool) (refusal, err error, assumed bool) {
	*res = ledger.Result{}
	rows, assumed, err := w.getMany(t, keys, op.key, assume)
	if err != nil {
		return nil, err, assumed
	}
	var rec ledger.Record
	r := rows[op.key]
	switch {
	case r.rec != nil:
		rec = *r.rec
	case r.found:
		if rec, err = decodeRecord(t, op.key, r.value, r.valid); err != nil {
			return err, nil, assumed
		}
	}
	next, write, refusal := op.decide(rec, r.found)
	if refusal != nil {
		return refusal, nil, assumed
	}
	res.Record = next
	if !write {
		return nil, nil, assumed
	}
	out, writes, refusal := compute(t, rows, op.changes)
	if refusal != nil {
		return refusal, nil, assumed
	}
	value, err := marshalRecord(next)
	if err != nil {
		return fmt.Errorf("%w: %w", ledger.ErrInvalidTransfer, err), nil, assumed
	}
	w.putMany(t, writes)
	w.putRecord(t, op.key, string(value), next, assumed)
	res.Applied = true
	res.Balances = out
	return nil, nil, assumed
}

// marshalRecord returns ledger.MarshalRecord(r), writing the record around
// the transfer's own JSON by hand when every string of it is one JSON
// writes as it is.
func marshalRecord(r ledger.Record) ([]byte, error) {
	if !plainJSON(string(r.State)) || !plainJSON(r.Fulfillment) {
		return ledger.MarshalRecord(r)
	}
	t, err := r.Transfer.MarshalJSON() // compact, as the encoder of the record leaves it
	if err != nil {
		return ledger.MarshalRecord(r)
	}
	b := make([]byte, 0, len(t)+len(r.Fulfillment)+80)
	b = append(b, `{"transfer":`...)
	b = append(b, t...)
	b = append(b, `,"state":"`...)
	b = append(b, r.State...)
	b = append(b, `","isIncoming":`...)
	b = strconv.AppendBool(b, r.Incoming)
	if r.Fulfillment == "" {
		b = append(b, `,"fulfillment":null`...)
	} else {
		b = append(b, `,"fulfillment":"`...)
		b = append(b, r.Fulfillment...)
		b = append(b, '"')
	}
	return append(b, `,"written":true}`...), nil
}

// plainJSON reports whether JSON writes s as it is, between quotes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// snapshot reads in one transaction of a reader connection: in WAL mode it
// sees the database as of its first read, whatever the writer commits
// meanwhile.
func (e *sqliteEngine) snapshot(ctx context.Context, t *table, keys []string) (map[string]*string, []string, error) {
	tx, err := e.r.BeginTx(ctx, &stdsql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = tx.Rollback() }()
	values := make(map[string]*string, len(keys))
	for _, k := range keys {
		var v stdsql.NullString
		switch err := tx.QueryRowContext(ctx, `SELECT "value" FROM `+t.ident+` WHERE "key" = ?`, k).Scan(&v); {
		case errors.Is(err, stdsql.ErrNoRows):
			continue
		case err != nil:
			return nil, nil, err
		}
		if v.Valid {
			s := v.String
			values[k] = &s
		} else {
			values[k] = nil
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT "value" FROM `+t.ident+` WHERE `+preparedWhere+` ORDER BY "key"`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var prepared []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, nil, err
		}
		prepared = append(prepared, v)
	}
	return values, prepared, rows.Err()
}
