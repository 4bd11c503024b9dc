package ilp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// h joins hex fragments (spaces allowed) into bytes.
func h(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	return mustHex(tb, strings.ReplaceAll(strings.Join(parts, ""), " ", ""))
}

// str is an OER string (length byte and text) in hex, for texts < 128 bytes.
func str(s string) string { return hex.EncodeToString(appendVarString(nil, s)) }

// env wraps hex contents in an envelope of type t.
func env(tb testing.TB, t Type, contents ...string) string {
	tb.Helper()
	c := h(tb, contents...)
	return hex.EncodeToString(beginEnvelope(nil, t, len(c))) + hex.EncodeToString(c)
}

const (
	tsHex    = "13" + "32303137303332343032303031362e3136305a" // 20170324020016.160Z
	hold3000 = "00000bb8"
	amt      = "0000000218711a00"
	point    = "12345678123456781234567812345678"
)

func timeStr(s string) string { return str(s) }

// TestDecodeRefusals is the table of inputs decoding must refuse, with the
// sentinel, the field and the offset the error must name.
func TestDecodeRefusals(t *testing.T) {
	long200 := strings.Repeat("ab", 200)
	tests := []struct {
		name   string
		in     string
		want   error
		field  string
		offset int
	}{
		{"empty", "", ErrTruncated, "type", 0},
		{"unknown type 0", "00 00", ErrUnknownType, "type", 0},
		{"unknown type 9", "09 01 00", ErrUnknownType, "type", 0},
		{"type only", "01", ErrTruncated, "envelope length", 1},
		{"envelope longer than input", "01 05 00 00", ErrTruncated, "envelope", 1},
		{"envelope long form without length bytes", "01 80", ErrNonCanonicalLength, "envelope", 1},
		{"envelope length 5 in long form", "01 81 05 0000000000", ErrNonCanonicalLength, "envelope", 1},
		{"envelope length with leading zero byte", "01 82 0080" + long200[:256], ErrNonCanonicalLength, "envelope", 1},
		// 2017 let five-byte forms of lengths >= 128 through (a 32-bit
		// shift wrapped in its canonical check); they are non-canonical.
		{"envelope five-byte length 128", "01 85 0000000080" + strings.Repeat("00", 128), ErrNonCanonicalLength, "envelope", 1},
		{"envelope six-byte length 256", "01 86 000000000100" + strings.Repeat("00", 256), ErrNonCanonicalLength, "envelope", 1},
		{"envelope seven length bytes", "01 87 00000000000001 00", ErrLengthTooLong, "envelope", 1},
		{"envelope long form truncated", "01 82 01", ErrTruncated, "envelope length", 1},
		{"payment amount truncated", "01 03 000000", ErrTruncated, "amount", 2},
		{"payment account past contents", "01 0a 000000000000006b 05 61", ErrTruncated, "account", 10},
		// The account fits the buffer but not the envelope: fields never
		// read past the envelope contents.
		{"payment account past envelope", "01 0a 000000000000006b 05 6161 616161", ErrTruncated, "account", 10},
		{"payment data length missing", "01 0a 000000000000006b 01 61", ErrTruncated, "data length", 12},
		{"payment data non-canonical", "01 0e 000000000000006b 01 61 81 01 00 00", ErrNonCanonicalLength, "data", 12},
		{"liquidity request hold truncated", "02 05 01 61 0000 00", ErrTruncated, "destinationHoldDuration", 4},
		{"by-source request amount truncated", "04 06 01 61 00000000", ErrTruncated, "sourceAmount", 4},
		{"by-source response hold truncated", "05 0a " + amt + " 0000", ErrTruncated, "sourceHoldDuration", 10},
		{"by-destination request hold truncated", "06 0c 01 61 " + amt + " 00 00", ErrTruncated, "destinationHoldDuration", 12},
		{"by-destination response empty", "07 00", ErrTruncated, "sourceAmount", 2},
		{"curve count VarUInt of length 0", env(t, TypeQuoteLiquidityResponse, "00", str("g."), hold3000, tsHex, "00"), ErrEmptyVarUint, "liquidity curve point count", 2},
		{"curve count VarUInt of 7 bytes", env(t, TypeQuoteLiquidityResponse, "07 00000000000001", point, str("g."), hold3000, tsHex, "00"), ErrVarUintTooLong, "liquidity curve point count", 2},
		{"curve count larger than the bytes", env(t, TypeQuoteLiquidityResponse, "01 05", point, str("g."), hold3000, tsHex, "00"), ErrCountTooLarge, "liquidity curve point count", 2},
		{"curve count huge", env(t, TypeQuoteLiquidityResponse, "06 ffffffffffff", point), ErrCountTooLarge, "liquidity curve point count", 2},
		{"curve count truncated", "03 02 02 00", ErrTruncated, "liquidity curve point count", 2},
		{"liquidity prefix past contents", env(t, TypeQuoteLiquidityResponse, "01 01", point, "05 67"), ErrTruncated, "appliesToPrefix", 20},
		{"liquidity timestamp missing", env(t, TypeQuoteLiquidityResponse, "01 01", point, str("g."), hold3000), ErrTruncated, "expiresAt length", 27},
		{"error code truncated", "08 02 4630", ErrTruncated, "code", 2},
		{"error name truncated", "08 05 463032 05 55", ErrTruncated, "name", 5},
		{"error forwardedBy count of length 0", env(t, TypeError, hex.EncodeToString([]byte("F02")), str("x"), str("g.a"), "00"), ErrEmptyVarUint, "forwardedBy count", 11},
		{"error forwardedBy count larger than the bytes", env(t, TypeError, hex.EncodeToString([]byte("F02")), str("x"), str("g.a"), "02 00ff", str("g.b"), tsHex, "00 00"), ErrCountTooLarge, "forwardedBy count", 11},
		{"error forwardedBy count huge", env(t, TypeError, hex.EncodeToString([]byte("F02")), str("x"), str("g.a"), "06 ffffffffffff 00"), ErrCountTooLarge, "forwardedBy count", 11},
		{"error forwardedBy entry truncated", env(t, TypeError, hex.EncodeToString([]byte("F02")), str("x"), str("g.a"), "01 02", str("g.b"), "05 67"), ErrTruncated, "forwardedBy[1]", 17},
		{"error data past contents", env(t, TypeError, hex.EncodeToString([]byte("F02")), str("x"), str("g.a"), "01 00", tsHex, "09 7b"), ErrTruncated, "data", 33},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := h(t, tt.in)
			p, err := Decode(in)
			if err == nil {
				t.Fatalf("Decode(%x) = %+v, want an error", in, p)
			}
			checkDecodeError(t, err, tt.want, tt.field, tt.offset)
		})
	}
}

