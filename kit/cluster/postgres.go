package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the NOTIFY channel of a kit's processes, and LockKey the key of
// the advisory lock its leader holds (one kit per database).
const (
	Channel = "ilpkit_bus"
	LockKey = int64(0x696c706b69740002) // "ilpkit" and 2 (1 is the migrations' lock, 3 the bus table's)
)

// maxPayload is the largest NOTIFY payload sent; PostgreSQL refuses 8000
// bytes and more.
const maxPayload = 7000

// Options tune a Postgres cluster; zero values take the defaults.
type Options struct {
	// Interval is how often a follower tries the leader's lock and the
	// leader checks it still holds it: a takeover comes within about one
	// Interval of the leader's death (default 1 s).
	Interval time.Duration
	// Retention is how long large messages stay in the bus table for
	// listeners to read (default 1 min).
	Retention time.Duration
	Logger    *slog.Logger
}

// Postgres is the cluster of the processes sharing one PostgreSQL database.
type Postgres struct {
	cfg    *pgx.ConnConfig
	pool   *pgxpool.Pool
	id     string
	log    *slog.Logger
	opts   Options
	leader atomic.Bool

	hmu      sync.RWMutex
	handlers map[string]Handler

	// presence is a session that lives as long as the process: the others
	// see the process by it in pg_stat_activity, from its start (before
	// it loads its state or serves anything) to its end.
	presence *pgx.Conn // replaced by keepPresence (under presMu) when it fails
	presMu   sync.Mutex

	out       chan message
	pubDone   chan struct{}
	closeMu   sync.Mutex
	closed    bool
	closeOnce sync.Once
	dropped   atomic.Int64
}

