package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
)

// callErr is call that returns an error, instead of failing the test,
// when the kit cannot be reached or answers something unreadable (it may
// be dead or starting).
func (c *apiClient) callErr(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.h.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, err
		}
	}
	return res.StatusCode, nil
}

// TestKillKit: alice on one kit pays bob on another with 200 payments in
// flight at all times, while her kit is killed with SIGKILL 20 times at
// random points and restarted. After every restart the kit's books add up;
// once the maximum hold time has passed, every payment ended (success or
// failed), every hold was returned, and alice paid exactly for the
// payments bob received.
func TestKillKit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Run("sqlite", func(t *testing.T) { killKit(t, false) })
	t.Run("postgres", func(t *testing.T) { killKit(t, true) })
}

// killKit runs TestKillKit on SQLite files, or on PostgreSQL databases.
func killKit(t *testing.T, postgres bool) {
	const (
		kills  = 20
		payers = 200
		// A restart of the paying kit must fit in the message window for
		// the peer's fulfillment to reach it before the transfer expires; a
		// kit built with -race on a loaded machine takes a second or two.
		holdSec = 8
	)
	env1 := kitEnv(t, "test.one.")
	env1["CONNECTOR_MAX_HOLD_TIME"] = fmt.Sprint(holdSec)
	env1["CONNECTOR_MIN_MESSAGE_WINDOW"] = "2.5"
	env1["API_PORT"] = fmt.Sprint(freePort(t))
	env2 := kitEnv(t, "test.two.")
	env2["CONNECTOR_MAX_HOLD_TIME"] = fmt.Sprint(holdSec)
	env2["CONNECTOR_MIN_MESSAGE_WINDOW"] = "2.5"
	if postgres {
		env1["DB_URI"], env2["DB_URI"] = pgtest.DSN(t), pgtest.DSN(t)
	}
	k1, k2 := startKitProcess(t, env1), startKitProcess(t, env2)
	a1, a2 := login(t, k1.base, "admin", "admin-password"), login(t, k2.base, "admin", "admin-password")
	a1.call("POST", "/api/peers", map[string]string{"hostname": k2.host, "limit": "1000000000000000"}, nil)
	a2.call("POST", "/api/peers", map[string]string{"hostname": k1.host, "limit": "1000000000000000"}, nil)
	var inv struct{ Code string }
	a1.call("POST", "/api/invites", map[string]string{"amount": "1000000000000"}, &inv)
	newAPIClient(t, k1.base).call("POST", "/api/users/alice", map[string]string{"password": "alice-password", "inviteCode": inv.Code}, nil)
	newAPIClient(t, k2.base).call("POST", "/api/users/bob", map[string]string{"password": "bob-password"}, nil)
	alice, bob := login(t, k1.base, "alice", "alice-password"), login(t, k2.base, "bob", "bob-password")
	aliceStart := alice.balance()
	dest := "bob@" + k2.host

	var quoteMu sync.Mutex
	var quoteID, srcAmt, dstAmt string
	requote := func() bool {
		var q struct{ ID, SourceAmount, DestinationAmount string }
		code, err := alice.callErr("POST", "/api/payments/quote", map[string]string{"destination": dest, "sourceAmount": "1000"}, &q)
		if err != nil || code != 200 {
			return false
		}
		quoteMu.Lock()
		quoteID, srcAmt, dstAmt = q.ID, q.SourceAmount, q.DestinationAmount
		quoteMu.Unlock()
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for !requote() {
		if time.Now().After(deadline) {
			t.Fatal("no route to bob")
		}
		time.Sleep(100 * time.Millisecond)
	}

	stop := make(chan struct{})
	// pause stops the payers from starting calls while the books are read:
	// a payment moving between two reads would make them look off.
	var pause sync.RWMutex
	var wg sync.WaitGroup
	var seq atomic.Int64
	var mu sync.Mutex
	final := map[string]string{} // payment id -> final state
	for w := 0; w < payers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("k%06d", seq.Add(1))
				quoteMu.Lock()
				body := map[string]string{"quoteId": quoteID, "sourceAmount": srcAmt, "destinationAmount": dstAmt}
				quoteMu.Unlock()
				// The same request until it has an answer: a retry after
				// the kit died pays at most once.
				for try := 0; ; try++ {
					var p struct{ ID, State, Error, Message string }
					pause.RLock()
					code, err := alice.callErr("PUT", "/api/payments/"+id, body, &p)
					pause.RUnlock()
					if try == 100 {
						t.Logf("payment %s: still %d %v %+v", id, code, err, p)
					}
					if err == nil && code == 200 && p.State != "pending" {
						mu.Lock()
						final[id] = p.State
						mu.Unlock()
						break
					}
					if err == nil && code == 422 { // failed, and says why each time it is asked
						mu.Lock()
						final[id] = "failed: " + p.ID
						mu.Unlock()
						break
					}
					if err == nil && code == 409 && p.ID == "QuoteExpiredError" {
						requote()
						break
					}
					if err == nil && code >= 400 && code < 500 && code != 429 {
						t.Errorf("payment %s: %d %+v", id, code, p)
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 0; i < kills; i++ {
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		k1.kill()
		k1 = startKitProcess(t, env1)
		checkBooks(t, k1, &pause, fmt.Sprintf("after restart %d", i+1))
	}
	close(stop)
	wg.Wait()

	// Within the hold time every payment has ended and every hold is back.
	admin := login(t, k1.base, "admin", "admin-password")
	deadline = time.Now().Add(holdSec*time.Second + 10*time.Second)
	for {
		var books struct{ Held string }
		admin.call("GET", "/api/admin/ledger", nil, &books)
		var pending int
		pages(t, alice, func(p payment) {
			if p.State == "pending" {
				pending++
			}
		})
		if books.Held == "0" && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the hold time: held %s, %d payments pending", books.Held, pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
	paid, received := new(big.Int), new(big.Int)
	var ok, failed int
	pages(t, alice, func(p payment) {
		if p.State == "success" {
			ok++
			paid.Add(paid, num(t, p.SourceAmount))
		} else {
			failed++
		}
	})
	var bobCount int
	pages(t, bob, func(p payment) {
		if p.State == "success" {
			bobCount++
			received.Add(received, num(t, p.DestinationAmount))
		}
	})
	t.Logf("%d kills; %d payments succeeded, %d failed; bob received %d", kills, ok, failed, bobCount)
	if d := new(big.Int).Sub(aliceStart, alice.balance()); d.Cmp(paid) != 0 {
		t.Errorf("alice's balance fell by %s; her successful payments add up to %s", d, paid)
	}
	if ok != bobCount || bob.balance().Cmp(received) != 0 {
		t.Errorf("alice has %d successful payments, bob %d (balance %s, payments %s)", ok, bobCount, bob.balance(), received)
	}
	if ok == 0 {
		t.Error("no payment succeeded")
	}
}

// checkBooks reads the kit's books with the payers paused: payments
// already inside the kit still move between the reads of the balances and
// of the holds, so it reads until they agree (within 5 s) and fails if
// they never do.
func checkBooks(t *testing.T, k *kitProcess, pause *sync.RWMutex, when string) {
	t.Helper()
	pause.Lock()
	defer pause.Unlock()
	admin := login(t, k.base, "admin", "admin-password")
	var books struct {
		Sum, Balances, Held string
		OK                  bool
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if code := admin.call("GET", "/api/admin/ledger", nil, &books); code == 200 && books.OK && books.Sum == "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s the books do not add up: %+v", when, books)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type payment struct {
	ID, State, Direction, Counterparty, SourceAmount, DestinationAmount string
}

// pages walks a user's whole history.
func pages(t *testing.T, c *apiClient, fn func(payment)) {
	t.Helper()
	cursor := ""
	for {
		var page struct {
			Payments   []payment
			NextCursor string
		}
		if code := c.call("GET", "/api/payments?limit=100&cursor="+cursor, nil, &page); code != 200 {
			t.Fatalf("history: %d", code)
		}
		for _, p := range page.Payments {
			fn(p)
		}
		if page.NextCursor == "" || len(page.Payments) == 0 {
			return
		}
		cursor = page.NextCursor
	}
}

func num(t *testing.T, s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	return v
}
