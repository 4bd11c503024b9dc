package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
)

// balancer is the load balancer in front of the processes of one kit: it
// sends each request to the next process, and to another one when a
// process refuses the connection (dead or restarting). A request cut
// short by a process's death fails with 502, as behind a real balancer.
type balancer struct {
	mu       sync.Mutex
	backends []string // host:port
	next     atomic.Uint64
}

func (b *balancer) set(i int, host string) {
	b.mu.Lock()
	b.backends[i] = host
	b.mu.Unlock()
}

func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	b.mu.Lock()
	hosts := append([]string(nil), b.backends...)
	b.mu.Unlock()
	start := int(b.next.Add(1))
	var err error
	for i := range hosts {
		r := req.Clone(req.Context())
		r.URL.Host = hosts[(start+i)%len(hosts)]
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		var resp *http.Response
		resp, err = http.DefaultTransport.RoundTrip(r)
		if err == nil {
			return resp, nil
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, err
		}
	}
	return nil, err
}

// TestClusterKill runs one kit as two `ilpkit serve` processes on one
// PostgreSQL database behind a load balancer, peered with a second kit.
// Alice (on the two-process kit) pays bob (on the other) and bob pays
// alice, with payments in flight through both processes, while the
// leading process, then the following one, is killed with SIGKILL and
// restarted, several times.
// The other process takes over the leader's work (its route broadcasts
// keep the peer's routes alive past their expiry); within the hold time
// every payment ends and every hold is returned; each side paid exactly
// what the other received; the books add up; and the two kits agree on
// their trustline's balance.
func TestClusterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const (
		kills   = 6
		payers  = 40 // alice's; bob has a quarter as many
		holdSec = 8
	)
	dsn := pgtest.DSN(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pub := ln.Addr().(*net.TCPAddr).Port
	lb := &balancer{backends: make([]string, 2)}
	proxy := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.Out.URL.Scheme = "http"; r.Out.URL.Host = "balanced" },
		Transport:     lb,
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0), // cut requests are expected
	}
	srv := &http.Server{Handler: proxy}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	xHost := "127.0.0.1:" + strconv.Itoa(pub)
	xBase := "http://" + xHost

	envX := func() map[string]string {
		env := kitEnv(t, "test.x.")
		env["DB_URI"] = dsn
		env["API_PUBLIC_PORT"] = strconv.Itoa(pub)
		env["API_SECRET"] = "cluster-test-secret"
		env["CONNECTOR_MAX_HOLD_TIME"] = fmt.Sprint(holdSec)
		env["CONNECTOR_MIN_MESSAGE_WINDOW"] = "2.5"
		env["CONNECTOR_ROUTE_EXPIRY"] = "4000"
		env["API_PORT"] = strconv.Itoa(freePort(t))
		return env
	}
	env := [2]map[string]string{envX(), envX()}
	var procs [2]*kitProcess
	procs[0] = startKitProcess(t, env[0])
	lb.set(0, procs[0].host)
	procs[1] = startKitProcess(t, env[1])
	lb.set(1, procs[1].host)
	envY := kitEnv(t, "test.y.")
	envY["CONNECTOR_MAX_HOLD_TIME"] = fmt.Sprint(holdSec)
	envY["CONNECTOR_MIN_MESSAGE_WINDOW"] = "2.5"
	envY["CONNECTOR_ROUTE_EXPIRY"] = "4000"
	y := startKitProcess(t, envY)

	leader := func() int {
		for i, p := range procs {
			resp, err := http.Get(p.base + "/health")
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.Header.Get("Ilpkit-Role") == "leader" {
				return i
			}
		}
		return -1
	}
	waitLeader := func() int {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if i := leader(); i >= 0 {
				return i
			}
			if time.Now().After(deadline) {
				t.Fatal("no process leads")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if i := waitLeader(); i != 0 {
		t.Fatalf("process %d leads; the first started should", i)
	}

	ax, ay := login(t, xBase, "admin", "admin-password"), login(t, y.base, "admin", "admin-password")
	if code := ax.call("POST", "/api/peers", map[string]string{"hostname": y.host, "limit": "1000000000000000"}, nil); code != 201 && code != 200 {
		t.Fatalf("peer x->y: %d", code)
	}
	if code := ay.call("POST", "/api/peers", map[string]string{"hostname": xHost, "limit": "1000000000000000"}, nil); code != 201 && code != 200 {
		t.Fatalf("peer y->x: %d", code)
	}
	var invX, invY struct{ Code string }
	ax.call("POST", "/api/invites", map[string]string{"amount": "1000000000000"}, &invX)
	ay.call("POST", "/api/invites", map[string]string{"amount": "1000000000000"}, &invY)
	newAPIClient(t, xBase).call("POST", "/api/users/alice", map[string]string{"password": "alice-password", "inviteCode": invX.Code}, nil)
	newAPIClient(t, y.base).call("POST", "/api/users/bob", map[string]string{"password": "bob-password", "inviteCode": invY.Code}, nil)
	alice, bob := login(t, xBase, "alice", "alice-password"), login(t, y.base, "bob", "bob-password")
	aliceStart, bobStart := alice.balance(), bob.balance()

	// A payer sends the same payment until it has an answer; a quote
	// that expired is asked again.
	type side struct {
		c       *apiClient
		dest    string
		mu      sync.Mutex
		quote   map[string]string
		payers  int
		done    atomic.Int64
		prefix  string
		pending sync.WaitGroup
	}
	requote := func(s *side) bool {
		var q struct{ ID, SourceAmount, DestinationAmount string }
		code, err := s.c.callErr("POST", "/api/payments/quote", map[string]string{"destination": s.dest, "sourceAmount": "1000"}, &q)
		if err != nil || code != 200 {
			return false
		}
		s.mu.Lock()
		s.quote = map[string]string{"quoteId": q.ID, "sourceAmount": q.SourceAmount, "destinationAmount": q.DestinationAmount}
		s.mu.Unlock()
		return true
	}
	sides := []*side{
		{c: alice, dest: "bob@" + y.host, payers: payers, prefix: "a"},
		{c: bob, dest: "alice@" + xHost, payers: payers / 4, prefix: "b"},
	}
	for _, s := range sides {
		deadline := time.Now().Add(30 * time.Second)
		for !requote(s) {
			if time.Now().After(deadline) {
				t.Fatalf("no route to %s", s.dest)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Alice's event stream on the second process.
	req, _ := http.NewRequest("GET", procs[1].base+"/api/events", nil)
	for _, ck := range alice.h.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("events: %v %v", res, err)
	}
	defer res.Body.Close()
	var streamMu sync.Mutex
	streamed := map[string]bool{} // payment ids the stream reported ended
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var p payment
			if json.Unmarshal([]byte(data), &p) == nil && p.ID != "" && p.State != "pending" {
				streamMu.Lock()
				streamed[p.ID] = true
				streamMu.Unlock()
			}
		}
	}()

	// Alice pays carol, a user of her kit, through the first process
	// alone: her stream on the second reports each payment.
	newAPIClient(t, xBase).call("POST", "/api/users/carol", map[string]string{"password": "carol-password"}, nil)
	alice0 := newAPIClient(t, procs[0].base)
	alice0.h.Jar = alice.h.Jar // the same session (cookies do not depend on the port)
	alice0.csrf = alice.csrf
	var q struct{ ID, SourceAmount, DestinationAmount string }
	if code := alice0.call("POST", "/api/payments/quote", map[string]string{"destination": "carol", "sourceAmount": "5"}, &q); code != 200 {
		t.Fatalf("quote to carol: %d", code)
	}
	for i := range 3 {
		id := fmt.Sprintf("local%d", i)
		var p struct{ State string }
		if code := alice0.call("PUT", "/api/payments/"+id, map[string]string{"quoteId": q.ID, "sourceAmount": "5", "destinationAmount": "5"}, &p); code != 200 || p.State != "success" {
			t.Fatalf("pay carol: %d %+v", code, p)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			streamMu.Lock()
			seen := streamed[id]
			streamMu.Unlock()
			if seen {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("alice's stream on the second process did not report %s, made by the first", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	stop := make(chan struct{})
	var seq atomic.Int64
	for _, s := range sides {
		for range s.payers {
			s.pending.Add(1)
			go func() {
				defer s.pending.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("%s%06d", s.prefix, seq.Add(1))
					s.mu.Lock()
					body := s.quote
					s.mu.Unlock()
					for {
						var p struct{ ID, State string }
						code, err := s.c.callErr("PUT", "/api/payments/"+id, body, &p)
						if err == nil && ((code == 200 && p.State != "pending") || code == 422) {
							s.done.Add(1)
							break
						}
						if err == nil && code == 409 && p.ID == "QuoteExpiredError" {
							requote(s)
							break
						}
						if err == nil && code >= 400 && code < 500 && code != 429 && code != 409 {
							t.Errorf("payment %s: %d %+v", id, code, p)
							break
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
			}()
		}
	}

	// The leader, then the other one, in turn.
	for i := 0; i < kills; i++ {
		time.Sleep(1500 * time.Millisecond)
		if i == 0 {
			// Every payment of alice's that ended so far, whichever
			// process made it, is on her stream from the second process.
			var ended []string
			pages(t, alice, func(p payment) {
				if p.State != "pending" {
					ended = append(ended, p.ID)
				}
			})
			deadline := time.Now().Add(5 * time.Second)
			for missing := len(ended); missing > 0; {
				missing = 0
				streamMu.Lock()
				for _, id := range ended {
					if !streamed[id] {
						missing++
					}
				}
				streamMu.Unlock()
				if missing > 0 && time.Now().After(deadline) {
					t.Fatalf("alice's stream on the second process missed %d of %d payments", missing, len(ended))
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("alice's stream on the second process reported all %d payments ended so far", len(ended))
		}
		l := waitLeader()
		if i%2 == 1 {
			procs[1-l].kill()
			t.Logf("kill %d: process %d (following)", i+1, 1-l)
			l = 1 - l
		} else {
			procs[l].kill()
			killed := time.Now()
			deadline := time.Now().Add(10 * time.Second)
			for leader() != 1-l {
				if time.Now().After(deadline) {
					t.Fatalf("kill %d: the other process did not take over", i+1)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("kill %d: process %d (leading); process %d took over after %v", i+1, l, 1-l, time.Since(killed).Round(time.Millisecond))
		}
		if i == kills-1 {
			// Past the peer's route expiry with one process: only its
			// broadcasts keep the routes alive.
			time.Sleep(5 * time.Second)
		}
		env[l]["API_PORT"] = strconv.Itoa(freePort(t))
		procs[l] = startKitProcess(t, env[l])
		lb.set(l, procs[l].host)
	}
	close(stop)
	for _, s := range sides {
		s.pending.Wait()
	}
	for _, s := range sides {
		if !requote(s) {
			t.Errorf("no quote to %s after the takeovers", s.dest)
		}
	}

	deadline := time.Now().Add(holdSec*time.Second + 15*time.Second)
	for {
		var bx, by struct {
			Sum, Held string
			OK        bool
		}
		ax.call("GET", "/api/admin/ledger", nil, &bx)
		ay.call("GET", "/api/admin/ledger", nil, &by)
		pending := 0
		for _, c := range []*apiClient{alice, bob} {
			pages(t, c, func(p payment) {
				if p.State == "pending" {
					pending++
				}
			})
		}
		if bx.Held == "0" && by.Held == "0" && bx.OK && by.OK && bx.Sum == "0" && by.Sum == "0" && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the hold time: x %+v, y %+v, %d payments pending", bx, by, pending)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Each side paid exactly what the other received.
	paidA, recvA, nPaidA, nRecvA := payments(t, alice, y.host)
	paidB, recvB, nPaidB, nRecvB := payments(t, bob, xHost)
	t.Logf("%d kills; alice paid %d payments (%d sent by payers in all), bob received %d; bob paid %d, alice received %d",
		kills, nPaidA, sides[0].done.Load(), nRecvB, nPaidB, nRecvA)
	if nPaidA == 0 || nPaidB == 0 {
		t.Error("no payment succeeded on one side")
	}
	if nPaidA != nRecvB || nPaidB != nRecvA {
		t.Errorf("alice paid %d payments and bob received %d; bob paid %d and alice received %d", nPaidA, nRecvB, nPaidB, nRecvA)
	}
	wantA := new(big.Int).Sub(aliceStart, paidA)
	wantA.Sub(wantA, big.NewInt(3*5)) // to carol
	wantA.Add(wantA, recvA)
	wantB := new(big.Int).Sub(bobStart, paidB)
	wantB.Add(wantB, recvB)
	if a, b := alice.balance(), bob.balance(); a.Cmp(wantA) != 0 || b.Cmp(wantB) != 0 {
		t.Errorf("alice %s (her payments say %s), bob %s (his say %s)", a, wantA, b, wantB)
	}
	// The two kits agree on their trustline.
	var px, py []struct{ Balance string }
	ax.call("GET", "/api/peers", nil, &px)
	ay.call("GET", "/api/peers", nil, &py)
	if len(px) != 1 || len(py) != 1 || new(big.Int).Add(num(t, px[0].Balance), num(t, py[0].Balance)).Sign() != 0 {
		t.Errorf("trustline balances x %+v y %+v do not mirror", px, py)
	}
}

// payments adds up a user's successful payments with users of the kit at
// host: what the user sent (by source amount) and received (by
// destination amount).
func payments(t *testing.T, c *apiClient, host string) (paid, received *big.Int, nPaid, nReceived int) {
	t.Helper()
	paid, received = new(big.Int), new(big.Int)
	pages(t, c, func(p payment) {
		if p.State != "success" || !strings.HasSuffix(p.Counterparty, "@"+host) {
			return
		}
		if p.Direction == "outgoing" {
			paid.Add(paid, num(t, p.SourceAmount))
			nPaid++
		} else {
			received.Add(received, num(t, p.DestinationAmount))
			nReceived++
		}
	})
	return paid, received, nPaid, nReceived
}
