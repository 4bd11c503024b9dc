package virtual

// The RPC of ilp-plugin-virtual 16 (RFC 0021 and PROTOCOLS.md 8.2): each
// call is POST <rpcUri>?method=<m>&prefix=<prefix> with "Authorization:
// Bearer <authToken>" and a JSON array of positional parameters; a 200
// reply carries the result as JSON.
//
// Errors. The 2017 servers (ILP Kit's /api/peers/rpc, the connector's
// /rpc) wrote {id: error name, message} and meant to send it with status
// 422, but Koa dropped the status and it went out as 200, while the 2017
// client took any 200 as success and any other status as failure. This
// server therefore sends its errors as {id, message} with status 422, so
// that a 2017 peer sees them as failures; this client takes a non-200
// status as a failure and also a 200 whose body is an object with string
// id and message, as 2017 servers sent it, mapping the name back to the
// ledger package's sentinel.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// Limits of the RPC bodies.
const (
	maxRequestBody  = 1 << 20
	maxResponseBody = 4 << 20
)

// Status codes the server answers with.
const (
	statusError = http.StatusUnprocessableEntity // an LPI error, with an {id, message} body
)

// errorBody is the 2017 error reply.
type errorBody struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// contentTypeJSON is the Content-Type header value of every call, shared
// read-only.
var contentTypeJSON = []string{"application/json"}

// buffers holds the buffers the bodies are read into.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

// putBuffer returns b to the pool unless it grew large.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return
	}
	b.Reset()
	buffers.Put(b)
}

// call sends one RPC call and returns the raw result. Errors the peer
// reported are *ledger.PluginError values; transport failures are not.
func (p *Plugin) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	body, err := encodeParams(params)
	if err != nil {
		return nil, fmt.Errorf("virtual: %s: encoding params: %w", method, err)
	}
	// A request waits for the peer's handler as long as its context
	// allows; every other call is bounded by the plugin's timeout.
	deadline, has := ctx.Deadline()
	switch limit := time.Now().Add(p.timeout); {
	case !has:
		deadline = limit
	case method != "send_request" && limit.Before(deadline):
		deadline = limit
	}
	buf := getBuffer()
	var status int
	if p.lean != nil {
		status, err = p.lean.do(ctx, deadline, method, p.peering.Prefix, body, buf, maxResponseBody, method != "send_request")
		if status == 0 && err != nil {
			putBuffer(buf)
			return nil, fmt.Errorf("virtual: %s: %w: %w", method, ledger.ErrUnreachable, err)
		}
	} else {
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		resp, perr := p.post(ctx, p.rpcURL+method+"&prefix="+p.peering.Prefix, body)
		if perr != nil {
			putBuffer(buf)
			return nil, fmt.Errorf("virtual: %s: %w: %w", method, ledger.ErrUnreachable, perr)
		}
		err = readLimited(buf, resp.Body, maxResponseBody)
		status = resp.StatusCode
		resp.Body.Close()
	}
	raw := buf.Bytes()
	if err == nil && status == http.StatusOK && bytes.Equal(raw, jsonTrue) {
		putBuffer(buf)
		return jsonTrue, nil // the answer of most calls, shared read-only
	}
	raw = bytes.Clone(raw)
	putBuffer(buf)
	if err != nil {
		return nil, fmt.Errorf("virtual: %s: reading reply: %w: %w", method, ledger.ErrUnreachable, err)
	}
	if len(raw) > maxResponseBody {
		return nil, fmt.Errorf("virtual: %s: reply larger than %d bytes: %w", method, maxResponseBody, ledger.ErrUnreachable)
	}
	switch status {
	case http.StatusUnauthorized:
		return nil, ledger.NewError(ledger.ErrUnreachable, "the peer refused the call with 401: it may not have this kit as a peer yet")
	case http.StatusForbidden:
		return nil, ledger.NewError(ledger.ErrUnreachable, "the peer refused the token with 403")
	}
	if pe := wireError(raw); pe != nil {
		return nil, pe
	}
	if status == http.StatusOK {
		return raw, nil
	}
	return nil, fmt.Errorf("virtual: %s: peer answered HTTP %d: %w", method, status, ledger.ErrUnreachable)
}

