package psk

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
)

// A receiving account and the payment setup a test sender got from SPSP.
const testAccount = "example.kit.alice"

var testNow = time.Date(2017, 7, 24, 12, 0, 0, 0, time.UTC)

type fixture struct {
	secret []byte
	params Params
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	secret := []byte("alice's receiver secret")
	p, err := GenerateParams(bytes.NewReader(bytes.Repeat([]byte{7}, TokenSize)), testAccount, secret)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{secret: secret, params: p}
}

func (f fixture) receiver() *Receiver {
	return &Receiver{Account: testAccount, Secret: f.secret, Now: func() time.Time { return testNow }}
}

// pay builds a payment of 100 with the given tweaks and returns the
// transfer that carries it.
func (f fixture) pay(t testing.TB, tweak func(*PaymentParams)) (Incoming, Packet) {
	t.Helper()
	p := PaymentParams{
		DestinationAccount: f.params.DestinationAccount,
		DestinationAmount:  100,
		SharedSecret:       f.params.SharedSecret,
		Headers:            Headers{{"Content-Type", "application/json"}, {"Source-Name", "Bob"}},
		Data:               []byte(`{"note":"lunch"}`),
		Rand:               bytes.NewReader(bytes.Repeat([]byte{9}, NonceSize)),
	}
	if tweak != nil {
		tweak(&p)
	}
	pkt, err := CreatePacketAndCondition(p)
	if err != nil {
		t.Fatal(err)
	}
	return Incoming{
		Amount:             100,
		ExecutionCondition: pkt.Condition.String(),
		ExpiresAt:          testNow.Add(10 * time.Second),
		ILP:                pkt.ILP(),
	}, pkt
}

// rawDetails wraps hand-made details in a packet to the fixture's address,
// with the condition a sender holding the shared secret would compute.
func (f fixture) rawDetails(t testing.TB, details string) Incoming {
	t.Helper()
	return f.rawPacket(t, f.params.DestinationAccount, []byte(details))
}

