package psk

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
)

// TestHeaderParsing pins down how ilp@11 (through parse-headers) read a
// header block.
func TestHeaderParsing(t *testing.T) {
	cases := []struct {
		name, block string
		want        Headers
	}{
		{"empty block", "", nil},
		{"names lower-cased, values kept", "Content-Type: Application/JSON", Headers{{"content-type", "Application/JSON"}}},
		{"spaces around name and value trimmed", "  Name \t:   a  b  ", Headers{{"name", "a  b"}}},
		{"no space after the colon", "a:b", Headers{{"a", "b"}}},
		{"value split at the first colon only", "Url: https://x.example:443/p", Headers{{"url", "https://x.example:443/p"}}},
		{"CR LF line ends", "A: 1\r\nB: 2\r", Headers{{"a", "1"}, {"b", "2"}}},
		{"block trimmed as a whole", "\n\n  A: 1\n \n", Headers{{"a", "1"}}},
		{"blank line inside", "A: 1\n   \nB: 2", Headers{{"a", "1"}, {"", ""}, {"b", "2"}}},
		{"whitespace-only block", " \t ", Headers{{"", ""}}},
		{"line without colon", "Hello", Headers{{"hell", "Hello"}}},
		{"line without colon, multibyte last character", "Grüß", Headers{{"grü", "Grüß"}}},
		{"empty name", ": v", Headers{{"", "v"}}},
		{"repeated names kept in order", "A: 1\na: 2\nB: 3\nA: 4", Headers{{"a", "1"}, {"a", "2"}, {"b", "3"}, {"a", "4"}}},
		{"Unicode spaces trimmed", "\u00a0Name\u3000: \ufeffv\u2028", Headers{{"name", "v"}}},
		{"NEL is not a JavaScript space", "A: v\u0085", Headers{{"a", "v\u0085"}}},
		{"Kelvin sign lower-cases to k", "\u212aey: x", Headers{{"key", "x"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parseBlock(c.block)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("parseBlock(%q) = %q, want %q", c.block, got, c.want)
			}
		})
	}
}