func checkDecodeError(t *testing.T, err, want error, field string, offset int) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("error %q, want %q", err, want)
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %T is not a *DecodeError", err)
	}
	if de.Field != field || de.Offset != offset {
		t.Errorf("error at %s offset %d, want %s offset %d (%v)", de.Field, de.Offset, field, offset, err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "ilp: decoding ") ||
		!strings.Contains(msg, field+" at offset "+strconv.Itoa(offset)+": "+want.Error()) {
		t.Errorf("message %q does not say what and where", msg)
	}
}

// TestTimestampRefusals lists timestamp texts that 2017 refused (or that
// only its engine-specific fallback parser read) and that must be refused.
func TestTimestampRefusals(t *testing.T) {
	for _, ts := range []string{
		"",
		"20170324020016.16Z",       // two millisecond digits
		"20170324020016Z",          // none
		"20170324020016.1600Z",     // four
		"2017-03-24T02:00:16.160Z", // ISO text: only the Date fallback read it
		"20170324020016.160z",
		"20170324020016,160Z",
		" 20170324020016.160Z",
		"20170324020016.160+0000",
		"2017032402001a.160Z",
		"20171301000000.000Z", // month 13
		"20170001000000.000Z", // month 00
		"20170400000000.000Z", // day 00
		"20170432000000.000Z", // day 32
		"20170324240000.001Z", // hour 24 must be exactly midnight
		"20170324240100.000Z",
		"20170324250000.000Z",
		"20170324236000.000Z", // minute 60
		"20170324235960.000Z", // second 60
		"19700101000000.000Z", // the epoch: 2017 tested !date.valueOf()
	} {
		t.Run(ts, func(t *testing.T) {
			in := h(t, env(t, TypeError, hex.EncodeToString([]byte("F02")), str("x"), str("g.a"), "01 00", timeStr(ts), "00 00"))
			_, err := Decode(in)
			checkDecodeError(t, err, ErrBadTimestamp, "triggeredAt", 2+3+2+4+2)
			in = h(t, env(t, TypeQuoteLiquidityResponse, "01 00", str("g."), hold3000, timeStr(ts), "00"))
			_, err = Decode(in)
			checkDecodeError(t, err, ErrBadTimestamp, "expiresAt", 2+2+3+4)
		})
	}
}