// post sends one call. With a plain client (no cookie jar, no client
// timeout, no redirect policy) it goes straight to the transport, which
// saves http.Client's copy of the header and its redirect bookkeeping on
// every call; a redirect answer is then sent again through the client, so
// that it is followed as http.Client follows it.
func (p *Plugin) post(ctx context.Context, url string, body []byte) (*http.Response, error) {
	newReq := func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		// The header is the plugin's, shared read-only by every call (a
		// RoundTripper must not modify a request), unless the client has
		// a cookie jar, whose cookies http.Client adds to the header.
		if p.client.Jar == nil {
			req.Header = p.header
		} else {
			req.Header = p.header.Clone()
		}
		return req, nil
	}
	req, err := newReq()
	if err != nil {
		return nil, err
	}
	c := p.client
	if c.Jar != nil || c.Timeout != 0 || c.CheckRedirect != nil {
		return c.Do(req)
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if resp.Header.Get("Location") == "" {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
		resp.Body.Close()
		if req, err = newReq(); err != nil {
			return nil, err
		}
		return c.Do(req)
	}
	return resp, nil
}

// encodeParams writes the JSON array of a call's parameters, as
// json.Marshal(params) writes it ("[]" when there are none). Strings and
// the JSON of json.Marshalers (transfers, messages) are written directly;
// anything else, and any text json.Marshal would escape, goes through
// json.Marshal.
func encodeParams(params []any) ([]byte, error) {
	if len(params) == 0 {
		return []byte("[]"), nil
	}
	b := make([]byte, 0, 64)
	b = append(b, '[')
	for i, v := range params {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := v.(type) {
		case string:
			if !plainJSON(v) {
				return json.Marshal(params)
			}
			b = append(b, '"')
			b = append(b, v...)
			b = append(b, '"')
		case json.Marshaler:
			j, err := v.MarshalJSON()
			if err != nil || !compactJSON(j) {
				return json.Marshal(params)
			}
			b = append(b, j...)
		default:
			return json.Marshal(params)
		}
	}
	return append(b, ']'), nil
}