func TestParseDetailsText(t *testing.T) {
	d, err := ParseDetails([]byte("PSK/1.3\nNonce: n\nEncryption: none\nX-A: 1\n\n \u00e9 :\xff\n\n\n\nrest"), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantPublic := Headers{{"nonce", "n"}, {"encryption", "none"}, {"x-a", "1"}}
	if !reflect.DeepEqual(d.PublicHeaders, wantPublic) {
		t.Errorf("public = %q", d.PublicHeaders)
	}
	// Invalid UTF-8 becomes U+FFFD; the data keeps its bytes, blank lines
	// after the first one included.
	if !reflect.DeepEqual(d.Headers, Headers{{"\u00e9", "\ufffd"}}) || string(d.Data) != "\n\nrest" {
		t.Errorf("private = %q, data %q", d.Headers, d.Data)
	}
	if d.Encrypted() {
		t.Error("seen as encrypted")
	}

	for _, status := range []string{"PSK/1.", "PSK/1.0 ", "PSK/1.0\r", "psk/1.0", "PSK/1.x", "PSK/2.0", "PSK/1.0.1", ""} {
		_, err := ParseDetails([]byte(status+"\nNonce: n\nEncryption: none\n\n\n\n"), nil)
		if !errors.Is(err, ErrUnsupportedStatus) {
			t.Errorf("status %q: %v", status, err)
		}
	}
	for _, status := range []string{"PSK/1.0", "PSK/1.1", "PSK/1.0123"} {
		if _, err := ParseDetails([]byte(status+"\nNonce: n\nEncryption: none\n\n\n\n"), nil); err != nil {
			t.Errorf("status %q: %v", status, err)
		}
	}
	// An encrypted payment needs the secret.
	f := newFixture(t)
	_, pkt := f.pay(t, nil)
	var p ilp.Payment
	if err := p.UnmarshalBinary(pkt.Packet); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseDetails(p.Data, nil); !errors.Is(err, ErrInvalidDetails) {
		t.Errorf("encrypted without secret: %v", err)
	}
	// The tag test is not anchored: junk around 22 good characters passes it
	// and the junk is skipped when the tag is decoded, as Node did.
	tag := strings.SplitN(strings.SplitN(string(p.Data), "aes-256-gcm ", 2)[1], "\n", 2)[0]
	junk := strings.Replace(string(p.Data), tag, "!"+tag+"!", 1)
	if d, err := ParseDetails([]byte(junk), f.params.SharedSecret); err != nil || d.Headers.Get("source-name") != "Bob" {
		t.Errorf("tag with junk around it: %v", err)
	}
}

func TestCreatePacketRefusals(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name  string
		tweak func(*PaymentParams)
		want  error
	}{
		{"Nonce as public header", func(p *PaymentParams) { p.PublicHeaders = Headers{{"nONCE", "x"}} }, ErrReservedHeader},
		{"Encryption as public header", func(p *PaymentParams) { p.PublicHeaders = Headers{{"Encryption", "none"}} }, ErrReservedHeader},
		{"Expires-At twice", func(p *PaymentParams) {
			p.ExpiresAt = testNow
			p.Headers = Headers{{"expires-at", "x"}}
		}, ErrReservedHeader},
		{"colon in a name", func(p *PaymentParams) { p.Headers = Headers{{"a:b", "x"}} }, ErrBadHeader},
		{"line break in a name", func(p *PaymentParams) { p.PublicHeaders = Headers{{"a\nb", "x"}} }, ErrBadHeader},
		{"line break in a value", func(p *PaymentParams) { p.Headers = Headers{{"a", "x\ny"}} }, ErrBadHeader},
		{"no shared secret", func(p *PaymentParams) { p.SharedSecret = nil }, ErrNoSecret},
		{"randomness fails", func(p *PaymentParams) { p.Rand = bytes.NewReader([]byte{1, 2}) }, nil},
		{"no destination", func(p *PaymentParams) { p.DestinationAccount = "" }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := PaymentParams{
				DestinationAccount: f.params.DestinationAccount,
				DestinationAmount:  1,
				SharedSecret:       f.params.SharedSecret,
			}
			c.tweak(&p)
			_, err := CreatePacketAndCondition(p)
			if err == nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error = %v, want %v", err, c.want)
			}
		})
	}
}

