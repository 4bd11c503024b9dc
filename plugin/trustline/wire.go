package trustline

// The wire format shared by the Handler and the Client: frames, error
// bodies, the LPI error names and their HTTP statuses, and the encoding of
// events. See "Wire interface" in the package doc.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/coder/websocket"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// Method names of the wire interface (the 2017 plugin RPC names, plus the
// two WebSocket-only calls that tell the server whether the client answers
// requests).
const (
	methodGetInfo            = "get_info"
	methodGetBalance         = "get_balance"
	methodGetLimit           = "get_limit"
	methodSendTransfer       = "send_transfer"
	methodSendRequest        = "send_request"
	methodFulfillCondition   = "fulfill_condition"
	methodRejectIncoming     = "reject_incoming_transfer"
	methodExpireTransfer     = "expire_transfer"
	methodGetFulfillment     = "get_fulfillment"
	methodRegisterHandler    = "register_request_handler"
	methodDeregisterHandler  = "deregister_request_handler"
	defaultMaxBodyBytes      = 1 << 20
	nameUnauthorized         = "UnauthorizedError"
	messageUnauthorized      = "missing or unknown bearer token"
	maxClientFrameBytesExtra = 1 << 20 // room a server frame has beyond the body limit (an event carries a transfer and a rejection)

	// headerBatch, in the WebSocket handshake request and response, tells
	// the other side that the sender reads batch frames (a JSON array of
	// messages) of up to that many bytes.
	headerBatch = "Trustline-Batch"
	// maxBatchBytes bounds the batch frames a side writes.
	maxBatchBytes = 256 << 10
)

// batchLimit returns the size of the batch frames to write to a peer that
// sent header value v: 0 (no batches) without a valid value.
func batchLimit(v string) int {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 2 {
		return 0
	}
	return int(min(n, maxBatchBytes))
}

// paramCount is the number of parameters of each method; a method that is
// not in the map does not exist.
var paramCount = map[string]int{
	methodGetInfo:           0,
	methodGetBalance:        0,
	methodGetLimit:          0,
	methodSendTransfer:      1,
	methodSendRequest:       1,
	methodFulfillCondition:  2,
	methodRejectIncoming:    2,
	methodExpireTransfer:    1,
	methodGetFulfillment:    1,
	methodRegisterHandler:   0,
	methodDeregisterHandler: 0,
}

// wsOnly lists the methods that only make sense on a WebSocket.
func wsOnly(method string) bool {
	return method == methodRegisterHandler || method == methodDeregisterHandler
}

// wireError is the error of a call: the body of an HTTP error status, the
// "error" member of a WebSocket reply.
type wireError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// frame is one WebSocket message. A call has Method (and an ID unless it
// is never answered), a reply has ID and Result or Error, an event has
// Event. Params holds the parameters of a call or an event.
type frame struct {
	ID     json.RawMessage   `json:"id,omitempty"`
	Method string            `json:"method,omitempty"`
	Params []json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage   `json:"result,omitempty"`
	Error  *wireError        `json:"error,omitempty"`
	Event  string            `json:"event,omitempty"`
}

// errNoSuchMethod marks a call of a method the interface does not have. It
// crosses the wire as InvalidFieldsError with status 404.
var errNoSuchMethod = errors.New("trustline: no such method")

// toWire returns the name and message sent for err.
func toWire(err error) wireError {
	name, msg := ledger.WireError(err)
	return wireError{Name: name, Message: msg}
}

// fromWire returns the error a peer reported: a *ledger.PluginError whose
// sentinel makes errors.Is work (DuplicateIdError is ledger.ErrDuplicateID),
// keeping the peer's message.
func fromWire(e *wireError) error {
	if e.Name == nameUnauthorized {
		return fmt.Errorf("%w: %s", ErrUnauthorized, e.Message)
	}
	return ledger.ErrorFromWire(e.Name, e.Message)
}

