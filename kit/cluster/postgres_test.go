package cluster_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit/cluster"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// member is one process's cluster in a test: what it heard and whether
// it leads.
type member struct {
	c      *cluster.Postgres
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	got     []string
	leads   int
	resyncs int
	lost    int
}

func join(t *testing.T, dsn string) *member {
	t.Helper()
	c, err := cluster.OpenPostgres(context.Background(), dsn, cluster.Options{Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := &member{c: c, done: make(chan struct{})}
	for _, topic := range []string{"a", "b"} {
		c.Handle(topic, func(data []byte) {
			m.mu.Lock()
			m.got = append(m.got, topic+":"+string(data))
			m.mu.Unlock()
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		c.Run(ctx, cluster.Callbacks{
			Lead: func(ctx context.Context) {
				m.mu.Lock()
				m.leads++
				m.mu.Unlock()
				<-ctx.Done()
			},
			Resync: func() { m.mu.Lock(); m.resyncs++; m.mu.Unlock() },
			Lost:   func(context.Context) { m.mu.Lock(); m.lost++; m.mu.Unlock() },
		})
	}()
	t.Cleanup(m.stop)
	return m
}

func (m *member) stop() {
	m.cancel()
	<-m.done
	m.c.Close()
}

func (m *member) heard() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLeaderAndTakeover(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := join(t, dsn)
	waitFor(t, "a leads", a.c.Leader)
	b := join(t, dsn)
	time.Sleep(400 * time.Millisecond) // several of b's tries
	if b.c.Leader() {
		t.Fatal("two leaders at once")
	}
	start := time.Now()
	a.stop()
	waitFor(t, "b takes over", b.c.Leader)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("takeover took %v", d)
	}
	b.mu.Lock()
	leads := b.leads
	b.mu.Unlock()
	if leads != 1 {
		t.Errorf("b's Lead ran %d times, want 1", leads)
	}
}

func TestMessagesInOrder(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := join(t, dsn), join(t, dsn)
	time.Sleep(300 * time.Millisecond) // both listening
	big := `"` + strings.Repeat("x", 20000) + `"`
	var want []string
	for i := range 500 {
		data := fmt.Sprintf(`{"n":%d}`, i)
		if i == 250 {
			data = big
		}
		topic := []string{"a", "b"}[i%2]
		a.c.Publish(topic, []byte(data))
		want = append(want, topic+":"+data)
	}
	a.c.Publish("unknown", []byte(`1`)) // no handler: ignored
	waitFor(t, "b hears all", func() bool { return len(b.heard()) == len(want) })
	got := b.heard()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: got %.40q, want %.40q", i, got[i], want[i])
		}
	}
	if n := len(a.heard()); n != 0 {
		t.Errorf("a heard %d of its own messages", n)
	}
}

func (m *member) count(p *int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return *p
}

// TestReconnectAndLost: a listener whose session ends reconnects and
// resyncs, and messages flow again; when the other process goes, the
// leader sees its session end and runs Lost.
func TestReconnectAndLost(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := join(t, dsn)
	waitFor(t, "a leads", a.c.Leader)
	b := join(t, dsn)
	waitFor(t, "b resyncs when it starts listening", func() bool { return b.count(&b.resyncs) == 1 })
	time.Sleep(300 * time.Millisecond) // a's leader loop sees b
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	// b's listener: the session listening on the channel, not its
	// presence session.
	if err := conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, "ilpkit-listen:"+b.c.ID()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminating b's listener: %d %v", n, err)
	}
	waitFor(t, "b reconnects and resyncs", func() bool { return b.count(&b.resyncs) == 2 })
	a.c.Publish("a", []byte(`"again"`))
	waitFor(t, "b hears after reconnecting", func() bool {
		h := b.heard()
		return len(h) > 0 && h[len(h)-1] == `a:"again"`
	})
	// b's presence session ends; b opens another.
	presence := func() (pid int) {
		_ = conn.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, "ilpkit-bus:"+b.c.ID()).Scan(&pid)
		return pid
	}
	old := presence()
	if err := conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, "ilpkit-bus:"+b.c.ID()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminating b's presence: %d %v", n, err)
	}
	waitFor(t, "b is present again", func() bool {
		pid := presence()
		return pid != 0 && pid != old
	})
	if others, err := a.c.Others(context.Background()); err != nil || others != 1 {
		t.Errorf("b present again: %d others, %v", others, err)
	}
	time.Sleep(300 * time.Millisecond) // a's leader loop sees b back
	lost := a.count(&a.lost)
	b.stop()
	waitFor(t, "a notices that b left", func() bool { return a.count(&a.lost) > lost })
	waitFor(t, "a counts nobody else", func() bool {
		others, err := a.c.Others(context.Background())
		return err == nil && others == 0
	})
}

// TestStartTogether: processes opening at the same moment all get the bus
// table (no collision in the catalog).
func TestStartTogether(t *testing.T) {
	dsn := pgtest.DSN(t)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			c, err := cluster.OpenPostgres(context.Background(), dsn, cluster.Options{})
			if err == nil {
				c.Close()
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