func TestCreatePacketLayout(t *testing.T) {
	f := newFixture(t)
	_, pkt := f.pay(t, func(p *PaymentParams) {
		p.DisableEncryption = true
		p.ExpiresAt = time.Date(2017, 7, 24, 14, 0, 0, 5e6, time.FixedZone("CEST", 2*3600))
		p.PublicHeaders = Headers{{"X-B", "2"}, {"X-A", "1"}}
		p.Headers = Headers{{"Z", "last letter"}, {"A", "first"}}
		p.Data = []byte("data\n\nwith blank lines")
	})
	var p ilp.Payment
	if err := p.UnmarshalBinary(pkt.Packet); err != nil {
		t.Fatal(err)
	}
	want := "PSK/1.0\nNonce: CQkJCQkJCQkJCQkJCQkJCQ\nEncryption: none\nX-B: 2\nX-A: 1\n\n" +
		"Expires-At: 2017-07-24T12:00:00.005Z\nZ: last letter\nA: first\n\ndata\n\nwith blank lines"
	if string(p.Data) != want {
		t.Errorf("details =\n%q\nwant\n%q", p.Data, want)
	}
	if p.Amount != 100 || p.Account != f.params.DestinationAccount {
		t.Errorf("packet %d to %s", p.Amount, p.Account)
	}
	if pkt.Condition != ConditionOf(f.params.SharedSecret, pkt.Packet) {
		t.Error("condition is not that of the packet bytes")
	}
	// No headers and no data at all.
	empty, err := CreatePacketAndCondition(PaymentParams{
		DestinationAccount: "example.b", SharedSecret: []byte{1}, DisableEncryption: true,
		Rand: bytes.NewReader(make([]byte, NonceSize)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.UnmarshalBinary(empty.Packet); err != nil {
		t.Fatal(err)
	}
	if want := "PSK/1.0\nNonce: AAAAAAAAAAAAAAAAAAAAAA\nEncryption: none\n\n\n\n"; string(p.Data) != want {
		t.Errorf("empty details = %q, want %q", p.Data, want)
	}
}

func TestFormat(t *testing.T) {
	f := newFixture(t)
	in, _ := f.pay(t, func(p *PaymentParams) { p.PublicHeaders = Headers{{"X-Public", "yes"}} })
	got, err := f.receiver().Receive(in)
	if err != nil {
		t.Fatal(err)
	}
	d := got.Details
	b, err := d.Format(f.params.SharedSecret)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseDetails(b, f.params.SharedSecret)
	if err != nil {
		t.Fatal(err)
	}
	// The names were lower-cased by parsing, so the plaintext and its tag
	// changed; everything else is the same, and a second round is exact.
	if !sameUpToTag(again, d) {
		t.Errorf("Format then ParseDetails = %+v, want %+v", again, d)
	}
	if again.PublicHeaders.Get("encryption") == d.PublicHeaders.Get("encryption") {
		t.Error("tag not recomputed")
	}
	if b2, err := again.Format(f.params.SharedSecret); err != nil || !bytes.Equal(b2, b) {
		t.Errorf("second Format differs: %v", err)
	}
	if _, err := d.Format(nil); !errors.Is(err, ErrNoSecret) {
		t.Errorf("encrypted Format without secret: %v", err)
	}
	if _, err := (Details{}).Format(nil); !errors.Is(err, ErrInvalidDetails) {
		t.Errorf("Format without public headers: %v", err)
	}
	bad := d
	bad.Headers = Headers{{"a:b", ""}}
	if _, err := bad.Format(f.params.SharedSecret); !errors.Is(err, ErrBadHeader) {
		t.Errorf("Format with a bad name: %v", err)
	}
}

func TestIPRErrors(t *testing.T) {
	var c ilp.Condition
	c[0] = 0xaa
	packet := bytes.Repeat([]byte{1}, 300) // long-form length
	b := EncodeIPR(c, packet)
	if b[33] != 0x82 {
		t.Fatalf("length determinant %x, want 82 01 2c", b[33:36])
	}
	gotC, gotP, err := DecodeIPR(append(b, 0xff)) // trailing bytes ignored
	if err != nil || gotC != c || !bytes.Equal(gotP, packet) {
		t.Fatalf("DecodeIPR: %v", err)
	}
	empty := EncodeIPR(c, nil)
	if _, p, err := DecodeIPR(empty); err != nil || len(p) != 0 {
		t.Errorf("empty packet: %x, %v", p, err)
	}
	bad := map[string][]byte{
		"empty":         nil,
		"version 1":     append([]byte{1}, b[1:]...),
		"no length":     b[:33],
		"truncated":     b[:len(b)-1],
		"non-canonical": append(append(append([]byte{}, b[:33]...), 0x81, 0x05), 1, 2, 3, 4, 5),
	}
	for name, in := range bad {
		if _, _, err := DecodeIPR(in); !errors.Is(err, ErrInvalidIPR) {
			t.Errorf("%s: error = %v", name, err)
		}
	}
}

// sameUpToTag compares details, ignoring the value of the encryption headers
// (the tag) when both are encrypted.
func sameUpToTag(a, b Details) bool {
	if a.Encrypted() != b.Encrypted() || len(a.PublicHeaders) != len(b.PublicHeaders) {
		return false
	}
	for i := range a.PublicHeaders {
		x, y := a.PublicHeaders[i], b.PublicHeaders[i]
		if x.Name != y.Name || x.Value != y.Value && !(a.Encrypted() && x.Name == "encryption") {
			return false
		}
	}
	return reflect.DeepEqual(a.Headers, b.Headers) && bytes.Equal(a.Data, b.Data)
}
