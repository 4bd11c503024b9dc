package virtual

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// leanClient sends the RPC calls of a plugin that has no HTTP client of its
// own (Options.HTTPClient nil) to a plain http:// endpoint reached without a
// proxy. It holds HTTP/1.1 keep-alive connections itself and makes each call
// in the calling goroutine: it writes the request, then reads the reply
// with net/http's parser (http.ReadResponse, so chunked or
// Content-Length bodies and "Connection: close" are handled as net/http
// handles them). http.Transport hands every request to a writer goroutine
// and every reply from a reader goroutine, and allocates its bookkeeping
// per request; on a 2-core machine running two connectors those handoffs
// were a fifth of the CPU of a payment. The request on the wire is what
// http.Transport sent, less its Accept-Encoding: gzip (replies are small
// JSON).
type leanClient struct {
	addr    string // host:port to dial
	head    string // the request line's end and the header, up to Content-Length's value
	path    string // path and query of the RPC URI, then "?" or "&" and "method="
	dialer  net.Dialer
	maxIdle int

	mu   sync.Mutex
	idle []*leanConn
}

type leanConn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// newLeanClient returns a lean client for rpcURI, whose calls carry header,
// or nil when the URI is not a plain http:// URL or a proxy is configured
// for it.
func newLeanClient(rpcURI string, header http.Header) *leanClient {
	u, err := url.Parse(rpcURI)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.User != nil {
		return nil
	}
	if proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err != nil || proxy != nil {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	var h strings.Builder
	if err := header.Write(&h); err != nil {
		return nil
	}
	sep := "?"
	if strings.Contains(rpcURI, "?") {
		sep = "&"
	}
	return &leanClient{
		addr:    addr,
		head:    " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: Go-http-client/1.1\r\n" + h.String() + "Content-Length: ",
		path:    u.RequestURI() + sep + "method=",
		maxIdle: 1024,
		dialer:  net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
	}
}

// do posts body as call method (with the query's prefix parameter) and
// reads the reply's body into buf, up to max+1 bytes. A call that fails on
// a connection the peer had closed while it was idle (nothing of the reply
// read) is made again once on a new connection when retry is set: every
// call but send_request is safe to repeat, the peer taking a repeat as a
// no-op, as http.Transport does for requests it knows are safe to repeat.
// The call ends at deadline at the latest, or when ctx ends.
func (lc *leanClient) do(ctx context.Context, deadline time.Time, method, prefix string, body []byte, buf *bytes.Buffer, max int, retry bool) (int, error) {
	status, stale, err := lc.try(ctx, deadline, method, prefix, body, buf, max, true)
	if stale && retry {
		buf.Reset()
		status, _, err = lc.try(ctx, deadline, method, prefix, body, buf, max, false)
	}
	return status, err
}

// try makes one call, on an idle connection when reuse is set and there is
// one, else on a new one. stale reports a failure on a reused connection
// before anything of the reply was read.
func (lc *leanClient) try(ctx context.Context, deadline time.Time, method, prefix string, body []byte, buf *bytes.Buffer, max int, reuse bool) (status int, stale bool, err error) {
	var cn *leanConn
	if reuse {
		cn = lc.get()
	}
	reused := cn != nil
	if cn == nil {
		dctx, cancel := context.WithDeadline(ctx, deadline)
		c, err := lc.dialer.DialContext(dctx, "tcp", lc.addr)
		cancel()
		if err != nil {
			return 0, false, err
		}
		cn = &leanConn{c: c, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 4096)}
	}
	_ = cn.c.SetDeadline(deadline)
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = cn.c.SetDeadline(time.Unix(1, 0)) })
	}
	status, keep, early, err := lc.exchange(cn, method, prefix, body, buf, max)
	if !stop() {
		// ctx ended during the call: the deadline was moved to the past.
		// A reply read in full stands; the connection is not reused.
		keep, early = false, false
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	if keep && err == nil {
		lc.put(cn)
	} else {
		cn.c.Close()
	}
	return status, reused && early && err != nil, err
}

// exchange writes one request and reads its reply. keep reports whether
// the connection may carry another call; early, a failure before anything
// of the reply was read.
func (lc *leanClient) exchange(cn *leanConn, method, prefix string, body []byte, buf *bytes.Buffer, max int) (status int, keep, early bool, err error) {
	w := cn.bw
	w.WriteString("POST ")
	w.WriteString(lc.path)
	w.WriteString(method)
	w.WriteString("&prefix=")
	w.WriteString(prefix)
	w.WriteString(lc.head)
	var nb [20]byte
	w.Write(strconv.AppendInt(nb[:0], int64(len(body)), 10))
	w.WriteString("\r\n\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return 0, false, true, err
	}
	if _, err := cn.br.Peek(1); err != nil {
		return 0, false, true, err
	}
	resp, err := http.ReadResponse(cn.br, nil)
	// Informational replies (such as 100 Continue) come before the reply,
	// as http.Transport skips them.
	for i := 0; err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols; i++ {
		if i == 5 {
			return 0, false, false, fmt.Errorf("too many informational replies")
		}
		resp, err = http.ReadResponse(cn.br, nil)
	}
	if err != nil {
		return 0, false, false, err
	}
	if err := readLimited(buf, resp.Body, max); err != nil {
		return 0, false, false, err
	}
	if buf.Len() > max {
		return resp.StatusCode, false, false, nil // not read to its end: the connection is closed
	}
	resp.Body.Close() // at its end: nothing left to drain
	return resp.StatusCode, !resp.Close, false, nil
}

func (lc *leanClient) get() *leanConn {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if n := len(lc.idle); n > 0 {
		cn := lc.idle[n-1]
		lc.idle[n-1] = nil
		lc.idle = lc.idle[:n-1]
		return cn
	}
	return nil
}

func (lc *leanClient) put(cn *leanConn) {
	lc.mu.Lock()
	if len(lc.idle) < lc.maxIdle {
		lc.idle = append(lc.idle, cn)
		cn = nil
	}
	lc.mu.Unlock()
	if cn != nil {
		cn.c.Close()
	}
}

// closeIdle closes the connections not in use.
func (lc *leanClient) closeIdle() {
	lc.mu.Lock()
	idle := lc.idle
	lc.idle = nil
	lc.mu.Unlock()
	for _, cn := range idle {
		cn.c.Close()
	}
}
