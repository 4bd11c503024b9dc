package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
)

// Message is a Ledger Plugin Interface v1 message: the request and the
// response of SendRequest (ILQP quotes, route broadcasts). ILP is the ILP
// packet in base64 as carried on the wire, kept as the peer wrote it (2017
// connectors sent padded standard base64 here). Custom is a JSON object kept
// verbatim. A request and its response share the ID.
type Message struct {
	ID     string
	Ledger string
	From   string
	To     string
	ILP    string
	Custom json.RawMessage
}

// messageJSON is the 2017 shape. Peers add fields (timeout, account) that
// are ignored on input.
type messageJSON struct {
	ID     string          `json:"id,omitempty"`
	Ledger string          `json:"ledger,omitempty"`
	From   string          `json:"from,omitempty"`
	To     string          `json:"to,omitempty"`
	ILP    string          `json:"ilp,omitempty"`
	Custom json.RawMessage `json:"custom,omitempty"`
}

// MarshalJSON writes the 2017 shape, leaving out empty fields.
func (m Message) MarshalJSON() ([]byte, error) {
	return marshalNoEscape(messageJSON{ID: m.ID, Ledger: m.Ledger, From: m.From, To: m.To, ILP: m.ILP, Custom: nullToEmpty(m.Custom)})
}

// UnmarshalJSON reads a message leniently: unknown fields are ignored and a
// null custom is no custom. Custom, when present, must be a JSON object.
func (m *Message) UnmarshalJSON(b []byte) error {
	var j messageJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("ledger: message: %w", err)
	}
	custom := nullToEmpty(j.Custom)
	if len(custom) > 0 && !IsJSONObject(custom) {
		return fmt.Errorf("%w: message %q: custom is not a JSON object", ErrInvalidFields, j.ID)
	}
	*m = Message{ID: j.ID, Ledger: j.Ledger, From: j.From, To: j.To, ILP: j.ILP, Custom: custom}
	return nil
}

// IsJSONObject reports whether b holds one valid JSON object.
func IsJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) >= 2 && b[0] == '{' && json.Valid(b)
}

// Rejection is the LPI RejectionMessage: why a transfer was rejected by its
// receiver (RejectIncomingTransfer, reject events) or cancelled by the
// ledger (cancel events). Code is an ILP error code (PROTOCOLS.md 2.2) and
// Name its name. TriggeredBy is the address or prefix where the rejection
// started; ForwardedBy is the last connector that passed it on (each
// connector overwrites it with its own account on the source ledger).
// AdditionalInfo is a JSON object kept verbatim.
type Rejection struct {
	Code           string
	Name           string
	Message        string
	TriggeredBy    string
	ForwardedBy    string
	TriggeredAt    time.Time
	AdditionalInfo json.RawMessage
}

// NewRejection returns a rejection with the RFC name of code (ilp.CodeName)
// and no additional info.
func NewRejection(code, triggeredBy, message string, at time.Time) Rejection {
	return Rejection{Code: code, Name: ilp.CodeName(code), Message: message, TriggeredBy: triggeredBy, TriggeredAt: at}
}

// Forwarded returns r as connector by passes it on: ForwardedBy set to by.
func (r Rejection) Forwarded(by string) Rejection {
	r.ForwardedBy = by
	return r
}

// Timeout returns the rejection carried by cancel events: R00 Transfer Timed
// Out, triggered by the ledger (prefix) at the time of expiry.
func Timeout(prefix string, at time.Time) Rejection {
	return NewRejection(ilp.CodeTransferTimedOut, prefix, "transfer expired", at)
}

// rejectionJSON is the 2017 shape, with snake_case names.
type rejectionJSON struct {
	Code           string          `json:"code"`
	Name           string          `json:"name"`
	Message        string          `json:"message"`
	TriggeredBy    string          `json:"triggered_by"`
	ForwardedBy    json.RawMessage `json:"forwarded_by,omitempty"`
	TriggeredAt    json.RawMessage `json:"triggered_at,omitempty"`
	AdditionalInfo json.RawMessage `json:"additional_info"`
}

