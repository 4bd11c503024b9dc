package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// Transfer is a Ledger Plugin Interface v1 transfer. Amount is in the ledger's
// base units. ILP is the ILP packet in base64url as carried on the wire; it is
// kept as the peer sent it. ExpiresAt is zero for a transfer without expiry.
// Custom and NoteToSelf are JSON objects kept verbatim; NoteToSelf is never
// sent to a peer.
type Transfer struct {
	ID                 string
	Ledger             string
	From               string
	To                 string
	Amount             uint64
	ILP                string
	ExecutionCondition string
	ExpiresAt          time.Time
	Custom             json.RawMessage
	NoteToSelf         json.RawMessage
}

// transferJSON is the 2017 JSON shape. Peers add fields the kit does not use
// (direction, account, cases); they are ignored on input.
type transferJSON struct {
	ID                 string          `json:"id"`
	Ledger             string          `json:"ledger,omitempty"`
	From               string          `json:"from,omitempty"`
	To                 string          `json:"to,omitempty"`
	Amount             json.RawMessage `json:"amount"`
	ILP                string          `json:"ilp,omitempty"`
	ExecutionCondition string          `json:"executionCondition,omitempty"`
	ExpiresAt          string          `json:"expiresAt,omitempty"`
	Custom             json.RawMessage `json:"custom,omitempty"`
	NoteToSelf         json.RawMessage `json:"noteToSelf,omitempty"`
}

// isoMillis is the form of JavaScript's Date.prototype.toISOString.
const isoMillis = "2006-01-02T15:04:05.000Z"

// FormatTime writes t as JavaScript's toISOString did: UTC, three
// millisecond digits.
func FormatTime(t time.Time) string { return t.UTC().Format(isoMillis) }

// ParseTime reads an ISO 8601 / RFC 3339 timestamp as 2017 peers wrote them.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger: invalid timestamp %q: %w", s, err)
	}
	return t, nil
}

// MarshalJSON writes the 2017 shape: amount as a decimal string, expiresAt
// with milliseconds.
func (t Transfer) MarshalJSON() ([]byte, error) { return t.AppendJSON(nil) }

// AppendJSON appends what MarshalJSON writes to b: without reflection for
// the common transfer (printable ASCII strings other than '"' and '\\', no
// custom or note to self, an expiry in the years 0 to 9999), with
// encoding/json otherwise.
func (t *Transfer) AppendJSON(b []byte) ([]byte, error) {
	if out, ok := t.appendPlainJSON(b); ok {
		return out, nil
	}
	j := transferJSON{
		ID:                 t.ID,
		Ledger:             t.Ledger,
		From:               t.From,
		To:                 t.To,
		Amount:             json.RawMessage(strconv.Quote(strconv.FormatUint(t.Amount, 10))),
		ILP:                t.ILP,
		ExecutionCondition: t.ExecutionCondition,
		Custom:             t.Custom,
		NoteToSelf:         t.NoteToSelf,
	}
	if !t.ExpiresAt.IsZero() {
		j.ExpiresAt = FormatTime(t.ExpiresAt)
	}
	out, err := marshalNoEscape(j)
	if err != nil {
		return b, err
	}
	return append(b, out...), nil
}

// appendPlainJSON appends what MarshalJSON writes, without reflection,
// for the common transfer: strings of printable ASCII other than '"' and
// '\\' (which JSON writes as they are), no custom or note to self, and an
// expiry (if any) in the years 0 to 9999. It reports false for any other.
func (t *Transfer) appendPlainJSON(b []byte) ([]byte, bool) {
	if len(t.Custom) > 0 || len(t.NoteToSelf) > 0 || !plainJSON(t.ID) || !plainJSON(t.Ledger) || !plainJSON(t.From) ||
		!plainJSON(t.To) || !plainJSON(t.ILP) || !plainJSON(t.ExecutionCondition) {
		return b, false
	}
	var u time.Time
	if !t.ExpiresAt.IsZero() {
		u = t.ExpiresAt.UTC()
		if y := u.Year(); y < 0 || y > 9999 {
			return b, false
		}
	}
	b = slices.Grow(b, 150+len(t.ID)+len(t.Ledger)+len(t.From)+len(t.To)+len(t.ILP)+len(t.ExecutionCondition))
	b = append(b, `{"id":"`...)
	b = append(b, t.ID...)
	b = append(b, '"')
	b = appendPlainField(b, `,"ledger":"`, t.Ledger)
	b = appendPlainField(b, `,"from":"`, t.From)
	b = appendPlainField(b, `,"to":"`, t.To)
	b = append(b, `,"amount":"`...)
	b = strconv.AppendUint(b, t.Amount, 10)
	b = append(b, '"')
	b = appendPlainField(b, `,"ilp":"`, t.ILP)
	b = appendPlainField(b, `,"executionCondition":"`, t.ExecutionCondition)
	if !t.ExpiresAt.IsZero() {
		b = append(b, `,"expiresAt":"`...)
		b = appendISOMillis(b, u)
		b = append(b, '"')
	}
	return append(b, '}'), true
}