// TestTimestampsAccepted lists the texts 2017 read, the time it took them
// to mean (V8's Date), and checks that they re-encode unchanged.
func TestTimestampsAccepted(t *testing.T) {
	tests := []struct {
		text      string
		want      string // ISO, as 2017's toISOString() showed it
		canonical bool
	}{
		{"20170324020016.160Z", "2017-03-24T02:00:16.160Z", true},
		{"20160229000000.000Z", "2016-02-29T00:00:00.000Z", true},
		{"20170229000000.000Z", "2017-03-01T00:00:00.000Z", false}, // rolled over like V8
		{"20170231000000.000Z", "2017-03-03T00:00:00.000Z", false},
		{"20170431000000.000Z", "2017-05-01T00:00:00.000Z", false},
		{"20170324240000.000Z", "2017-03-25T00:00:00.000Z", false}, // hour 24
		{"20171231240000.000Z", "2018-01-01T00:00:00.000Z", false},
		{"00000101000000.000Z", "0000-01-01T00:00:00.000Z", true},
		{"99991231235959.999Z", "9999-12-31T23:59:59.999Z", true},
		{"19700101000000.001Z", "1970-01-01T00:00:00.001Z", true},
		{"19691231235959.999Z", "1969-12-31T23:59:59.999Z", true},
		// Node's 'ascii' decoding dropped high bits: 0xb2 read as '2'.
		{"2017032402001\xb6.160Z", "2017-03-24T02:00:16.160Z", false},
		{"\xb2\xb0\xb1\xb7\xb0\xb3\xb2\xb4\xb0\xb2\xb0\xb0\xb1\xb6\xae\xb1\xb6\xb0\xda", "2017-03-24T02:00:16.160Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			for _, in := range [][]byte{
				h(t, env(t, TypeError, hex.EncodeToString([]byte("F02")), str("x"), str("g.a"), "01 00", timeStr(tt.text), "00 00")),
				h(t, env(t, TypeQuoteLiquidityResponse, "01 00", str("g."), hold3000, timeStr(tt.text), "00")),
			} {
				p, err := Decode(in)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				var at time.Time
				switch p := p.(type) {
				case *Error:
					at = p.TriggeredAt
				case *QuoteLiquidityResponse:
					at = p.ExpiresAt
				}
				if got := iso(at); got != tt.want {
					t.Errorf("time %s, want %s", got, tt.want)
				}
				if raw := wireOf(p).Time; (raw == "") != tt.canonical || (raw != "" && raw != tt.text) {
					t.Errorf("Wire.Time = %q (canonical %v)", raw, tt.canonical)
				}
				checkRoundTrip(t, p, in)
			}
		})
	}
}

// checkRoundTrip encodes p and compares with in, and decodes again.
func checkRoundTrip(t *testing.T, p Packet, in []byte) {
	t.Helper()
	enc, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	if !bytes.Equal(enc, in) {
		t.Errorf("re-encoded\n got %x\nwant %x", enc, in)
	}
	if _, err := Decode(enc); err != nil {
		t.Errorf("decoding the re-encoded packet: %v", err)
	}
}