// statusOf returns the HTTP status of an error: 400 for invalid input, 404
// for something that does not exist, 409 for a used transfer id, 422 for
// a refusal of a well-formed call, 503 when the ledger cannot be reached,
// 500 for anything else.
func statusOf(err error) int {
	if errors.Is(err, errNoSuchMethod) {
		return http.StatusNotFound
	}
	switch ledger.ErrorName(err) {
	case ledger.NameInvalidFields, ledger.NameMaximumILPDataSizeExceeded, ledger.NameMaximumCustomDataSizeExceeded:
		return http.StatusBadRequest
	case ledger.NameTransferNotFound, ledger.NameAccountNotFound:
		return http.StatusNotFound
	case ledger.NameDuplicateID:
		return http.StatusConflict
	case ledger.NameNotAccepted, ledger.NameInsufficientBalance, ledger.NameAlreadyFulfilled, ledger.NameAlreadyRolledBack,
		ledger.NameMissingFulfillment, ledger.NameTransferNotConditional, ledger.NameNoSubscriptions,
		ledger.NameRequestHandlerAlreadyRegistered, ledger.NameHoldsNotSupported, ledger.NameExpiryNotSupported:
		return http.StatusUnprocessableEntity
	case ledger.NameUnreachable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// readMessage reads the next message as ws.Read does, into buf (kept
// between calls, so the message grows it only the first time) and then
// one allocation of the message's size.
func readMessage(ctx context.Context, ws *websocket.Conn, buf *[]byte) (websocket.MessageType, []byte, error) {
	typ, r, err := ws.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	b := (*buf)[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 4096)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	if cap(b) <= 1<<20 {
		*buf = b[:0] // a buffer grown by a huge message is not kept
	}
	return typ, bytes.Clone(b), nil
}

// decodeParam decodes parameter i of a call into v; what names it in the
// error.
func decodeParam(params []json.RawMessage, i int, v any, what string) error {
	if err := json.Unmarshal(params[i], v); err != nil {
		if errors.Is(err, ledger.ErrInvalidFields) || errors.Is(err, ledger.ErrInvalidTransfer) || errors.Is(err, ilp.ErrInvalidCondition) {
			var pe *ledger.PluginError
			if errors.As(err, &pe) {
				return err
			}
			return ledger.Errorf(ledger.ErrInvalidFields, "parameter %d (%s) is invalid", i+1, what)
		}
		return ledger.Errorf(ledger.ErrInvalidFields, "parameter %d is not %s", i+1, what)
	}
	return nil
}

// mustJSON encodes v, which cannot fail for the types of this package.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("trustline: encoding %T: %v", v, err))
	}
	return b
}

// infoJSON returns the result of get_info: the LedgerInfo JSON with
// "account" added.
func infoJSON(info ledger.LedgerInfo, account string) (json.RawMessage, error) {
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(bytes.TrimSpace(b), []byte("}"))
	b = append(b, `,"account":`...)
	b = append(b, mustJSON(account)...)
	return append(b, '}'), nil
}

// parseInfo reads the result of get_info.
func parseInfo(raw json.RawMessage) (ledger.LedgerInfo, string, error) {
	var info ledger.LedgerInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return info, "", err
	}
	var acct struct {
		Account string `json:"account"`
	}
	if err := json.Unmarshal(raw, &acct); err != nil {
		return info, "", err
	}
	if acct.Account == "" {
		return info, "", errors.New("get_info result has no account")
	}
	return info, acct.Account, nil
}

// limitJSON is the result of get_limit.
type limitJSON struct {
	Minimum *string `json:"minimum"`
	Maximum *string `json:"maximum"`
}

func boundString(b ledger.Bound) *string {
	v, ok := b.Value()
	if !ok {
		return nil
	}
	s := v.String()
	return &s
}

