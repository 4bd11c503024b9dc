package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
)

// sse is an open event stream.
type sse struct {
	events chan sseEvent
	cancel context.CancelFunc
}

type sseEvent struct {
	name, data string
}

// events opens GET /api/events as c and reads it in the background.
func (c *client) events(t *testing.T) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.e.srv.URL+"/api/events", nil)
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	req = withCookies(c, req)
	res, err := c.h.Transport.RoundTrip(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &sse{events: make(chan sseEvent, 100), cancel: cancel}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				s.events <- sseEvent{name: "comment", data: line}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
		close(s.events)
	}()
	t.Cleanup(cancel)
	return s
}

func withCookies(c *client, req *http.Request) *http.Request {
	if c.h.Jar != nil {
		for _, ck := range c.h.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
	}
	if c.h.Transport == nil {
		c.h.Transport = http.DefaultTransport
	}
	return req
}

// next waits for the next event named name (skipping others).
func (s *sse) next(t *testing.T, name string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("event stream ended waiting for %s", name)
			}
			if ev.name == name {
				return ev.data
			}
		case <-timeout:
			t.Fatalf("no %s event", name)
		}
	}
}

func TestFlowSQLite(t *testing.T) { testFlow(t, sqliteDSN(t)) }

func TestFlowPostgres(t *testing.T) { testFlow(t, pgtest.DSN(t)) }

