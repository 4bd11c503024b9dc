package trustline

// Fast paths for the JSON of the messages that carry payments: frames,
// transfers, strings. Each fast path handles the common shape (known keys
// spelled exactly, each once; strings of printable ASCII without escapes;
// timestamps in the toISOString form) and reports false for anything else,
// and the caller then uses encoding/json exactly as before. So the result
// is always what encoding/json gives; the fuzz tests compare the two.

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// maxFastDepth bounds the nesting the fast scanner follows; deeper values
// go to encoding/json.
const maxFastDepth = 64

// jscan is a JSON syntax checker over b, at least as strict as
// encoding/json: whatever it accepts, encoding/json accepts too.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// is reports whether the next byte is c, and skips it if so.
func (s *jscan) is(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// strPlain holds the bytes a plain string has as they are.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string starting at the current byte. It returns its content
// between the quotes and whether that content is plain (no escapes, only
// ASCII), which makes it the string's value; ok is false when there is no
// well-formed string here.
func (s *jscan) str() (content []byte, plain, ok bool) {
	b := s.b
	if s.i >= len(b) || b[s.i] != '"' {
		return nil, false, false
	}
	start := s.i + 1
	plain = true
	for i := start; i < len(b); i++ {
		c := b[i]
		if strPlain[c] {
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return b[start:i], plain, true
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				return nil, false, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return nil, false, false
				}
				i += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		case c >= 0x80:
			plain = false
		}
	}
	return nil, false, false
}

// plainString reads a plain string (see str) and returns its value.
func (s *jscan) plainString() (string, bool) {
	c, plain, ok := s.str()
	if !ok || !plain {
		return "", false
	}
	return string(c), true
}

func (s *jscan) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

func (s *jscan) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	s.i = i
	return true
}

// value skips one value (after white space), checking its syntax.
func (s *jscan) value(depth int) bool {
	s.ws()
	if s.i >= len(s.b) || depth > maxFastDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == '{':
		s.i++
		s.ws()
		if s.is('}') {
			return true
		}
		for {
			s.ws()
			if _, _, ok := s.str(); !ok {
				return false
			}
			s.ws()
			if !s.is(':') || !s.value(depth+1) {
				return false
			}
			s.ws()
			if s.is(',') {
				continue
			}
			return s.is('}')
		}
	case c == '[':
		s.i++
		s.ws()
		if s.is(']') {
			return true
		}
		for {
			if !s.value(depth + 1) {
				return false
			}
			s.ws()
			if s.is(',') {
				continue
			}
			return s.is(']')
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		return s.number()
	}
	return false
}

// rawValue skips one value and returns its bytes (without white space).
func (s *jscan) rawValue() ([]byte, bool) {
	s.ws()
	start := s.i
	if !s.value(0) {
		return nil, false
	}
	return s.b[start:s.i], true
}

// array reads an array of values, calling elem for each (positioned on
// the value). It reports false for anything but a well-formed array.
func (s *jscan) array(elem func() bool) bool {
	s.ws()
	if !s.is('[') {
		return false
	}
	s.ws()
	if s.is(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		s.ws()
		if s.is(',') {
			continue
		}
		return s.is(']')
	}
}

// object reads an object whose keys are plain strings, each key once,
// calling field for each (positioned after the colon); field returns false
// to give up. It reports false for anything but a well-formed object.
func (s *jscan) object(field func(key []byte) bool) bool {
	s.ws()
	if !s.is('{') {
		return false
	}
	s.ws()
	if s.is('}') {
		return true
	}
	for {
		s.ws()
		key, plain, ok := s.str()
		if !ok || !plain {
			return false
		}
		s.ws()
		if !s.is(':') {
			return false
		}
		s.ws()
		if !field(key) {
			return false
		}
		s.ws()
		if s.is(',') {
			continue
		}
		return s.is('}')
	}
}

// end reports whether only white space is left.
func (s *jscan) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// internMethod returns the constant for a known method or event name, so
// that reading it does not allocate.
func internName(b []byte) string {
	switch string(b) {
	case methodSendTransfer:
		return methodSendTransfer
	case methodFulfillCondition:
		return methodFulfillCondition
	case methodRejectIncoming:
		return methodRejectIncoming
	case methodSendRequest:
		return methodSendRequest
	case "incoming_prepare":
		return "incoming_prepare"
	case "outgoing_prepare":
		return "outgoing_prepare"
	case "incoming_fulfill":
		return "incoming_fulfill"
	case "outgoing_fulfill":
		return "outgoing_fulfill"
	}
	return string(b)
}