func (f fixture) rawPacket(t testing.TB, account string, details []byte) Incoming {
	t.Helper()
	packet, err := (&ilp.Payment{Amount: 100, Account: account, Data: details}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return Incoming{
		Amount:             100,
		ExecutionCondition: ConditionOf(f.params.SharedSecret, packet).String(),
		ILP:                ilp.EncodeBase64URL(packet),
	}
}

func TestReceiveAccepts(t *testing.T) {
	f := newFixture(t)
	in, pkt := f.pay(t, nil)
	got, err := f.receiver().Receive(in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fulfillment != pkt.Fulfillment || !ilp.Verify(got.Fulfillment, pkt.Condition) {
		t.Errorf("fulfillment %s does not fulfill %s", got.Fulfillment, pkt.Condition)
	}
	if got.DestinationAmount != 100 || got.DestinationAccount != f.params.DestinationAccount {
		t.Errorf("got %d to %s", got.DestinationAmount, got.DestinationAccount)
	}
	if got.Details.Headers.Get("source-name") != "Bob" || string(got.Details.Data) != `{"note":"lunch"}` {
		t.Errorf("details = %+v", got.Details)
	}
	if !got.Details.Encrypted() {
		t.Error("payment not seen as encrypted")
	}
}

func TestReceiveOutcomes(t *testing.T) {
	f := newFixture(t)
	rid := ilp.EncodeBase64URL(ReceiverID(f.secret))
	token := strings.TrimPrefix(f.params.DestinationAccount, testAccount+"."+rid)
	nonce := "Nonce: CQkJCQkJCQkJCQkJCQkJCQ"

	type outcome struct {
		code, legacy, message string // empty code: ErrNotMine
	}
	notMine := outcome{}
	f00 := func(m string) outcome { return outcome{ilp.CodeBadRequest, "S00", m} }
	f01 := func(m string) outcome { return outcome{ilp.CodeInvalidPacket, "S01", m} }
	f06 := func(m string) outcome { return outcome{ilp.CodeUnexpectedPayment, "S06", m} }
	r00 := func(m string) outcome { return outcome{ilp.CodeTransferTimedOut, "R01", m} }
	const (
		invalidPacket = "got notification of transfer with invalid ILP packet"
		unspecified   = "unspecified PSK error"
		badEncryption = "unsupported PSK encryption method"
		expiredPacket = "got notification of transfer with expired packet"
	)

	cases := []struct {
		name string
		in   func() Incoming
		want outcome
	}{
		{"no execution condition", func() Incoming {
			in, _ := f.pay(t, nil)
			in.ExecutionCondition = ""
			return in
		}, f00("got notification of transfer without executionCondition")},
		{"no packet", func() Incoming {
			in, _ := f.pay(t, nil)
			in.ILP = ""
			return in
		}, f01("got notification of transfer with no packet attached")},
		{"packet in padded base64", func() Incoming {
			in, _ := f.pay(t, nil)
			in.ILP += "=="
			return in
		}, f01(invalidPacket)},
		{"packet in standard base64", func() Incoming {
			in, _ := f.pay(t, nil)
			in.ILP = strings.NewReplacer("-", "+", "_", "/").Replace(in.ILP) + "+"
			return in
		}, f01(invalidPacket)},
		{"not a payment packet", func() Incoming {
			in, _ := f.pay(t, nil)
			in.ILP = ilp.EncodeBase64URL([]byte{2, 3, 0, 0, 0})
			return in
		}, f01(invalidPacket)},
		{"truncated packet", func() Incoming {
			in, pkt := f.pay(t, nil)
			in.ILP = ilp.EncodeBase64URL(pkt.Packet[:len(pkt.Packet)-10])
			return in
		}, f01(invalidPacket)},
		{"other ledger", func() Incoming {
			return f.rawPacket(t, "example.other."+rid+token, nil)
		}, notMine},
		{"the account itself", func() Incoming {
			return f.rawPacket(t, testAccount, nil)
		}, notMine},
		{"account continued without a dot", func() Incoming {
			return f.rawPacket(t, testAccount+"x"+rid+token, nil)
		}, notMine},
		{"other receiver", func() Incoming {
			return f.rawPacket(t, testAccount+".AAAAAAAAAAA"+token, nil)
		}, notMine},
		{"receiver id in a later segment", func() Incoming {
			return f.rawPacket(t, testAccount+".x."+rid+token, nil)
		}, notMine},
		{"status PSK/2.0", func() Incoming {
			return f.rawDetails(t, "PSK/2.0\n"+nonce+"\nEncryption: none\n\n\n\n")
		}, f06("unsupported PSK version or status")},
		{"status with trailing space", func() Incoming {
			return f.rawDetails(t, "PSK/1.0 \n"+nonce+"\nEncryption: none\n\n\n\n")
		}, f06("unsupported PSK version or status")},
		{"no blank line", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: none\n")
		}, f06(unspecified)},
		{"key header", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: none\nKey: hmac-sha-256 abc\n\n\n\n")
		}, f06("unsupported PSK key derivation")},
		{"key header twice, empty", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: none\nKey:\nKey:\n\n\n\n")
		}, f06("unsupported PSK key derivation")},
		{"no nonce", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\nEncryption: none\n\n\n\n")
		}, f06("missing PSK nonce")},
		{"empty nonce", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\nNonce:   \nEncryption: none\n\n\n\n")
		}, f06("missing PSK nonce")},
		{"no encryption header", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\n\n\n\n")
		}, f06(badEncryption)},
		{"other encryption", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: aes-256-ctr\n\n\n\n")
		}, f06(badEncryption)},
		{"None in capitals", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: None\n\n\n\n")
		}, f06(badEncryption)},
		{"encryption twice", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: none\nEncryption: none\n\n\n\n")
		}, f06(badEncryption)},
		{"encryption without tag", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: aes-256-gcm\n\n")
		}, f06(badEncryption)},
		{"encryption with a short tag", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: aes-256-gcm AAAAAAAAAAAAAAAAAAAAA\n\n")
		}, f06(badEncryption)},
		{"encryption with two spaces before the tag", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: aes-256-gcm  AAAAAAAAAAAAAAAAAAAAAA\n\n")
		}, f06(badEncryption)},
		{"tag wrong", func() Incoming {
			_, pkt := f.pay(t, nil)
			return f.retag(t, pkt, func(tag []byte) { tag[0] ^= 1 })
		}, f06(unspecified)},
		{"tag too long", func() Incoming {
			_, pkt := f.pay(t, nil)
			return f.retagText(t, pkt, func(tag string) string { return tag + "AA" })
		}, f06(unspecified)},
		{"ciphertext altered", func() Incoming {
			_, pkt := f.pay(t, nil)
			var p ilp.Payment
			if err := p.UnmarshalBinary(pkt.Packet); err != nil {
				t.Fatal(err)
			}
			p.Data[len(p.Data)-1] ^= 0x80
			return f.rawPacket(t, p.Account, p.Data)
		}, f06(unspecified)},
		{"encrypted, nonce twice", func() Incoming {
			_, pkt := f.pay(t, func(p *PaymentParams) { p.PublicHeaders = Headers{{"X-Nonce", "x"}} })
			return f.rewrite(t, pkt, func(s string) string { return strings.Replace(s, "X-Nonce", "nonce", 1) })
		}, f06(unspecified)},
		{"encrypted, nonce decodes to nothing", func() Incoming {
			_, pkt := f.pay(t, nil)
			return f.rewrite(t, pkt, func(s string) string {
				return strings.Replace(s, "Nonce: CQkJCQkJCQkJCQkJCQkJCQ", "Nonce: =CQkJCQkJCQkJCQkJCQkJCQ", 1)
			})
		}, f06(unspecified)},
		{"plain, no blank line after the private headers", func() Incoming {
			return f.rawDetails(t, "PSK/1.0\n"+nonce+"\nEncryption: none\n\nContent-Type: text/plain\n")
		}, f06(unspecified)},
		{"token altered, encrypted", func() Incoming {
			_, pkt := f.pay(t, nil)
			var p ilp.Payment
			if err := p.UnmarshalBinary(pkt.Packet); err != nil {
				t.Fatal(err)
			}
			return f.rawPacket(t, testAccount+"."+rid+"AAAA"+token[4:], p.Data)
		}, f06(unspecified)},
		{"amount too low", func() Incoming {
			in, _ := f.pay(t, nil)
			in.Amount = 99
			return in
		}, outcome{ilp.CodeInsufficientDestinationAmount, "S04", "got notification of transfer where amount is less than expected"}},
		{"amount too high", func() Incoming {
			in, _ := f.pay(t, nil)
			in.Amount = 101
			return in
		}, outcome{ilp.CodeInvalidAmount, "S03", "got notification of transfer where amount is more than expected"}},
		{"packet expired", func() Incoming {
			in, _ := f.pay(t, func(p *PaymentParams) { p.ExpiresAt = testNow.Add(-time.Millisecond) })
			return in
		}, r00(expiredPacket)},
		{"Expires-At twice, one passed", func() Incoming {
			in, _ := f.pay(t, func(p *PaymentParams) {
				p.Headers = Headers{{"Expires-At", "2030-01-01T00:00:00.000Z"}, {"expires-at", "2017-07-24T11:59:59.999Z"}}
			})
			return in
		}, r00(expiredPacket)},
		{"transfer expired", func() Incoming {
			in, _ := f.pay(t, nil)
			in.ExpiresAt = testNow.Add(-time.Millisecond)
			return in
		}, r00("transfer has already expired")},
		{"wrong condition", func() Incoming {
			in, _ := f.pay(t, nil)
			other, _ := f.pay(t, func(p *PaymentParams) { p.Data = []byte("{}") })
			in.ExecutionCondition = other.ExecutionCondition
			return in
		}, outcome{ilp.CodeWrongCondition, "S05", "receiver generated a different condition from the transfer"}},
		{"condition padded", func() Incoming {
			in, _ := f.pay(t, nil)
			in.ExecutionCondition += "="
			return in
		}, outcome{ilp.CodeWrongCondition, "S05", "receiver generated a different condition from the transfer"}},
		{"token altered, plain", func() Incoming {
			_, pkt := f.pay(t, func(p *PaymentParams) { p.DisableEncryption = true })
			var p ilp.Payment
			if err := p.UnmarshalBinary(pkt.Packet); err != nil {
				t.Fatal(err)
			}
			return f.rawPacket(t, testAccount+"."+rid+"AAAA"+token[4:], p.Data)
		}, outcome{ilp.CodeWrongCondition, "S05", "receiver generated a different condition from the transfer"}},
	}
	// Every case runs on a receiver without a cache and on one whose cache
	// all cases share, so that cached keys meet every bad packet.
	cached := f.receiver()
	cached.Cache = NewKeyCache(f.secret, 0)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in()
			_, err := f.receiver().Receive(in)
			_, errCached := cached.Receive(in)
			if (err == nil) != (errCached == nil) || err != nil && err.Error() != errCached.Error() {
				t.Fatalf("with a key cache: %v, without: %v", errCached, err)
			}
			if c.want.code == "" {
				if !errors.Is(err, ErrNotMine) {
					t.Fatalf("error = %v, want ErrNotMine", err)
				}
				return
			}
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("error = %v, want a rejection", err)
			}
			if rej.Code != c.want.code || rej.LegacyCode != c.want.legacy || rej.Message != c.want.message {
				t.Errorf("rejection %s/%s %q, want %s/%s %q", rej.Code, rej.LegacyCode, rej.Message, c.want.code, c.want.legacy, c.want.message)
			}
			if rej.Name != ilp.CodeName(rej.Code) || rej.Name == "" {
				t.Errorf("name %q for %s", rej.Name, rej.Code)
			}
			if norm, ok := ilp.NormalizeCode(rej.LegacyCode, rej.Name); !ok || norm != rej.Code {
				t.Errorf("legacy %s %q normalises to %s, want %s", rej.LegacyCode, rej.Name, norm, rej.Code)
			}
		})
	}
}