var emptyObject = json.RawMessage("{}")

// MarshalJSON writes the 2017 shape: forwarded_by only when set,
// triggered_at with milliseconds when set, additional_info always (an empty
// object when there is none), as 2017 connectors wrote it.
func (r Rejection) MarshalJSON() ([]byte, error) {
	j := rejectionJSON{Code: r.Code, Name: r.Name, Message: r.Message, TriggeredBy: r.TriggeredBy, AdditionalInfo: nullToEmpty(r.AdditionalInfo)}
	if r.ForwardedBy != "" {
		j.ForwardedBy = json.RawMessage(strconv.Quote(r.ForwardedBy))
	}
	if !r.TriggeredAt.IsZero() {
		j.TriggeredAt = json.RawMessage(`"` + FormatTime(r.TriggeredAt) + `"`)
	}
	if len(j.AdditionalInfo) == 0 {
		j.AdditionalInfo = emptyObject
	}
	return marshalNoEscape(j)
}

// UnmarshalJSON reads a rejection leniently, as peers wrote them in 2017:
// unknown fields are ignored; forwarded_by may be a string or an array of
// addresses (ilp-plugin-payment-channel-framework sent [] and ILP packets
// carry a list), of which the last one is kept; triggered_at may be an ISO
// string or milliseconds since 1970, and one that cannot be read is
// dropped; additional_info is kept only when it is an object. A rejection
// is informational, so none of this refuses the message.
func (r *Rejection) UnmarshalJSON(b []byte) error {
	var j rejectionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("ledger: rejection: %w", err)
	}
	out := Rejection{Code: j.Code, Name: j.Name, Message: j.Message, TriggeredBy: j.TriggeredBy}
	out.ForwardedBy = readForwardedBy(j.ForwardedBy)
	out.TriggeredAt = readTimestamp(j.TriggeredAt)
	if info := nullToEmpty(j.AdditionalInfo); IsJSONObject(info) {
		out.AdditionalInfo = info
	}
	*r = out
	return nil
}

func readForwardedBy(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list[len(list)-1]
	}
	return ""
}

func readTimestamp(raw json.RawMessage) time.Time {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return time.Time{}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		t, err := ParseTime(s)
		if err != nil {
			return time.Time{}
		}
		return t
	}
	// Milliseconds since 1970, as a JavaScript Date serialised by hand;
	// only years 1 to 9999, which ISO 8601 strings can carry back.
	const minMillis, maxMillis = -62135596800000, 253402300799999
	var ms int64
	if json.Unmarshal(raw, &ms) == nil && ms >= minMillis && ms <= maxMillis {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

// ErrorResponse returns the response a plugin sends for request req when its
// request handler failed with err, as ilp-plugin-virtual 16 did: a message
// from account (the plugin's own) back to req.From whose ILP is an ILP error
// packet. When err holds an *ilp.Error, that packet is sent (an ILQP handler
// chooses its code that way); otherwise it is F00 Bad Request triggered by
// account, with data {"message": ...} holding the message of a *PluginError
// in err or a fixed text — never err's own text, which may hold internal
// details.
func ErrorResponse(req Message, account string, err error, now time.Time) (Message, error) {
	resp := Message{ID: req.ID, Ledger: req.Ledger, From: account, To: req.From}
	var pkt *ilp.Error
	if !errors.As(err, &pkt) {
		text := "request handler failed"
		var pe *PluginError
		if errors.As(err, &pe) && pe.Message != "" {
			text = pe.Message
		}
		data, _ := marshalNoEscape(struct {
			Message string `json:"message"`
		}{text})
		pkt = ilp.NewError(ilp.CodeBadRequest, account, now, data)
	}
	b, encErr := pkt.MarshalBinary()
	if encErr != nil {
		return Message{}, fmt.Errorf("ledger: encoding error response: %w", encErr)
	}
	resp.ILP = ilp.EncodeBase64URL(b)
	return resp, nil
}
