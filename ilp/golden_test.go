package ilp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/vectors"
)

// packetVectors is the shape of ilp_packet_ilqp.json.
type packetVectors struct {
	Vectors []struct {
		Type   string         `json:"type"`
		Name   string         `json:"name"`
		JSON   map[string]any `json:"json"`
		Hex    string         `json:"hex"`
		TypeID json.Number    `json:"typeId"`
	} `json:"vectors"`
	OERPrimitives []map[string]any `json:"oer_primitives"`
	RFCExamples   []map[string]any `json:"rfc_examples"`
}

func loadPacketVectors(tb testing.TB) packetVectors {
	tb.Helper()
	var v packetVectors
	vectors.Load(tb, "ilp_packet_ilqp.json", &v)
	if len(v.Vectors) == 0 {
		tb.Fatal("no packet vectors")
	}
	return v
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatalf("bad hex in vector: %v", err)
	}
	return b
}

// text renders a vector value (string or json.Number) as its text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

// testPoints reads mixed-endian curve bytes (hi32 LE, lo32 LE per uint64),
// independently of the codec, to check the vectors' point lists.
func testPoints(b []byte) [][2]string {
	var pts [][2]string
	u := func(p []byte) string {
		return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(p))<<32|uint64(binary.LittleEndian.Uint32(p[4:])), 10)
	}
	for i := 0; i+16 <= len(b); i += 16 {
		pts = append(pts, [2]string{u(b[i:]), u(b[i+8:])})
	}
	return pts
}

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// fieldsOf gives a decoded packet's fields in the shape of the vectors' json
// objects (the shape ilp-packet 1.3.0 returned), with binary fields in hex.
func fieldsOf(p Packet) map[string]string {
	switch p := p.(type) {
	case *Payment:
		return map[string]string{"amount": strconv.FormatUint(p.Amount, 10), "account": p.Account,
			"data": EncodeBase64URL(p.Data), "data_hex": hex.EncodeToString(p.Data)}
	case *QuoteLiquidityRequest:
		return map[string]string{"destinationAccount": p.DestinationAccount,
			"destinationHoldDuration": strconv.FormatUint(uint64(p.DestinationHoldDuration), 10)}
	case *QuoteLiquidityResponse:
		return map[string]string{"liquidityCurve": hex.EncodeToString(p.LiquidityCurve),
			"curve_bytes_hex": hex.EncodeToString(p.LiquidityCurve),
			"curve_base64":    base64Std(p.LiquidityCurve),
			"appliesToPrefix": p.AppliesToPrefix, "expiresAt": iso(p.ExpiresAt),
			"sourceHoldDuration": strconv.FormatUint(uint64(p.SourceHoldDuration), 10)}
	case *QuoteBySourceRequest:
		return map[string]string{"destinationAccount": p.DestinationAccount,
			"sourceAmount":            strconv.FormatUint(p.SourceAmount, 10),
			"destinationHoldDuration": strconv.FormatUint(uint64(p.DestinationHoldDuration), 10)}
	case *QuoteBySourceResponse:
		return map[string]string{"destinationAmount": strconv.FormatUint(p.DestinationAmount, 10),
			"sourceHoldDuration": strconv.FormatUint(uint64(p.SourceHoldDuration), 10)}
	case *QuoteByDestinationRequest:
		return map[string]string{"destinationAccount": p.DestinationAccount,
			"destinationAmount":       strconv.FormatUint(p.DestinationAmount, 10),
			"destinationHoldDuration": strconv.FormatUint(uint64(p.DestinationHoldDuration), 10)}
	case *QuoteByDestinationResponse:
		return map[string]string{"sourceAmount": strconv.FormatUint(p.SourceAmount, 10),
			"sourceHoldDuration": strconv.FormatUint(uint64(p.SourceHoldDuration), 10)}
	case *Error:
		fwd, _ := json.Marshal(append([]string{}, p.ForwardedBy...))
		return map[string]string{"code": p.Code, "name": p.Name, "triggeredBy": p.TriggeredBy,
			"forwardedBy": string(fwd), "triggeredAt": iso(p.TriggeredAt), "data": string(p.Data)}
	}
	return nil
}

func base64Std(b []byte) string {
	// The vectors give curve_base64 in standard padded base64 (the RFC 0008
	// form); build it from the URL form to avoid a second encoder.
	s := EncodeBase64URL(b)
	out := []byte(s)
	for i, c := range out {
		switch c {
		case '-':
			out[i] = '+'
		case '_':
			out[i] = '/'
		}
	}
	for len(out)%4 != 0 {
		out = append(out, '=')
	}
	return string(out)
}