// TestWireQuirks checks the forms 2017 read that its serializer never wrote:
// they decode, the field values are right, and they re-encode byte for byte.
func TestWireQuirks(t *testing.T) {
	code := hex.EncodeToString([]byte("F01"))
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, p Packet)
	}{
		{"payment without extension byte", "01 17 000000000000006b 0d 6578616d706c652e616c696365 00",
			func(t *testing.T, p Packet) {
				w := p.(*Payment).Wire
				if w.Extension == nil || len(w.Extension) != 0 {
					t.Errorf("Extension = %#v, want empty non-nil", w.Extension)
				}
			}},
		{"payment with extension bytes", env(t, TypePayment, "000000000000006b", str("g.a"), "00", "00 ff ee"),
			func(t *testing.T, p Packet) {
				if got := p.(*Payment).Wire.Extension; !bytes.Equal(got, []byte{0, 0xff, 0xee}) {
					t.Errorf("Extension = %x", got)
				}
			}},
		{"payment with non-zero extension byte", env(t, TypePayment, "000000000000006b", str("g.a"), "00", "07"), nil},
		{"payment with non-UTF-8 account", env(t, TypePayment, "000000000000006b", "03 ff fe 00", "00", "00"),
			func(t *testing.T, p Packet) {
				if got := p.(*Payment).Account; got != "\xff\xfe\x00" {
					t.Errorf("Account = %q", got)
				}
			}},
		{"by-source request without extension", env(t, TypeQuoteBySourceRequest, str("g.a"), amt, hold3000), nil},
		{"by-destination response with extension bytes", env(t, TypeQuoteByDestinationResponse, amt, hold3000, "0102"), nil},
		{"liquidity count with leading zero", env(t, TypeQuoteLiquidityResponse, "02 0002", point, point, str("g."), hold3000, tsHex, "00"),
			func(t *testing.T, p Packet) {
				r := p.(*QuoteLiquidityResponse)
				if r.Wire.CountWidth != 2 || len(r.LiquidityCurve) != 32 {
					t.Errorf("CountWidth %d, curve %d bytes", r.Wire.CountWidth, len(r.LiquidityCurve))
				}
			}},
		{"liquidity zero count in six bytes", env(t, TypeQuoteLiquidityResponse, "06 000000000000", str("g."), hold3000, tsHex, "00"),
			func(t *testing.T, p Packet) {
				r := p.(*QuoteLiquidityResponse)
				if r.Wire.CountWidth != 6 || r.LiquidityCurve != nil {
					t.Errorf("CountWidth %d, curve %x", r.Wire.CountWidth, r.LiquidityCurve)
				}
			}},
		{"liquidity curve not monotonic (opaque)", env(t, TypeQuoteLiquidityResponse, "01 02", strings.Repeat("ff", 16), strings.Repeat("00", 16), str(""), hold3000, tsHex, "00"), nil},
		{"error forwardedBy count with leading zeros", env(t, TypeError, code, str("Invalid Packet"), str("g.b"), "03 000001", str("g.c"), tsHex, str("{}"), "00"),
			func(t *testing.T, p Packet) {
				e := p.(*Error)
				if e.Wire.CountWidth != 3 || len(e.ForwardedBy) != 1 || e.ForwardedBy[0] != "g.c" {
					t.Errorf("CountWidth %d, ForwardedBy %q", e.Wire.CountWidth, e.ForwardedBy)
				}
			}},
		{"error legacy code kept", env(t, TypeError, hex.EncodeToString([]byte("R01")), str("Transfer Timed Out"), str("g.b"), "01 00", tsHex, str(""), "00"),
			func(t *testing.T, p Packet) {
				if e := p.(*Error); e.Code != "R01" || e.Name != "Transfer Timed Out" {
					t.Errorf("code %q name %q", e.Code, e.Name)
				}
			}},
		{"error code of arbitrary bytes", env(t, TypeError, "00ff7f", str(""), str(""), "01 00", tsHex, "03 c3 28 ff"),
			func(t *testing.T, p Packet) {
				if e := p.(*Error); e.Code != "\x00\xff\x7f" || !bytes.Equal(e.Data, []byte{0xc3, 0x28, 0xff}) {
					t.Errorf("code %q data %x", e.Code, e.Data)
				}
			}},
		{"error data long form, no extension", env(t, TypeError, code, str("n"), str("g.b"), "01 00", tsHex, "81 c8"+strings.Repeat("7a", 200)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := h(t, tt.in)
			p, err := Decode(in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
			checkRoundTrip(t, p, in)

			// Bytes after the envelope are not part of the packet.
			tail := append(append([]byte{}, in...), 0xde, 0xad)
			if n, err := EnvelopeLen(tail); err != nil || n != len(in) {
				t.Errorf("EnvelopeLen = %d, %v; want %d", n, err, len(in))
			}
			q, err := Decode(tail)
			if err != nil {
				t.Fatalf("Decode with trailing bytes: %v", err)
			}
			if enc, _ := q.MarshalBinary(); !bytes.Equal(enc, in) {
				t.Errorf("with trailing bytes re-encoded %x, want %x", enc, in)
			}
		})
	}
}