// plainJSON reports whether s is written in JSON as itself between quotes
// by json.Marshal: printable ASCII other than the quote, the backslash and
// the characters json.Marshal escapes for HTML.
func plainJSON[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// compactJSON reports whether json.Marshal would copy j as it is from a
// MarshalJSON method: no whitespace outside strings and nothing it escapes
// for HTML (it checks ASCII only; other bytes send j through json.Marshal).
// The marshalers that reach call are the ledger package's types, whose
// JSON comes from encoding/json, so j is not validated again.
func compactJSON(j []byte) bool {
	inString, escaped := false, false
	for _, c := range j {
		switch {
		case c >= 0x80 || c == '<' || c == '>' || c == '&':
			return false
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return false
		}
	}
	return len(j) > 0 && !inString
}

// readLimited reads r into buf, up to max+1 bytes (one more than max, to
// tell a body over the limit).
func readLimited(buf *bytes.Buffer, r io.Reader, max int) error {
	for buf.Len() <= max {
		if buf.Available() < 512 {
			buf.Grow(512)
		}
		b := buf.AvailableBuffer()
		b = b[:min(cap(b), max+1-buf.Len())]
		n, err := r.Read(b)
		buf.Write(b[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// wireError reads an {id, message} error reply, or returns nil when raw is
// something else.
func wireError(raw []byte) *ledger.PluginError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return nil
	}
	var id, msg string
	if json.Unmarshal(fields["id"], &id) != nil || json.Unmarshal(fields["message"], &msg) != nil || id == "" {
		return nil
	}
	return ledger.ErrorFromWire(id, msg)
}

// ServeHTTP answers the peer's RPC calls for this plugin alone: the same
// checks as a Mux holding only p.
func (p *Plugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serve(w, r, func(string) *Plugin { return p })
}

// Mux answers the RPC calls of several peers, each by its prefix: the
// kit's /api/peers/rpc and the connector's /rpc. The zero value is not
// usable; call NewMux.
type Mux struct {
	mu    sync.RWMutex
	peers map[string]*Plugin
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{peers: make(map[string]*Plugin)} }

// Add routes the calls for p's prefix to p, replacing a plugin of the same
// prefix.
func (m *Mux) Add(p *Plugin) {
	m.mu.Lock()
	m.peers[p.peering.Prefix] = p
	m.mu.Unlock()
}

// Remove stops routing calls for prefix.
func (m *Mux) Remove(prefix string) {
	m.mu.Lock()
	delete(m.peers, prefix)
	m.mu.Unlock()
}

// Plugin returns the plugin of prefix; the final "." may be left out, as in
// the RFC 0021 examples.
func (m *Mux) Plugin(prefix string) *Plugin {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if p, ok := m.peers[prefix]; ok {
		return p
	}
	if !strings.HasSuffix(prefix, ".") {
		return m.peers[prefix+"."]
	}
	return nil
}

// ServeHTTP finds the plugin by the prefix parameter, checks the bearer
// token and dispatches the call: 401 for a missing prefix or
// Authorization or an unknown prefix, 403 for a wrong token, 405 for
// anything but POST, 413 for a body over 1 MiB, 422 with {id, message}
// for an LPI error.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { serve(w, r, m.Plugin) }

func serve(w http.ResponseWriter, r *http.Request, find func(prefix string) *Plugin) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{ID: ledger.NameGeneric, Message: "use POST"})
		return
	}
	method, prefix := queryParams(r.URL)
	token, hasToken := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if prefix == "" || !hasToken || token == "" {
		writeJSON(w, http.StatusUnauthorized, errorBody{ID: ledger.NameGeneric, Message: "prefix and bearer token required"})
		return
	}
	p := find(prefix)
	if p == nil || (p.peering.Prefix != prefix && p.peering.Prefix != prefix+".") {
		writeJSON(w, http.StatusUnauthorized, errorBody{ID: ledger.NameGeneric, Message: "unknown peer"})
		return
	}
	if !p.peering.Authorized(strings.TrimSpace(token)) {
		writeJSON(w, http.StatusForbidden, errorBody{ID: ledger.NameGeneric, Message: "invalid token"})
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxRequestBody))
	body := buf.Bytes()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{ID: ledger.NameInvalidFields, Message: "request body too large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody{ID: ledger.NameInvalidFields, Message: "unreadable request body"})
		return
	}
	// The parameters alias buf, which goes back to the pool only when this
	// returns: receive decodes them into values of their own.
	var params []wireParam
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &params); err != nil {
			writeJSON(w, statusError, errorBody{ID: ledger.NameInvalidFields, Message: "body is not a JSON array of parameters"})
			return
		}
	}
	result, err := p.receive(r.Context(), method, params)
	if err != nil {
		name, msg := ledger.WireError(err)
		if name == ledger.NameGeneric {
			p.logger.Error("virtual: rpc call failed", "method", method, "err", err)
		} else {
			p.logger.Debug("virtual: rpc call refused", "method", method, "err", err)
		}
		writeJSON(w, statusError, errorBody{ID: name, Message: msg})
		return
	}
	writeJSON(w, http.StatusOK, result)
}

// jsonTrue is the reply of most calls.
var jsonTrue = []byte("true")

// queryParams returns the method and prefix parameters of an RPC URL, as
// u.Query().Get would, without building the map for a plain query (no
// escapes, no semicolons, a few parameters); anything else goes through
// u.Query().
func queryParams(u *url.URL) (method, prefix string) {
	q := u.RawQuery
	if strings.ContainsAny(q, "%+;") || strings.Count(q, "&") > 16 {
		v := u.Query()
		return v.Get("method"), v.Get("prefix")
	}
	var hasMethod, hasPrefix bool
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "method" && !hasMethod:
			method, hasMethod = v, true
		case k == "prefix" && !hasPrefix:
			prefix, hasPrefix = v, true
		}
	}
	return method, prefix
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	if t, ok := v.(bool); ok && t {
		b = jsonTrue
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			status, b = http.StatusInternalServerError, []byte(`{"id":"Error","message":"internal error"}`)
		}
	}
	w.Header()["Content-Type"] = contentTypeJSON // shared read-only
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// wireParam is one parameter of a call: like json.RawMessage, but it
// refers to the request body instead of copying it.
type wireParam []byte

// UnmarshalJSON keeps data, which the caller keeps unchanged while the
// parameter is in use.
func (w *wireParam) UnmarshalJSON(data []byte) error {
	*w = data
	return nil
}