// retag rewrites the tag of an encrypted payment's Encryption header.
func (f fixture) retag(t testing.TB, pkt Packet, change func([]byte)) Incoming {
	t.Helper()
	return f.retagText(t, pkt, func(s string) string {
		tag, err := ilp.DecodeBase64(s)
		if err != nil {
			t.Fatal(err)
		}
		change(tag)
		return ilp.EncodeBase64URL(tag)
	})
}

func (f fixture) retagText(t testing.TB, pkt Packet, change func(string) string) Incoming {
	t.Helper()
	return f.rewrite(t, pkt, func(s string) string {
		const marker = "Encryption: aes-256-gcm "
		i := strings.Index(s, marker) + len(marker)
		return s[:i] + change(s[i:i+22]) + s[i+22:]
	})
}

// rewrite edits the details of a payment as text and re-wraps them.
func (f fixture) rewrite(t testing.TB, pkt Packet, edit func(string) string) Incoming {
	t.Helper()
	var p ilp.Payment
	if err := p.UnmarshalBinary(pkt.Packet); err != nil {
		t.Fatal(err)
	}
	return f.rawPacket(t, p.Account, []byte(edit(string(p.Data))))
}

func TestReceiveOptions(t *testing.T) {
	f := newFixture(t)
	in, _ := f.pay(t, nil)
	in.Amount = 150
	r := f.receiver()
	r.AllowOverPayment = true
	if got, err := r.Receive(in); err != nil || got.DestinationAmount != 100 {
		t.Errorf("overpayment with AllowOverPayment: %v, %v", got.DestinationAmount, err)
	}

	// Expires-At is compared with the injected clock, inclusively.
	exp, _ := f.pay(t, func(p *PaymentParams) { p.ExpiresAt = testNow })
	if _, err := f.receiver().Receive(exp); err != nil {
		t.Errorf("at the instant of Expires-At: %v", err)
	}
	// Repeated, each value still ahead: accepted.
	twice, _ := f.pay(t, func(p *PaymentParams) {
		p.Headers = Headers{{"Expires-At", "2017-07-24T12:00:00.001Z"}, {"expires-at", "2017-07-24T12:00:01Z"}}
	})
	if _, err := f.receiver().Receive(twice); err != nil {
		t.Errorf("Expires-At twice, both ahead: %v", err)
	}
	// An Expires-At that cannot be read is ignored, as 2017 ignored it.
	odd, _ := f.pay(t, func(p *PaymentParams) { p.Headers = Headers{{"Expires-At", "yesterday"}} })
	if _, err := f.receiver().Receive(odd); err != nil {
		t.Errorf("unreadable Expires-At: %v", err)
	}
	// Zone-less and offset forms are read.
	for _, s := range []string{"2017-07-24T11:59:59", "2017-07-24T13:59:59+02:00", "2017-07-23"} {
		past, _ := f.pay(t, func(p *PaymentParams) { p.Headers = Headers{{"Expires-At", s}} })
		var rej *Rejection
		if _, err := f.receiver().Receive(past); !errors.As(err, &rej) || rej.Code != ilp.CodeTransferTimedOut {
			t.Errorf("Expires-At %s: %v, want R00", s, err)
		}
	}
	// A transfer without expiry is fine; a plain payment too.
	plain, pkt := f.pay(t, func(p *PaymentParams) { p.DisableEncryption = true })
	plain.ExpiresAt = time.Time{}
	got, err := f.receiver().Receive(plain)
	if err != nil || got.Fulfillment != pkt.Fulfillment || got.Details.Encrypted() {
		t.Errorf("plain payment: %v", err)
	}
	// A repeated nonce does no harm without encryption, as in 2017.
	dup := f.rawDetails(t, "PSK/1.0\nNonce: a\nNonce: b\nEncryption: none\n\nSource-Name: Bob\n\nhi")
	if got, err := f.receiver().Receive(dup); err != nil || string(got.Details.Data) != "hi" {
		t.Errorf("repeated nonce in clear: %v", err)
	}
	// Later PSK/1.x versions and unknown public headers are accepted.
	later := f.rawDetails(t, "PSK/1.12\nNonce: a\nEncryption: none\nX-Extra: 1\n\n\n\n")
	if _, err := f.receiver().Receive(later); err != nil {
		t.Errorf("PSK/1.12: %v", err)
	}
	// Further segments after the token are part of the token, as in 2017:
	// the payment still decrypts only if the sender used that address.
	rid := ilp.EncodeBase64URL(ReceiverID(f.secret))
	p2, err := GenerateParams(bytes.NewReader(bytes.Repeat([]byte{1}, TokenSize)), testAccount, f.secret)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p2.DestinationAccount, testAccount+"."+rid) {
		t.Fatalf("address %s", p2.DestinationAccount)
	}
	seg := f
	seg.params = Params{DestinationAccount: p2.DestinationAccount + ".x", SharedSecret: SharedSecret(f.secret, ilp.DecodeBase64Node(strings.TrimPrefix(p2.DestinationAccount, testAccount+"."+rid)+".x"))}
	extra, _ := seg.pay(t, nil)
	if _, err := f.receiver().Receive(extra); err != nil {
		t.Errorf("address with a further segment: %v", err)
	}

	if _, err := (&Receiver{Account: testAccount}).Receive(in); err == nil || errors.Is(err, ErrNotMine) {
		t.Errorf("receiver without secret: %v", err)
	}
	var rej *Rejection
	if _, err := (&Receiver{Secret: f.secret}).Receive(in); err == nil || errors.As(err, &rej) {
		t.Errorf("receiver without account: %v", err)
	}
}