// TestEditedQuirksFallBack checks that kept wire details stop applying once
// the fields they describe change.
func TestEditedQuirksFallBack(t *testing.T) {
	in := h(t, env(t, TypeQuoteLiquidityResponse, "02 0001", point, str("g."), hold3000, timeStr("20170231000000.000Z"), "00"))
	p := new(QuoteLiquidityResponse)
	if err := p.UnmarshalBinary(in); err != nil {
		t.Fatal(err)
	}
	p.ExpiresAt = p.ExpiresAt.Add(time.Second)
	enc, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := h(t, env(t, TypeQuoteLiquidityResponse, "02 0001", point, str("g."), hold3000, timeStr("20170303000001.000Z"), "00"))
	if !bytes.Equal(enc, want) {
		t.Errorf("edited time encoded\n got %x\nwant %x", enc, want)
	}
	// A count that no longer fits the kept width takes the minimal width.
	p.Wire.CountWidth = 1
	p.LiquidityCurve = make([]byte, 16*300)
	enc, err = p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	q := new(QuoteLiquidityResponse)
	if err := q.UnmarshalBinary(enc); err != nil || len(q.LiquidityCurve) != 16*300 || q.Wire.CountWidth != 0 {
		t.Errorf("300-point curve: %v, %d bytes, width %d", err, len(q.LiquidityCurve), q.Wire.CountWidth)
	}
}

// TestEncodeRefusals lists packets that cannot be encoded.
func TestEncodeRefusals(t *testing.T) {
	ok := time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    Packet
		want error
	}{
		{"curve of 15 bytes", &QuoteLiquidityResponse{LiquidityCurve: make([]byte, 15), ExpiresAt: ok}, ErrCurveLength},
		{"expiresAt year 10000", &QuoteLiquidityResponse{ExpiresAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrTimeRange},
		{"expiresAt year -1", &QuoteLiquidityResponse{ExpiresAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrTimeRange},
		{"expiresAt the epoch", &QuoteLiquidityResponse{ExpiresAt: time.Unix(0, 999999)}, ErrTimeRange},
		{"count width 7", &QuoteLiquidityResponse{ExpiresAt: ok, Wire: Wire{CountWidth: 7}}, ErrVarUintTooLong},
		{"code of 2 bytes", &Error{Code: "F0", TriggeredAt: ok}, ErrCodeLength},
		{"code of 4 bytes", &Error{Code: "F002", TriggeredAt: ok}, ErrCodeLength},
		{"code of 3 characters in 4 bytes", &Error{Code: "Fé0", TriggeredAt: ok}, ErrCodeLength},
		{"triggeredAt the epoch", &Error{Code: "F00", TriggeredAt: time.Unix(0, 0)}, ErrTimeRange},
		{"forwardedBy count width -1", &Error{Code: "F00", TriggeredAt: ok, Wire: Wire{CountWidth: -1}}, ErrVarUintTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.p.MarshalBinary(); !errors.Is(err, tt.want) {
				t.Errorf("MarshalBinary error %v, want %v", err, tt.want)
			} else if !strings.HasPrefix(err.Error(), "ilp: encoding "+tt.p.Type().String()) {
				t.Errorf("message %q", err)
			}
			buf := []byte("keep")
			out, err := tt.p.AppendBinary(buf)
			if !errors.Is(err, tt.want) || string(out) != "keep" {
				t.Errorf("AppendBinary = %q, %v", out, err)
			}
		})
	}
}