// appendISOMillis appends u (in UTC, year 0 to 9999) as FormatTime
// writes it, without the general formatter.
func appendISOMillis(b []byte, u time.Time) []byte {
	year, month, day := u.Date()
	hour, minute, sec := u.Clock()
	ms := u.Nanosecond() / 1_000_000
	put := func(v, n int, sep byte) {
		start := len(b)
		b = append(b, "0000"[:n]...)
		for i := n - 1; i >= 0; i-- {
			b[start+i] = byte('0' + v%10)
			v /= 10
		}
		if sep != 0 {
			b = append(b, sep)
		}
	}
	put(year, 4, '-')
	put(int(month), 2, '-')
	put(day, 2, 'T')
	put(hour, 2, ':')
	put(minute, 2, ':')
	put(sec, 2, '.')
	put(ms, 3, 'Z')
	return b
}

// plainJSON reports whether JSON writes s as it is, between quotes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendPlainField appends name (which opens the string) and v, unless v is
// empty.
func appendPlainField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, name...)
	b = append(b, v...)
	return append(b, '"')
}

// UnmarshalJSON reads a transfer leniently: the amount may be a string or a
// number (it must be a non-negative integer below 2^64); unknown fields are
// ignored.
func (t *Transfer) UnmarshalJSON(b []byte) error {
	var j transferJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("ledger: transfer: %w", err)
	}
	amt, err := parseAmountJSON(j.Amount)
	if err != nil {
		return fmt.Errorf("ledger: transfer %q: %w", j.ID, err)
	}
	var exp time.Time
	if j.ExpiresAt != "" {
		if exp, err = ParseTime(j.ExpiresAt); err != nil {
			return fmt.Errorf("ledger: transfer %q: %w", j.ID, err)
		}
	}
	*t = Transfer{
		ID:                 j.ID,
		Ledger:             j.Ledger,
		From:               j.From,
		To:                 j.To,
		Amount:             amt,
		ILP:                j.ILP,
		ExecutionCondition: j.ExecutionCondition,
		ExpiresAt:          exp,
		Custom:             nullToEmpty(j.Custom),
		NoteToSelf:         nullToEmpty(j.NoteToSelf),
	}
	return nil
}

func nullToEmpty(r json.RawMessage) json.RawMessage {
	if bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
		return nil
	}
	return r
}

func parseAmountJSON(raw json.RawMessage) (uint64, error) {
	if len(raw) == 0 {
		return 0, fmt.Errorf("%w: amount is missing", ErrInvalidTransfer)
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("%w: amount: %v", ErrInvalidTransfer, err)
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: amount %s is not an integer in [0, 2^64-1]", ErrInvalidTransfer, raw)
	}
	return v, nil
}

// SameAs reports whether u describes the same transfer as t: every field
// that crosses the wire is equal (timestamps to the millisecond, JSON objects
// compared after compaction). NoteToSelf is local and not compared.
func (t Transfer) SameAs(u Transfer) bool {
	return t.ID == u.ID && t.Ledger == u.Ledger && t.From == u.From && t.To == u.To &&
		t.Amount == u.Amount && t.ILP == u.ILP && t.ExecutionCondition == u.ExecutionCondition &&
		t.ExpiresAt.UnixMilli() == u.ExpiresAt.UnixMilli() && t.ExpiresAt.IsZero() == u.ExpiresAt.IsZero() &&
		jsonEqual(t.Custom, u.Custom)
}

// jsonEqual compares two JSON values by meaning: key order, white space and
// escapes (encoding/json writes "<" as "\u003c", JavaScript does not) do not
// matter; numbers are compared by their decimal text, so no precision is
// lost. Empty and null are the same (no value). Invalid JSON is only equal
// to identical bytes.
func jsonEqual(a, b json.RawMessage) bool {
	a, b = nullToEmpty(bytes.TrimSpace(a)), nullToEmpty(bytes.TrimSpace(b))
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decodeJSONValue(a)
	vb, errB := decodeJSONValue(b)
	if errA != nil || errB != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func decodeJSONValue(r json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(r))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// marshalNoEscape encodes v as JSON.stringify would: "<", ">" and "&" stay
// as they are.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Conditional reports whether the transfer has an execution condition (it is
// then prepared first and fulfilled or rejected later).
func (t Transfer) Conditional() bool { return t.ExecutionCondition != "" }