// OpenPostgres connects to the database at dsn (a postgres:// URL or
// keyword=value string) and creates the bus table if it is missing.
func OpenPostgres(ctx context.Context, dsn string, opts Options) (*Postgres, error) {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Retention <= 0 {
		opts.Retention = time.Minute
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("cluster: dsn: %w", err)
	}
	pc.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	// Processes starting together would collide in the catalog on a bare
	// CREATE TABLE IF NOT EXISTS: they take turns.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, LockKey+1); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS kit_bus (
			id bigserial PRIMARY KEY,
			data text NOT NULL,
			created_at timestamptz NOT NULL DEFAULT now())`)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("cluster: bus table: %w", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	c := &Postgres{
		cfg: pc.ConnConfig.Copy(), pool: pool, id: hex.EncodeToString(rnd[:]), log: discard(opts.Logger), opts: opts,
		handlers: map[string]Handler{}, out: make(chan message, 4096), pubDone: make(chan struct{}),
	}
	pres := c.cfg.Copy()
	pres.RuntimeParams["application_name"] = memberPrefix + c.id
	if c.presence, err = pgx.ConnectConfig(ctx, pres); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	go c.publisher()
	return c, nil
}

// Others counts the other processes present now.
func (c *Postgres) Others(ctx context.Context) (int, error) {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("cluster: %w", err)
	}
	defer conn.Release()
	m, err := c.members(ctx, conn.Conn())
	if err != nil {
		return 0, fmt.Errorf("cluster: %w", err)
	}
	delete(m, c.id)
	return len(m), nil
}

// ID is this process's name on the bus.
func (c *Postgres) ID() string { return c.id }

// Leader reports whether this process leads now.
func (c *Postgres) Leader() bool { return c.leader.Load() }

// Handle sets the handler of a topic (before Run).
func (c *Postgres) Handle(topic string, h Handler) {
	c.hmu.Lock()
	c.handlers[topic] = h
	c.hmu.Unlock()
}

// Publish queues a message for the other processes, without waiting: data
// must be JSON. Messages are sent in order, several per NOTIFY; when the
// queue is full the message is dropped and counted (receivers catch up from
// the database).
func (c *Postgres) Publish(topic string, data []byte) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.out <- message{Topic: topic, Data: json.RawMessage(data)}:
	default:
		if c.dropped.Add(1)%1000 == 1 {
			c.log.Warn("cluster: bus queue full, messages dropped", "dropped", c.dropped.Load())
		}
	}
}

// Dropped counts the messages dropped because the queue was full.
func (c *Postgres) Dropped() int64 { return c.dropped.Load() }

// publisher sends the queued messages, packing as many as fit in one
// NOTIFY.
func (c *Postgres) publisher() {
	defer close(c.pubDone)
	ctx := context.Background()
	for first := range c.out {
		batch := []message{first}
		size := len(first.Data) + len(first.Topic) + 16
	fill:
		for size < maxPayload/2 {
			select {
			case m, ok := <-c.out:
				if !ok {
					break fill
				}
				batch = append(batch, m)
				size += len(m.Data) + len(m.Topic) + 16
			default:
				break fill
			}
		}
		c.send(ctx, batch)
	}
}

// send notifies batch, splitting it where it does not fit and storing a
// message too large for any NOTIFY in the bus table.
func (c *Postgres) send(ctx context.Context, batch []message) {
	for len(batch) > 0 {
		n, payload := c.pack(batch)
		if n == 0 {
			// The first message alone is too large: store it.
			m := batch[0]
			var row int64
			err := c.pool.QueryRow(ctx, `INSERT INTO kit_bus (data) VALUES ($1) RETURNING id`, string(m.Data)).Scan(&row)
			if err != nil {
				c.log.Error("cluster: storing a large message", "topic", m.Topic, "err", err)
				batch = batch[1:]
				continue
			}
			batch[0] = message{Topic: m.Topic, Row: row}
			continue
		}
		if _, err := c.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, payload); err != nil {
			c.log.Error("cluster: notify", "messages", n, "err", err)
		}
		batch = batch[n:]
	}
}

// pack encodes the longest prefix of batch that fits in one payload.
func (c *Postgres) pack(batch []message) (int, string) {
	n := len(batch)
	for n > 0 {
		b, err := json.Marshal(envelope{From: c.id, Msgs: batch[:n]})
		if err == nil && len(b) <= maxPayload {
			return n, string(b)
		}
		n /= 2
	}
	return 0, ""
}

// Run listens to the bus and contends for leadership until ctx ends, then
// releases the lock. It calls cb.Lead while this process leads.
func (c *Postgres) Run(ctx context.Context, cb Callbacks) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.listen(ctx, cb.Resync) }()
	go func() { defer wg.Done(); c.contend(ctx, cb) }()
	wg.Add(1)
	go func() { defer wg.Done(); c.keepPresence(ctx) }()
	wg.Wait()
}

// Close stops publishing (after sending what is queued) and closes the
// pool. Run must have returned.
func (c *Postgres) Close() {
	c.closeOnce.Do(c.close)
}

func (c *Postgres) close() {
	c.closeMu.Lock()
	if !c.closed {
		c.closed = true
		close(c.out)
	}
	c.closeMu.Unlock()
	<-c.pubDone
	c.pool.Close()
	c.presMu.Lock()
	_ = c.presence.Close(context.Background())
	c.presMu.Unlock()
}

// listen receives the bus until ctx ends, reconnecting after a failure
// (then resync runs, as messages may have been missed).
func (c *Postgres) listen(ctx context.Context, resync func()) {
	backoff := c.opts.Interval / 4
	for ctx.Err() == nil {
		lc := c.cfg.Copy()
		lc.RuntimeParams["application_name"] = listenerPrefix + c.id
		conn, err := pgx.ConnectConfig(ctx, lc)
		if err == nil {
			_, err = conn.Exec(ctx, `LISTEN `+Channel)
		}
		if err != nil {
			if conn != nil {
				_ = conn.Close(context.Background())
			}
			if ctx.Err() == nil {
				c.log.Warn("cluster: listen", "err", err)
			}
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 10*c.opts.Interval)
			continue
		}
		backoff = c.opts.Interval / 4
		// Listening now: what changed before (while the process loaded its
		// state at start, or while the listener was down) is read again.
		if resync != nil {
			resync()
		}
		err = c.receive(ctx, conn)
		_ = conn.Close(context.Background())
		if ctx.Err() == nil {
			c.log.Warn("cluster: listener lost, reconnecting", "err", err)
		}
	}
}

// receive dispatches the notifications of conn until it fails.
func (c *Postgres) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var env envelope
		if err := json.Unmarshal([]byte(n.Payload), &env); err != nil {
			c.log.Warn("cluster: unreadable notification", "err", err)
			continue
		}
		if env.From == c.id {
			continue
		}
		for _, m := range env.Msgs {
			data := []byte(m.Data)
			if m.Row != 0 {
				var s string
				if err := c.pool.QueryRow(ctx, `SELECT data FROM kit_bus WHERE id = $1`, m.Row).Scan(&s); err != nil {
					c.log.Warn("cluster: reading a large message", "row", m.Row, "err", err)
					continue
				}
				data = []byte(s)
			}
			c.hmu.RLock()
			h := c.handlers[m.Topic]
			c.hmu.RUnlock()
			if h != nil {
				h(data)
			}
		}
	}
}

// contend tries the leader's lock every Interval on a connection of its
// own; holding it, it runs lead and checks the connection every Interval.
// PostgreSQL releases the lock when the connection ends, also when the
// process is killed, so a follower takes over within about an Interval.
func (c *Postgres) contend(ctx context.Context, cb Callbacks) {
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, c.cfg)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("cluster: lock connection", "err", err)
			}
			if !sleep(ctx, c.opts.Interval) {
				return
			}
			continue
		}
		err = c.holdWhenFree(ctx, conn, cb)
		_ = conn.Close(context.Background())
		if err != nil && ctx.Err() == nil {
			c.log.Warn("cluster: leadership", "err", err)
			sleep(ctx, c.opts.Interval)
		}
	}
}

func (c *Postgres) holdWhenFree(ctx context.Context, conn *pgx.Conn, cb Callbacks) error {
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, LockKey).Scan(&got); err != nil {
			return err
		}
		if got {
			break
		}
		if !sleep(ctx, c.opts.Interval) {
			return ctx.Err()
		}
	}
	c.log.Info("cluster: leading", "process", c.id)
	c.leader.Store(true)
	defer c.leader.Store(false)
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if cb.Lead != nil {
			cb.Lead(lctx)
		}
	}()
	defer func() { cancel(); <-done }()
	var trimmed time.Time
	seen, _ := c.members(ctx, conn)
	for {
		if !sleep(ctx, c.opts.Interval) {
			unlock, stop := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = conn.Exec(unlock, `SELECT pg_advisory_unlock($1)`, LockKey)
			stop()
			return ctx.Err()
		}
		// The lock lives as long as this session; a failed query means
		// the session may be gone, and with it the lock.
		if _, err := conn.Exec(ctx, `SELECT 1`); err != nil {
			c.log.Warn("cluster: lost the leader's connection; stepping down", "err", err)
			return errors.Join(errors.New("lost the lock connection"), err)
		}
		if now, err := c.members(ctx, conn); err == nil {
			for id := range seen {
				if !now[id] && cb.Lost != nil {
					c.log.Warn("cluster: a process left", "process", id)
					go cb.Lost(lctx)
					break
				}
			}
			seen = now
		}
		if time.Since(trimmed) > c.opts.Retention/2 {
			c.trim(ctx)
			trimmed = time.Now()
		}
	}
}

// keepPresence checks the presence session every Interval and opens it
// again when it ended (the server restarted, a network cut): while it is
// gone the others count this process as gone, and their leader finishes
// what it may have left (only what is final, as it would for any live
// process).
func (c *Postgres) keepPresence(ctx context.Context) {
	for sleep(ctx, c.opts.Interval) {
		c.presMu.Lock()
		conn := c.presence
		c.presMu.Unlock()
		if conn.Ping(ctx) == nil || ctx.Err() != nil {
			continue
		}
		pres := c.cfg.Copy()
		pres.RuntimeParams["application_name"] = memberPrefix + c.id
		next, err := pgx.ConnectConfig(ctx, pres)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("cluster: presence session", "err", err)
			}
			continue
		}
		c.presMu.Lock()
		_ = c.presence.Close(context.Background())
		c.presence = next
		c.presMu.Unlock()
		c.log.Info("cluster: presence session open again")
	}
}

// memberPrefix starts the application_name of a process's presence
// session.
const memberPrefix = "ilpkit-bus:"

// listenerPrefix starts the application_name of a process's listener (an
// operator sees it in pg_stat_activity).
const listenerPrefix = "ilpkit-listen:"

// members lists the processes present, by their presence sessions.
func (c *Postgres) members(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, `SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1`, memberPrefix+"%")
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n[len(memberPrefix):]] = true
	}
	return out, nil
}

// trim deletes the large messages past their retention (the leader does).
func (c *Postgres) trim(ctx context.Context) {
	_, err := c.pool.Exec(ctx, `DELETE FROM kit_bus WHERE created_at < now() - make_interval(secs => $1)`, c.opts.Retention.Seconds())
	if err != nil && ctx.Err() == nil {
		c.log.Warn("cluster: trimming the bus table", "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