// TestGoldenPackets decodes every vector, compares every field with its json
// object, and encodes it back to the identical bytes.
func TestGoldenPackets(t *testing.T) {
	v := loadPacketVectors(t)
	seen := map[Type]bool{}
	for i, vec := range v.Vectors {
		t.Run(fmt.Sprintf("%02d_%s_%s", i, vec.Type, vec.Name), func(t *testing.T) {
			raw := mustHex(t, vec.Hex)
			p, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			seen[p.Type()] = true
			if got := p.Type().String(); got != vec.Type {
				t.Errorf("type %q, want %q", got, vec.Type)
			}
			if got := strconv.Itoa(int(p.Type())); got != vec.TypeID.String() {
				t.Errorf("type id %s, want %s", got, vec.TypeID)
			}
			fields := fieldsOf(p)
			for k, want := range vec.JSON {
				switch k {
				case "forwardedBy":
					w, _ := json.Marshal(want)
					if fields[k] != string(w) {
						t.Errorf("%s = %s, want %s", k, fields[k], w)
					}
				case "liquidityCurve_points":
					var wantPts [][2]string
					for _, pt := range want.([]any) {
						xy := pt.([]any)
						wantPts = append(wantPts, [2]string{text(xy[0]), text(xy[1])})
					}
					gotPts := testPoints(p.(*QuoteLiquidityResponse).LiquidityCurve)
					if fmt.Sprint(gotPts) != fmt.Sprint(wantPts) {
						t.Errorf("curve points %v, want %v", gotPts, wantPts)
					}
				default:
					got, ok := fields[k]
					if !ok {
						t.Fatalf("vector field %q has no counterpart", k)
					}
					if got != text(want) {
						t.Errorf("%s = %q, want %q", k, got, text(want))
					}
				}
			}
			if w := wireOf(p); w.Extension != nil || w.CountWidth != 0 || w.Time != "" {
				t.Errorf("2017 serializer output decoded with non-zero Wire %+v", *w)
			}

			enc, err := p.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			if !bytes.Equal(enc, raw) {
				t.Errorf("MarshalBinary\n got %x\nwant %x", enc, raw)
			}
			prefix := []byte("prefix")
			app, err := p.AppendBinary(prefix)
			if err != nil || !bytes.Equal(app, append([]byte("prefix"), raw...)) {
				t.Errorf("AppendBinary = %x, %v", app, err)
			}
			if n, err := EnvelopeLen(raw); err != nil || n != len(raw) {
				t.Errorf("EnvelopeLen = %d, %v; want %d", n, err, len(raw))
			}

			// The concrete type's own decoder agrees with Decode.
			fresh := newPacket(p.Type())
			if err := fresh.UnmarshalBinary(raw); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if fmt.Sprint(fieldsOf(fresh)) != fmt.Sprint(fields) {
				t.Errorf("UnmarshalBinary gives %v, Decode %v", fieldsOf(fresh), fields)
			}
		})
	}
	for ty := TypePayment; ty <= TypeError; ty++ {
		if !seen[ty] {
			t.Errorf("no vector of type %v", ty)
		}
	}
}

func newPacket(t Type) Packet {
	switch t {
	case TypePayment:
		return new(Payment)
	case TypeQuoteLiquidityRequest:
		return new(QuoteLiquidityRequest)
	case TypeQuoteLiquidityResponse:
		return new(QuoteLiquidityResponse)
	case TypeQuoteBySourceRequest:
		return new(QuoteBySourceRequest)
	case TypeQuoteBySourceResponse:
		return new(QuoteBySourceResponse)
	case TypeQuoteByDestinationRequest:
		return new(QuoteByDestinationRequest)
	case TypeQuoteByDestinationResponse:
		return new(QuoteByDestinationResponse)
	case TypeError:
		return new(Error)
	}
	return nil
}