// TestEncodeBuilt checks packets built in Go against hand-written bytes.
func TestEncodeBuilt(t *testing.T) {
	at := time.Date(2017, 3, 24, 3, 0, 16, 160_999_999, time.FixedZone("x", 3600)) // 02:00:16.160Z once cut and in UTC
	tests := []struct {
		name string
		p    Packet
		want string
	}{
		{"payment", &Payment{Amount: 107, Account: "example.alice"}, "0118000000000000006b0d6578616d706c652e616c6963650000"},
		{"error", &Error{Code: "F01", Name: "Invalid Packet", TriggeredBy: "example.us.bob",
			ForwardedBy: []string{"example.us.connie", "example.us.conrad"}, TriggeredAt: at, Data: []byte(`{"foo": "bar"}`)},
			"086b4630310e496e76616c6964205061636b65740e6578616d706c652e75732e626f620102116578616d706c652e75732e636f6e6e6965116578616d706c652e75732e636f6e7261641332303137303332343032303031362e3136305a0e7b22666f6f223a2022626172227d00"},
		{"new error", NewError(CodeUnreachable, "g.usd.connector", time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC), nil),
			"08374630320b556e726561636861626c650f672e7573642e636f6e6e6563746f7201001332303137303732343132303030302e3030305a0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != tt.want {
				t.Errorf("got  %x\nwant %s", got, tt.want)
			}
		})
	}
}

func TestWrongType(t *testing.T) {
	in := h(t, "050d0000000218711a0000000bb800")
	for _, p := range []Packet{new(Payment), new(QuoteLiquidityRequest), new(QuoteLiquidityResponse),
		new(QuoteBySourceRequest), new(QuoteByDestinationRequest), new(QuoteByDestinationResponse), new(Error)} {
		err := p.UnmarshalBinary(in)
		checkDecodeError(t, err, ErrWrongType, "type", 0)
		if !strings.Contains(err.Error(), "got ilqp_by_source_response, want "+p.Type().String()) {
			t.Errorf("message %q", err)
		}
	}
	if err := new(QuoteBySourceResponse).UnmarshalBinary(in); err != nil {
		t.Errorf("right type refused: %v", err)
	}
}

// TestUnmarshalLeavesValueOnError checks that a failed decode changes
// nothing, and that a decode does not share memory with its input.
func TestUnmarshalLeavesValueOnError(t *testing.T) {
	p := Payment{Amount: 5, Account: "g.a", Data: []byte{1}}
	if err := p.UnmarshalBinary(h(t, "01 0a 000000000000006b 05 61")); err == nil {
		t.Fatal("no error")
	}
	if p.Amount != 5 || p.Account != "g.a" || !bytes.Equal(p.Data, []byte{1}) {
		t.Errorf("value changed to %+v", p)
	}
	in := h(t, env(t, TypePayment, "000000000000006b", str("g.a"), "02 0102", "00 77"))
	if err := p.UnmarshalBinary(in); err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0
	}
	if p.Account != "g.a" || !bytes.Equal(p.Data, []byte{1, 2}) || !bytes.Equal(p.Wire.Extension, []byte{0, 0x77}) {
		t.Errorf("decoded value shares memory with the input: %+v", p)
	}
}

func TestTypeString(t *testing.T) {
	for ty := Type(0); ty < 12; ty++ {
		s := ty.String()
		back, ok := ParseType(s)
		if valid := ty >= TypePayment && ty <= TypeError; ok != valid || (ok && back != ty) {
			t.Errorf("Type(%d).String() = %q, ParseType = %d, %v", ty, s, back, ok)
		}
	}
	if TypeError.String() != "ilp_error" || Type(9).String() != "type(9)" {
		t.Errorf("names: %q %q", TypeError, Type(9))
	}
}

func TestErrorIsAnError(t *testing.T) {
	var err error = NewError(CodeInsufficientTimeout, "g.c", time.Now(), nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != "R02" || e.Name != "Insufficient Timeout" {
		t.Fatalf("errors.As: %+v", e)
	}
	if got := err.Error(); got != "ilp error R02 Insufficient Timeout (triggered by g.c)" {
		t.Errorf("Error() = %q", got)
	}
}