func TestRejectedByReceiver(t *testing.T) {
	r := RejectedByReceiver("over the limit")
	if r.Code != ilp.CodeBadRequest || r.Name != "Bad Request" || r.LegacyCode != "S00" ||
		r.Message != "rejected-by-receiver: over the limit" {
		t.Errorf("got %+v", r)
	}
	if m := RejectedByReceiver("").Message; m != "rejected-by-receiver: reason not specified" {
		t.Errorf("empty reason: %q", m)
	}
	if !strings.Contains(r.Error(), "F00") {
		t.Errorf("Error() = %q", r.Error())
	}
}

// TestRejectionKeepsDetailForLogs checks that the cause is kept for logs but
// not put into the message that goes to the sender.
func TestRejectionKeepsDetailForLogs(t *testing.T) {
	f := newFixture(t)
	in, _ := f.pay(t, nil)
	in.Amount = 42
	_, err := f.receiver().Receive(in)
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Err == nil {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(rej.Message, "42") || !strings.Contains(err.Error(), "42") {
		t.Errorf("message %q, log text %q", rej.Message, err.Error())
	}
}

// TestKeyCache checks that a receiver with a key cache accepts what one
// without accepts, with the same fulfillment, that the cache stays within
// its size, and that a cache made for another secret is not used.
func TestKeyCache(t *testing.T) {
	f := newFixture(t)
	r := f.receiver()
	r.Cache = NewKeyCache(f.secret, 3)
	for i := range 10 {
		p, err := GenerateParams(bytes.NewReader(bytes.Repeat([]byte{byte(i)}, TokenSize)), testAccount, f.secret)
		if err != nil {
			t.Fatal(err)
		}
		g := fixture{secret: f.secret, params: p}
		for range 2 {
			in, pkt := g.pay(t, nil)
			got, err := r.Receive(in)
			if err != nil {
				t.Fatalf("payment %d: %v", i, err)
			}
			if got.Fulfillment != pkt.Fulfillment {
				t.Fatalf("payment %d: fulfillment %s, want %s", i, got.Fulfillment, pkt.Fulfillment)
			}
		}
		if n := r.Cache.Len(); n > 3 || n < 1 {
			t.Fatalf("cache holds %d addresses, size 3", n)
		}
	}

	// A cache of another receiver secret is ignored: its keys would give
	// the wrong shared secret.
	other := f.receiver()
	other.Cache = NewKeyCache([]byte("another secret"), 0)
	in, pkt := f.pay(t, nil)
	got, err := other.Receive(in)
	if err != nil || got.Fulfillment != pkt.Fulfillment {
		t.Fatalf("with another secret's cache: %v, %s", err, got.Fulfillment)
	}
	if other.Cache.Len() != 0 {
		t.Fatal("a cache of another secret was used")
	}
}

// TestKeysConcurrent receives and creates payments under one Keys and one
// KeyCache from many goroutines (run with -race).
func TestKeysConcurrent(t *testing.T) {
	f := newFixture(t)
	keys, err := NewKeys(f.params.SharedSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := f.receiver()
	r.Cache = NewKeyCache(f.secret, 0)
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			for i := range 50 {
				var pkt Packet
				pkt, err = CreatePacketAndCondition(PaymentParams{
					DestinationAccount: f.params.DestinationAccount,
					DestinationAmount:  uint64(100 + g*50 + i),
					Keys:               keys,
					Data:               []byte("x"),
				})
				if err != nil {
					break
				}
				var got Accepted
				got, err = r.Receive(Incoming{Amount: uint64(100 + g*50 + i), ExecutionCondition: pkt.Condition.String(), ILP: pkt.ILP()})
				if err == nil && got.Fulfillment != pkt.Fulfillment {
					err = errors.New("wrong fulfillment")
				}
				if err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewKeysRefusesEmptySecret(t *testing.T) {
	if _, err := NewKeys(nil); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("NewKeys(nil): %v", err)
	}
	if _, err := CreatePacketAndCondition(PaymentParams{DestinationAccount: testAccount + ".x"}); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("no secret and no keys: %v", err)
	}
}