// param decodes parameter i of a call into v.
func param(params []wireParam, i int, v any) error {
	if i >= len(params) {
		return ledger.Errorf(ledger.ErrInvalidFields, "missing parameter %d", i+1)
	}
	if err := decodeParam(params[i], v); err != nil {
		if errors.Is(err, ledger.ErrInvalidFields) || errors.Is(err, ledger.ErrInvalidTransfer) {
			return ledger.Errorf(ledger.ErrInvalidFields, "parameter %d is invalid", i+1)
		}
		return ledger.Errorf(ledger.ErrInvalidFields, "parameter %d is not valid JSON of the right type", i+1)
	}
	return nil
}

// decodeParam is json.Unmarshal(p, v) for a parameter of a request body
// that json.Unmarshal has read (so p is one complete, valid JSON value
// with no space around it). For such a p, json.Unmarshal into a
// json.Unmarshaler (a transfer, a message) checks p again and passes it to
// its UnmarshalJSON, which is called here directly; a string without
// escapes or other than printable ASCII is taken as it is; anything else
// goes through json.Unmarshal.
func decodeParam(p []byte, v any) error {
	switch v := v.(type) {
	case json.Unmarshaler:
		return v.UnmarshalJSON(p)
	case *string:
		if n := len(p); n >= 2 && p[0] == '"' && p[n-1] == '"' && plainJSON(p[1:n-1]) {
			*v = string(p[1 : n-1])
			return nil
		}
	}
	return json.Unmarshal(p, v)
}

// receive runs one call of the peer.
func (p *Plugin) receive(ctx context.Context, method string, params []wireParam) (any, error) {
	if !p.gate.Enter() {
		return nil, ledger.NewError(ledger.ErrNotConnected, "the plugin is not connected")
	}
	defer p.gate.Exit()
	switch method {
	case "send_transfer":
		var t ledger.Transfer
		if err := param(params, 0, &t); err != nil {
			return nil, err
		}
		return true, p.handleTransfer(ctx, t)
	case "send_request":
		var m ledger.Message
		if err := param(params, 0, &m); err != nil {
			return nil, err
		}
		return p.handleRequest(ctx, m)
	case "send_message":
		// Legacy: 2017 emitted incoming_message, which the LPI of this
		// module does not have. Accepted and dropped.
		p.logger.Debug("virtual: legacy send_message ignored")
		return true, nil
	case "fulfill_condition":
		var id, f string
		if err := param(params, 0, &id); err != nil {
			return nil, err
		}
		if err := param(params, 1, &f); err != nil {
			return nil, err
		}
		return true, p.handleFulfill(ctx, id, f)
	case "reject_incoming_transfer":
		var id string
		if err := param(params, 0, &id); err != nil {
			return nil, err
		}
		var reason ledger.Rejection
		if len(params) > 1 {
			_ = json.Unmarshal(params[1], &reason) // informational: never refused
		}
		return true, p.handleReject(ctx, id, reason)
	case "expire_transfer":
		var id string
		if err := param(params, 0, &id); err != nil {
			return nil, err
		}
		return true, p.handleExpire(ctx, id)
	case "get_limit":
		return *p.maxStr.Load(), nil
	case "get_balance":
		v, err := p.bal.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("virtual: balance: %w", err)
		}
		return v.String(), nil
	case "get_info":
		return p.Info(), nil
	}
	return nil, ledger.Errorf(ledger.ErrInvalidFields, "unknown method %q", method)
}

// negatedBound reads a limit or balance the peer sent as a JSON string (or
// number) and negates it. "Infinity" reads as no limit.
func negatedBound(raw json.RawMessage) (ledger.Bound, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(bytes.TrimSpace(raw))
	}
	s = strings.TrimSpace(s)
	switch s {
	case "Infinity", "+Infinity", "-Infinity":
		return ledger.Unlimited(), nil
	}
	v, err := ledger.ParseInt128(s)
	if err != nil {
		return ledger.Bound{}, ledger.Errorf(ledger.ErrInvalidFields, "peer sent %q, not an integer", s)
	}
	n, err := v.Neg()
	if err != nil {
		return ledger.Bound{}, ledger.Errorf(ledger.ErrInvalidFields, "peer sent %q, out of range", s)
	}
	return ledger.Limit(n), nil
}