// TestGoldenOERPrimitives checks the oer-utils writer examples and the
// reader's refusals listed beside them.
func TestGoldenOERPrimitives(t *testing.T) {
	v := loadPacketVectors(t)
	checked := 0
	for i, p := range v.OERPrimitives {
		op, _ := p["op"].(string)
		name := fmt.Sprintf("%02d_%s", i, op)
		switch {
		case op == "writeVarUInt":
			n, err := strconv.ParseUint(text(p["value"]), 10, 64)
			if err != nil {
				t.Fatalf("%s: value: %v", name, err)
			}
			want := mustHex(t, text(p["hex"]))
			if got := appendVarUint(nil, n, 0); !bytes.Equal(got, want) {
				t.Errorf("%s: appendVarUint(%d) = %x, want %x", name, n, got, want)
			}
			if got := varUintSize(n, 0); got != len(want) {
				t.Errorf("%s: varUintSize(%d) = %d, want %d", name, n, got, len(want))
			}
			r := reader{b: want, end: len(want)}
			got, width, err := r.varUint("v")
			if len(want)-1 > maxVarUintLen {
				// oer-utils 1.3 wrote seven-byte VarUInts but refused to read them.
				if !errors.Is(err, ErrVarUintTooLong) {
					t.Errorf("%s: reading %x: err %v, want ErrVarUintTooLong as 2017", name, want, err)
				}
			} else if err != nil || got != n || width != len(want)-1 || r.off != len(want) {
				t.Errorf("%s: reading %x = %d (width %d), %v", name, want, got, width, err)
			}
			checked++
		case op == "writeVarOctetString" && p["value_hex"] != nil:
			val := mustHex(t, text(p["value_hex"]))
			want := mustHex(t, text(p["hex"]))
			if got := appendVarBytes(nil, val); !bytes.Equal(got, want) {
				t.Errorf("%s: appendVarBytes(%x) = %x, want %x", name, val, got, want)
			}
			r := reader{b: want, end: len(want)}
			if got, err := r.varOctets("v"); err != nil || !bytes.Equal(got, val) {
				t.Errorf("%s: reading %x = %x, %v", name, want, got, err)
			}
			checked++
		case op == "writeVarOctetString" && p["hex_prefix"] != nil:
			// "256 zero bytes"
			total, _ := strconv.Atoi(text(p["total_len"]))
			prefix := mustHex(t, text(p["hex_prefix"]))
			val := make([]byte, total-len(prefix))
			got := appendVarBytes(nil, val)
			if len(got) != total || !bytes.HasPrefix(got, prefix) {
				t.Errorf("%s: appendVarBytes(%d zero bytes) = %d bytes starting %x, want %d starting %x",
					name, len(val), len(got), got[:3], total, prefix)
			}
			r := reader{b: got, end: len(got)}
			if back, err := r.varOctets("v"); err != nil || !bytes.Equal(back, val) {
				t.Errorf("%s: reading back: %v", name, err)
			}
			checked++
		case p["note"] != nil:
			// The reader refuses non-canonical long forms: a length below
			// 128 in the long form, and leading zero length bytes.
			for _, h := range []string{"8105" + "0000000000", "820005" + "0000000000", "820080" + hex.EncodeToString(make([]byte, 128))} {
				b := mustHex(t, h)
				r := reader{b: b, end: len(b)}
				if _, err := r.length("v"); !errors.Is(err, ErrNonCanonicalLength) {
					t.Errorf("%s: length(%s...) err = %v, want ErrNonCanonicalLength", name, h[:6], err)
				}
			}
			checked++
		default:
			t.Errorf("%s: unknown primitive vector %v", name, p)
		}
	}
	if checked != len(v.OERPrimitives) {
		t.Errorf("checked %d of %d primitive vectors", checked, len(v.OERPrimitives))
	}
}

// TestGoldenRFCExamples checks the RFC 0008 and 0021 examples.
func TestGoldenRFCExamples(t *testing.T) {
	v := loadPacketVectors(t)
	if len(v.RFCExamples) == 0 {
		t.Fatal("no RFC examples")
	}
	for i, ex := range v.RFCExamples {
		name := text(ex["name"])
		b, err := DecodeBase64(text(ex["base64"]))
		if err != nil {
			t.Fatalf("%d %s: DecodeBase64: %v", i, name, err)
		}
		switch {
		case ex["decoded"] != nil:
			want := mustHex(t, text(ex["hex"]))
			if !bytes.Equal(b, want) {
				t.Errorf("%s: base64 gives %x, want %x", name, b, want)
			}
			p, err := Decode(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			pay := p.(*Payment)
			dec := ex["decoded"].(map[string]any)
			if got := strconv.FormatUint(pay.Amount, 10); got != text(dec["amount"]) {
				t.Errorf("%s: amount %s, want %s", name, got, text(dec["amount"]))
			}
			if pay.Account != text(dec["account"]) {
				t.Errorf("%s: account %q, want %q", name, pay.Account, text(dec["account"]))
			}
			if got := EncodeBase64URL(pay.Data); got != text(dec["data_b64url"]) {
				t.Errorf("%s: data %q, want %q", name, got, text(dec["data_b64url"]))
			}
			if enc, _ := p.MarshalBinary(); !bytes.Equal(enc, b) {
				t.Errorf("%s: re-encoded %x, want %x", name, enc, b)
			}
		case bytes.Contains([]byte(name), []byte("NOT a valid packet")):
			if _, err := Decode(b); err == nil {
				t.Errorf("%s: decoded, want an error", name)
			}
		default:
			// A bare liquidity curve: it must be the bytes of the generated
			// vector with the same curve.
			found := false
			for _, vec := range v.Vectors {
				if text(vec.JSON["curve_base64"]) == text(ex["base64"]) {
					found = true
					if want := mustHex(t, text(vec.JSON["curve_bytes_hex"])); !bytes.Equal(b, want) {
						t.Errorf("%s: curve bytes %x, want %x", name, b, want)
					}
				}
			}
			if !found {
				t.Errorf("%s: no packet vector carries this curve", name)
			}
		}
	}
}

// wireOf returns a packet's Wire.
func wireOf(p Packet) *Wire {
	switch p := p.(type) {
	case *Payment:
		return &p.Wire
	case *QuoteLiquidityRequest:
		return &p.Wire
	case *QuoteLiquidityResponse:
		return &p.Wire
	case *QuoteBySourceRequest:
		return &p.Wire
	case *QuoteBySourceResponse:
		return &p.Wire
	case *QuoteByDestinationRequest:
		return &p.Wire
	case *QuoteByDestinationResponse:
		return &p.Wire
	case *Error:
		return &p.Wire
	}
	return nil
}