// encodeEvent returns the frame of an event, or false for the events that
// do not cross the wire (connect and disconnect belong to each side).
// Incoming transfers never carry the sender's note to self. The frame is
// assembled from the values' own JSON, which is not checked again: what
// the server holds was checked when it came in.
func encodeEvent(ev ledger.Event) ([]byte, bool) {
	if ev.Kind == ledger.EventConnect || ev.Kind == ledger.EventDisconnect {
		return nil, false
	}
	name := ev.Kind.String()
	b := make([]byte, 0, 512)
	b = append(b, `{"event":"`...)
	b = append(b, name...)
	b = append(b, `","params":[`...)
	var err error
	if ev.Kind == ledger.EventInfoChange {
		var p []byte
		if p, err = ev.Info.MarshalJSON(); err != nil {
			return nil, false
		}
		b = append(b, p...)
		return append(b, "]}"...), true
	}
	t := ev.Transfer
	if ev.Kind.Incoming() {
		t.NoteToSelf = nil
	}
	if b, err = transferJSON(b, &t); err != nil {
		return nil, false
	}
	switch ev.Kind {
	case ledger.EventIncomingFulfill, ledger.EventOutgoingFulfill:
		b = append(b, `,"`...)
		b = append(b, ev.Fulfillment.String()...) // base64url: nothing to escape
		b = append(b, '"')
	case ledger.EventIncomingReject, ledger.EventIncomingCancel, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
		p, err := ev.Rejection.MarshalJSON()
		if err != nil {
			return nil, false
		}
		b = append(append(b, ','), p...)
	}
	return append(b, "]}"...), true
}

// resultFrame returns the reply to call id (valid JSON read from the
// caller's frame) with result (JSON this package made).
func resultFrame(id, result json.RawMessage) []byte {
	b := make([]byte, 0, len(id)+len(result)+20)
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	return append(b, '}')
}

// callFrame returns a call of method (a name of this package) with id and
// params (valid JSON).
func callFrame(id uint64, method string, params []json.RawMessage) []byte {
	n := 40 + len(method)
	for _, p := range params {
		n += len(p) + 1
	}
	ps := make([][]byte, len(params))
	for i, p := range params {
		ps[i] = p
	}
	return appendCall(make([]byte, 0, n), id, method, ps)
}

// appendCall appends a call of method with id and params (valid JSON).
func appendCall(b []byte, id uint64, method string, params [][]byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `,"method":"`...)
	b = append(b, method...)
	b = append(b, `","params":[`...)
	for i, p := range params {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	return append(b, "]}"...)
}

// encodeParam encodes a parameter of a call as json.Marshal does.
func encodeParam(p any) ([]byte, error) {
	switch v := p.(type) {
	case ledger.Transfer:
		if b, ok := appendTransfer(nil, &v); ok {
			return b, nil
		}
	case string:
		if b, ok := appendPlain(nil, v); ok {
			return b, nil
		}
	}
	return json.Marshal(p)
}

// decodeEvent reads an event frame, with the strings of its transfer
// interned in in (nil: none).
func decodeEvent(f *frame, in interner) (ledger.Event, error) {
	kind, ok := ledger.ParseEventKind(f.Event)
	if !ok || kind == ledger.EventConnect || kind == ledger.EventDisconnect {
		return ledger.Event{}, fmt.Errorf("unknown event %q", f.Event)
	}
	ev := ledger.Event{Kind: kind}
	want := 1
	switch kind {
	case ledger.EventIncomingFulfill, ledger.EventOutgoingFulfill,
		ledger.EventIncomingReject, ledger.EventIncomingCancel, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
		want = 2
	}
	if len(f.Params) != want {
		return ev, fmt.Errorf("event %s has %d parameters, want %d", f.Event, len(f.Params), want)
	}
	if kind == ledger.EventInfoChange {
		return ev, json.Unmarshal(f.Params[0], &ev.Info)
	}
	if err := decodeTransfer(f.Params[0], &ev.Transfer, in); err != nil {
		return ev, err
	}
	if want == 2 {
		if kind == ledger.EventIncomingFulfill || kind == ledger.EventOutgoingFulfill {
			s, err := decodeString(f.Params[1])
			if err != nil {
				return ev, err
			}
			fl, err := ilp.ParseFulfillment(s)
			if err != nil {
				return ev, err
			}
			ev.Fulfillment = fl
		} else if err := json.Unmarshal(f.Params[1], &ev.Rejection); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// callID returns the numeric id of a reply, or false.
func callID(raw json.RawMessage) (uint64, bool) {
	n, err := strconv.ParseUint(string(bytes.TrimSpace(raw)), 10, 64)
	return n, err == nil
}
