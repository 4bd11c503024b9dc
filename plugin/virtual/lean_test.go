package virtual

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// TestLeanClient checks the lean client's HTTP against net/http's server:
// the request it writes, keep-alive reuse, chunked and "Connection: close"
// replies, a peer that closed an idle connection, a reply over the limit
// and a context that ends during a call.
func TestLeanClient(t *testing.T) {
	var conns atomic.Int32
	var lastBody, lastQuery, lastAuth, lastType atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lastBody.Store(string(b))
		lastQuery.Store(r.URL.RawQuery)
		lastAuth.Store(r.Header.Get("Authorization"))
		lastType.Store(r.Header.Get("Content-Type"))
		switch r.URL.Query().Get("method") {
		case "chunked":
			w.Write([]byte(`"part one `))
			w.(http.Flusher).Flush()
			w.Write([]byte(`part two"`))
		case "continue":
			w.WriteHeader(http.StatusContinue)
			w.Write([]byte("true"))
		case "close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("true"))
		case "big":
			w.Write(bytes.Repeat([]byte("x"), 5000))
		case "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		default:
			w.Write([]byte("true"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	header := http.Header{"Content-Type": contentTypeJSON, "Authorization": {"Bearer tok"}}
	lc := newLeanClient(srv.URL+"/rpc?x=1", header)
	if lc == nil {
		t.Fatal("no lean client for a plain http URL")
	}
	defer lc.closeIdle()
	ctx := context.Background()
	call := func(method string, max int) (int, string, error) {
		var buf bytes.Buffer
		status, err := lc.do(ctx, time.Now().Add(10*time.Second), method, "peer.x.usd.9.", []byte(`["a"]`), &buf, max, true)
		return status, buf.String(), err
	}

	for range 3 {
		if status, body, err := call("plain", 1000); err != nil || status != 200 || body != "true" {
			t.Fatalf("plain: %d %q %v", status, body, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 calls in a row, want 1", n)
	}
	if q := lastQuery.Load(); q != "x=1&method=plain&prefix=peer.x.usd.9." {
		t.Errorf("query %q", q)
	}
	if lastBody.Load() != `["a"]` || lastAuth.Load() != "Bearer tok" || lastType.Load() != "application/json" {
		t.Errorf("request body %q, authorization %q, content type %q", lastBody.Load(), lastAuth.Load(), lastType.Load())
	}

	if status, body, err := call("continue", 1000); err != nil || status != 200 || body != "true" {
		t.Fatalf("after a 100 Continue: %d %q %v", status, body, err)
	}
	if status, body, err := call("chunked", 1000); err != nil || status != 200 || body != `"part one part two"` {
		t.Fatalf("chunked: %d %q %v", status, body, err)
	}
	before := conns.Load()
	if _, body, err := call("close", 1000); err != nil || body != "true" {
		t.Fatalf("close: %q %v", body, err)
	}
	if _, _, err := call("plain", 1000); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != before+1 {
		t.Errorf("after a Connection: close reply: %d new connections, want 1", n-before)
	}

	// The peer closes the idle connections: the next call is made again on
	// a new one.
	srv.CloseClientConnections()
	if status, body, err := call("plain", 1000); err != nil || status != 200 || body != "true" {
		t.Fatalf("after the peer closed the idle connection: %d %q %v", status, body, err)
	}

	// A reply over the limit: max+1 bytes read, the connection dropped.
	if _, body, err := call("big", 100); err != nil || len(body) != 101 {
		t.Fatalf("big: %d bytes, %v", len(body), err)
	}
	if status, body, err := call("plain", 1000); err != nil || status != 200 || body != "true" {
		t.Fatalf("after a reply over the limit: %d %q %v", status, body, err)
	}

	// A context that ends during the call.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	var buf bytes.Buffer
	start := time.Now()
	_, err := lc.do(cctx, time.Now().Add(10*time.Second), "slow", "peer.x.usd.9.", []byte(`[]`), &buf, 1000, true)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("slow call with a 100 ms context: %v after %s", err, time.Since(start))
	}
	// A context cancelled during the call.
	cctx, cancel = context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = lc.do(cctx, time.Now().Add(10*time.Second), "slow", "peer.x.usd.9.", []byte(`[]`), &buf, 1000, true)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Fatalf("slow call cancelled after 100 ms: %v after %s", err, time.Since(start))
	}
	// The call's own deadline, with a context that never ends.
	start = time.Now()
	_, err = lc.do(context.Background(), time.Now().Add(100*time.Millisecond), "slow", "peer.x.usd.9.", []byte(`[]`), &buf, 1000, true)
	if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("slow call with a 100 ms deadline: %v after %s", err, time.Since(start))
	}
	if status, body, err := call("plain", 1000); err != nil || status != 200 || body != "true" {
		t.Fatalf("after a call that timed out: %d %q %v", status, body, err)
	}
}

func TestLeanClientOnlyForPlainHTTP(t *testing.T) {
	for _, u := range []string{"https://kit.example/api/peers/rpc", "http://user:pw@kit.example/rpc", "ftp://x/", "::"} {
		if newLeanClient(u, http.Header{}) != nil {
			t.Errorf("lean client for %s", u)
		}
	}
}