// parseFrame reads one message into f, as json.Unmarshal would.
func parseFrame(data []byte, f *frame) error {
	if fastFrame(data, f) {
		return nil
	}
	*f = frame{}
	return json.Unmarshal(data, f)
}

// fastFrame reads a message whose keys are id, method, params, result and
// event, each at most once (an error member goes to encoding/json).
func fastFrame(data []byte, f *frame) bool {
	s := jscan{b: data}
	return s.frame(f) && s.end()
}

// frame reads a message (see fastFrame) at the current position.
func (s *jscan) frame(f *frame) bool {
	*f = frame{}
	var seen uint8
	return s.object(func(key []byte) bool {
		var bit uint8
		switch string(key) {
		case "id":
			bit = 1
			v, ok := s.rawValue()
			if !ok {
				return false
			}
			f.ID = v
		case "method", "event":
			bit = 2
			if key[0] == 'e' {
				bit = 4
			}
			c, plain, ok := s.str()
			if !ok || !plain {
				return false
			}
			if bit == 2 {
				f.Method = internName(c)
			} else {
				f.Event = internName(c)
			}
		case "params":
			bit = 8
			f.Params = make([]json.RawMessage, 0, 2)
			if !s.array(func() bool {
				v, ok := s.rawValue()
				f.Params = append(f.Params, v)
				return ok
			}) {
				return false
			}
		case "result":
			bit = 16
			v, ok := s.rawValue()
			if !ok {
				return false
			}
			f.Result = v
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// batchItem is one message of a batch frame: parsed, or err when it is
// not a message json.Unmarshal reads into a frame.
type batchItem struct {
	f   frame
	err error
}

// parseBatch reads the messages of a batch frame, each as parseFrame
// would; it fails as splitBatch does for a frame that is not an array.
func parseBatch(data []byte) ([]batchItem, error) {
	s := jscan{b: data}
	items := make([]batchItem, 0, 8)
	if s.array(func() bool {
		items = append(items, batchItem{})
		it := &items[len(items)-1]
		start := s.i
		if s.frame(&it.f) {
			return true
		}
		s.i = start
		v, ok := s.rawValue()
		if ok {
			it.err = parseFrame(v, &it.f)
		}
		return ok
	}) && s.end() {
		return items, nil
	}
	msgs, err := splitBatch(data)
	if err != nil {
		return nil, err
	}
	items = make([]batchItem, len(msgs))
	for i, m := range msgs {
		items[i].err = parseFrame(m, &items[i].f)
	}
	return items, nil
}

// isBatch reports whether a frame is a JSON array of messages.
func isBatch(data []byte) bool {
	s := jscan{b: data}
	s.ws()
	return s.i < len(data) && data[s.i] == '['
}

// splitBatch returns the messages of a batch frame, as
// json.Unmarshal into a []json.RawMessage would.
func splitBatch(data []byte) ([]json.RawMessage, error) {
	s := jscan{b: data}
	msgs := make([]json.RawMessage, 0, 8)
	if s.array(func() bool {
		v, ok := s.rawValue()
		msgs = append(msgs, v)
		return ok
	}) && s.end() {
		return msgs, nil
	}
	msgs = nil
	if err := json.Unmarshal(data, &msgs); err != nil {
		return nil, err
	}
	return msgs, nil
}

// decodeString reads a JSON string as json.Unmarshal into a string would.
func decodeString(raw []byte) (string, error) {
	s := jscan{b: raw}
	s.ws()
	if v, ok := s.plainString(); ok && s.end() {
		return v, nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}

// plainParam returns parameter i when it is a plain string (see
// jscan.str), which decodeParam would read as the same string.
func plainParam(params []json.RawMessage, i int) (string, bool) {
	s := jscan{b: params[i]}
	s.ws()
	v, ok := s.plainString()
	return v, ok && s.end()
}

// decodeTransfer reads a transfer as json.Unmarshal into a ledger.Transfer
// would.
func decodeTransfer(raw []byte, t *ledger.Transfer, in interner) error {
	if fastTransfer(raw, t, in) {
		return nil
	}
	*t = ledger.Transfer{}
	return json.Unmarshal(raw, t)
}

// fastTransfer reads a transfer with the keys of its 2017 shape, each at
// most once, an amount of digits and a timestamp in toISOString's form.
func fastTransfer(raw []byte, t *ledger.Transfer, in interner) bool {
	*t = ledger.Transfer{}
	s := jscan{b: raw}
	var seen uint16
	var amount, exp []byte
	haveAmount, haveExp := false, false
	ok := s.object(func(key []byte) bool {
		var bit uint16
		var dst *string
		intern := false
		switch string(key) {
		case "id":
			bit, dst = 1, &t.ID
		case "ledger":
			bit, dst, intern = 2, &t.Ledger, true
		case "from":
			bit, dst, intern = 4, &t.From, true
		case "to":
			bit, dst, intern = 8, &t.To, true
		case "ilp":
			bit, dst = 16, &t.ILP
		case "executionCondition":
			bit, dst = 32, &t.ExecutionCondition
		case "amount":
			bit = 64
			if s.i < len(s.b) && s.b[s.i] == '"' {
				c, plain, ok := s.str()
				if !ok || !plain {
					return false
				}
				amount = c
			} else {
				start := s.i
				if !s.number() {
					return false
				}
				amount = s.b[start:s.i]
			}
			haveAmount = true
		case "expiresAt":
			bit = 128
			c, plain, ok := s.str()
			if !ok || !plain {
				return false
			}
			exp, haveExp = c, true
		case "custom", "noteToSelf":
			bit = 256
			if key[0] == 'n' {
				bit = 512
			}
			v, ok := s.rawValue()
			if !ok {
				return false
			}
			if string(v) == "null" {
				v = nil
			} else {
				v = append(json.RawMessage(nil), v...)
			}
			if bit == 256 {
				t.Custom = v
			} else {
				t.NoteToSelf = v
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if dst != nil {
			c, plain, ok := s.str()
			if !ok || !plain {
				return false
			}
			if intern && in != nil {
				*dst = in.get(c)
			} else {
				*dst = string(c)
			}
		}
		return true
	})
	if !ok || !s.end() || !haveAmount || len(amount) == 0 {
		return false
	}
	for _, c := range amount {
		if !isDigit(c) {
			return false
		}
	}
	n, err := strconv.ParseUint(string(amount), 10, 64)
	if err != nil {
		return false
	}
	t.Amount = n
	if haveExp && len(exp) > 0 {
		at, ok := parseISOMillis(exp)
		if !ok {
			return false
		}
		t.ExpiresAt = at
	}
	return true
}

// interner keeps one copy of the strings that repeat in transfers (the
// ledger and the accounts), so that reading them does not allocate. It is
// used by one goroutine; nil interns nothing.
type interner map[string]string

// maxInterned bounds an interner.
const maxInterned = 4096

func (in interner) get(b []byte) string {
	if v, ok := in[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(in) < maxInterned {
		in[v] = v
	}
	return v
}

// parseISOMillis reads "YYYY-MM-DDTHH:MM:SS.mmmZ" as ledger.ParseTime
// would, or reports false for anything else (valid or not).
func parseISOMillis(b []byte) (time.Time, bool) {
	if len(b) != 24 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != '.' || b[23] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range b[i : i+n] {
			if !isDigit(c) {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	ms, ok7 := num(20, 3)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*1_000_000, time.UTC), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendPlain appends s as a JSON string when it is printable ASCII that
// neither encoding/json nor HTML escaping changes; it reports false
// otherwise.
func appendPlain(b []byte, s string) ([]byte, bool) {
	if !plain(s) {
		return b, false
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// appendTransfer appends t's JSON as json.Marshal writes it, when that is
// what ledger's encoder writes: no custom or note to self, no string that
// JSON or HTML escaping would change, an expiry in the years 0 to 9999
// (which the 2017 form can carry). It reports false otherwise.
func appendTransfer(b []byte, t *ledger.Transfer) ([]byte, bool) {
	if len(t.Custom) > 0 || len(t.NoteToSelf) > 0 || !plain(t.ID) || !plain(t.Ledger) || !plain(t.From) || !plain(t.To) ||
		!plain(t.ILP) || !plain(t.ExecutionCondition) {
		return b, false
	}
	if !t.ExpiresAt.IsZero() {
		if y := t.ExpiresAt.UTC().Year(); y < 0 || y > 9999 {
			return b, false
		}
	}
	out, err := t.AppendJSON(b)
	if err != nil {
		return b, false
	}
	return out, true
}

// plain reports whether s is printable ASCII that neither encoding/json nor
// HTML escaping changes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// transferJSON appends t's JSON as t.MarshalJSON writes it.
func transferJSON(b []byte, t *ledger.Transfer) ([]byte, error) { return t.AppendJSON(b) }