// testFlow: register (one with a funded invite), log in, quote, pay,
// history and stats, and the payee's event stream reports the payment and
// the new balance; retries, conflicts, curves, expiry and overdrafts.
func testFlow(t *testing.T, dsn string) {
	e := newEnv(t, dsn)
	code := e.invite("1000")
	alice := e.user("alice", "alice-password", code)
	bob := e.user("bob", "bob-password", "")

	var me sessionJSON
	alice.do("GET", "/api/auth/load", nil).decode(t, &me)
	if me.User.Username != "alice" || me.User.Balance != "1000" || me.CSRFToken != alice.csrf || me.User.Email != "alice@mail.test" {
		t.Errorf("load: %+v", me)
	}

	stream := bob.events(t)
	if b := stream.next(t, "balance"); b != `{"balance":"0"}` {
		t.Errorf("first balance event %s", b)
	}

	// Quote by source amount, pay it.
	r := alice.do("POST", "/api/payments/quote", map[string]string{"destination": "bob@wallet.test", "sourceAmount": "100"})
	expect(t, "quote", r, 200, "")
	var q quoteJSON
	r.decode(t, &q)
	if q.SourceAmount == nil || *q.SourceAmount != 100 || *q.DestinationAmount != 100 || !q.Local || q.SourceCurrencyScale != 9 || q.ID == "" {
		t.Fatalf("quote %s", r.body)
	}
	if !strings.Contains(string(r.body), `"sourceAmount":"100"`) {
		t.Errorf("amounts are not strings: %s", r.body)
	}
	pay := map[string]string{"quoteId": q.ID, "sourceAmount": "100", "destinationAmount": "100", "message": "lunch"}
	r = alice.do("PUT", "/api/payments/p1", pay)
	expect(t, "pay", r, 200, "")
	var p paymentJSON
	r.decode(t, &p)
	if p.ID != "p1" || p.State != "success" || p.SourceAmount != "100" || p.Counterparty != "bob@wallet.test" {
		t.Errorf("payment %s", r.body)
	}

	// Bob's stream reports it.
	var got paymentJSON
	if err := json.Unmarshal([]byte(stream.next(t, "payment")), &got); err != nil || got.Direction != "incoming" ||
		got.SourceAmount != "100" || got.Message != "lunch" || got.Counterparty != "alice@wallet.test" || got.State != "success" {
		t.Errorf("payment event %+v %v", got, err)
	}
	if b := stream.next(t, "balance"); b != `{"balance":"100"}` {
		t.Errorf("balance event %s", b)
	}

	// A retry answers the same payment; another body under the id conflicts.
	r = alice.do("PUT", "/api/payments/p1", pay)
	expect(t, "retry", r, 200, "")
	pay["message"] = "dinner"
	expect(t, "conflict", alice.do("PUT", "/api/payments/p1", pay), 409, "PaymentConflictError")
	if a, b := e.balance("alice"), e.balance("bob"); a != "900" || b != "100" {
		t.Errorf("alice %s bob %s", a, b)
	}

	// Wrong amounts for the quote.
	r = alice.do("POST", "/api/payments/quote", map[string]string{"destination": "bob", "destinationAmount": "50"})
	r.decode(t, &q)
	expect(t, "mismatch", alice.do("PUT", "/api/payments/p2", map[string]string{"quoteId": q.ID, "sourceAmount": "51", "destinationAmount": "50"}), 422, "AmountMismatchError")

	// A curve, and a payment computed from it.
	r = alice.do("GET", "/api/payments/curve?destination=bob", nil)
	expect(t, "curve", r, 200, "")
	var cq quoteJSON
	r.decode(t, &cq)
	if len(cq.Points) < 2 || cq.SourceAmount != nil || cq.AppliesToPrefix == "" || cq.DestinationCurrencyScale != 9 {
		t.Fatalf("curve %s", r.body)
	}
	expect(t, "pay from curve", alice.do("PUT", "/api/payments/p3", map[string]string{"quoteId": cq.ID, "sourceAmount": "25", "destinationAmount": "25"}), 200, "")

	// Overdraft: refused, recorded as failed, the retry says the same.
	r = alice.do("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "5000"})
	r.decode(t, &q)
	over := map[string]string{"quoteId": q.ID, "sourceAmount": "5000", "destinationAmount": "5000"}
	expect(t, "overdraft", alice.do("PUT", "/api/payments/p4", over), 422, "InsufficientFundsError")
	expect(t, "overdraft again", alice.do("PUT", "/api/payments/p4", over), 422, "InsufficientFundsError")

	// An expired quote.
	r = alice.do("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "1"})
	r.decode(t, &q)
	e.clock.Advance(6 * time.Minute)
	expect(t, "expired", alice.do("PUT", "/api/payments/p5", map[string]string{"quoteId": q.ID, "sourceAmount": "1", "destinationAmount": "1"}), 409, "QuoteExpiredError")
	expect(t, "unknown quote", alice.do("PUT", "/api/payments/p6", map[string]string{"quoteId": "nope", "sourceAmount": "1", "destinationAmount": "1"}), 404, "QuoteNotFoundError")
	expect(t, "bad id", alice.do("PUT", "/api/payments/bad!id", map[string]string{"quoteId": q.ID, "sourceAmount": "1", "destinationAmount": "1"}), 400, "InvalidPaymentIdError")
	expect(t, "unknown receiver", alice.do("POST", "/api/payments/quote", map[string]string{"destination": "carol", "sourceAmount": "1"}), 404, "ReceiverNotFoundError")
	expect(t, "oneself", alice.do("POST", "/api/payments/quote", map[string]string{"destination": "alice", "sourceAmount": "1"}), 400, "InvalidDestinationError")
	expect(t, "both amounts", alice.do("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "1", "destinationAmount": "1"}), 400, "InvalidAmountError")
	expect(t, "zero", alice.do("POST", "/api/payments/quote", map[string]string{"destination": "bob", "sourceAmount": "0"}), 400, "InvalidAmountError")

	// History, newest first, in pages.
	type page struct {
		Payments   []paymentJSON `json:"payments"`
		NextCursor *string       `json:"nextCursor"`
	}
	var all page
	alice.do("GET", "/api/payments?limit=100", nil).decode(t, &all)
	if len(all.Payments) != 3 || all.NextCursor != nil {
		t.Fatalf("history %+v", all)
	}
	var ids []string
	cursor := ""
	for i := 0; i < 5; i++ {
		var pg page
		r := alice.do("GET", "/api/payments?limit=1&cursor="+cursor, nil)
		expect(t, "page", r, 200, "")
		r.decode(t, &pg)
		for _, p := range pg.Payments {
			ids = append(ids, p.ID+":"+p.State)
		}
		if pg.NextCursor == nil {
			break
		}
		cursor = *pg.NextCursor
	}
	if strings.Join(ids, ",") != "p4:failed,p3:success,p1:success" {
		t.Errorf("pages %v", ids)
	}
	expect(t, "bad cursor", alice.do("GET", "/api/payments?cursor=bm90LWEtY3Vyc29y", nil), 400, "InvalidQueryError")
	expect(t, "big limit", alice.do("GET", "/api/payments?limit=101", nil), 400, "InvalidQueryError")
	var bobs page
	bob.do("GET", "/api/payments", nil).decode(t, &bobs)
	if len(bobs.Payments) != 2 || bobs.Payments[0].Direction != "incoming" {
		t.Errorf("bob's history %+v", bobs)
	}

	// Stats per counterparty.
	var st []struct {
		Counterparty string
		SentCount    int64
		Sent         string
	}
	alice.do("GET", "/api/payments/stats", nil).decode(t, &st)
	if len(st) != 1 || st[0].Counterparty != "bob@wallet.test" || st[0].SentCount != 2 || st[0].Sent != "125" {
		t.Errorf("stats %+v", st)
	}

	// Parse a destination.
	var d map[string]any
	r = alice.do("GET", "/api/parse/destination?destination=bob@wallet.test", nil)
	expect(t, "parse", r, 200, "")
	r.decode(t, &d)
	if d["name"] != "Bob" || d["currencyCode"] != "USD" || d["currencySymbol"] != "$" || d["identifier"] != "bob@wallet.test" ||
		!strings.HasSuffix(d["imageUrl"].(string), "/users/bob/profilepic") {
		t.Errorf("parse %v", d)
	}
	expect(t, "parse unknown", alice.do("GET", "/api/parse/destination?destination=nobody", nil), 404, "ReceiverNotFoundError")

	// The stream beats while idle.
	e.clock.Advance(Heartbeat)
	if c := stream.next(t, "comment"); c != ": heartbeat" {
		t.Errorf("heartbeat %q", c)
	}

	// Logging out ends the session.
	expect(t, "logout", bob.do("POST", "/api/auth/logout", nil), 204, "")
	expect(t, "after logout", bob.do("GET", "/api/auth/load", nil), 401, "UnauthorizedError")
	// ... and, at its next heartbeat, the session's event stream.
	e.clock.Advance(Heartbeat)
	stream.waitEnd(t)
	e.checkSum()
}

// waitEnd waits for the stream to end.
func (s *sse) waitEnd(t *testing.T) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			if ev.name != "comment" {
				t.Errorf("event after the end: %+v", ev)
			}
		case <-timeout:
			t.Fatal("the stream did not end")
		}
	}
}

// TestEventsEnd: Close ends the open streams (at shutdown), and a revoked
// bearer token ends its stream at the next heartbeat.
func TestEventsEnd(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	alice := e.user("alice", "alice-password", "")
	var tok tokenJSON
	alice.do("POST", "/api/tokens", map[string]string{"name": "t"}).decode(t, &tok)
	bearer := e.client()
	bearer.authz = "Bearer " + tok.Token
	s1 := bearer.events(t)
	s1.next(t, "balance")
	expect(t, "revoke", alice.do("DELETE", "/api/tokens/"+jsonInt(tok.ID), nil), 204, "")
	e.clock.Advance(Heartbeat)
	s1.waitEnd(t)

	s2 := alice.events(t)
	s2.next(t, "balance")
	e.s.Close()
	s2.waitEnd(t)
}
