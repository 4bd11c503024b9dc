package psk

import (
	"bytes"
	"testing"
)

// spspPayment is a payment shaped like one an ILP Kit sender made: SPSP
// headers and a small JSON memo, encrypted.
func spspPayment(b *testing.B) (fixture, Incoming) {
	f := newFixture(b)
	in, _ := f.pay(b, func(p *PaymentParams) {
		p.Headers = Headers{
			{"Content-Length", "17"},
			{"Content-Type", "application/json"},
			{"Source-Identifier", "bob@wallet2.example"},
			{"Source-Name", "Bob"},
			{"Source-Image-Url", "https://wallet2.example/api/users/bob/profilepic"},
			{"Message", "thanks for lunch"},
		}
		p.Data = []byte(`{"memo":"lunch"}`)
	})
	return f, in
}

// BenchmarkReceive measures receiving one encrypted PSK payment: decoding
// and parsing the packet, deriving the keys, decrypting the details and
// computing the fulfillment.
func BenchmarkReceive(b *testing.B) {
	f, in := spspPayment(b)
	r := f.receiver()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Receive(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreatePacketAndCondition measures building the same payment.
func BenchmarkCreatePacketAndCondition(b *testing.B) {
	f, _ := spspPayment(b)
	nonce := bytes.Repeat([]byte{9}, NonceSize)
	p := PaymentParams{
		DestinationAccount: f.params.DestinationAccount,
		DestinationAmount:  100,
		SharedSecret:       f.params.SharedSecret,
		Headers:            Headers{{"Content-Type", "application/json"}, {"Source-Name", "Bob"}},
		Data:               []byte(`{"memo":"lunch"}`),
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Rand = bytes.NewReader(nonce)
		if _, err := CreatePacketAndCondition(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiveCached is BenchmarkReceive with a key cache: payments to
// an address seen before.
func BenchmarkReceiveCached(b *testing.B) {
	f, in := spspPayment(b)
	r := f.receiver()
	r.Cache = NewKeyCache(f.secret, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Receive(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreatePacketWithKeys is BenchmarkCreatePacketAndCondition with
// the keys of the shared secret derived once.
func BenchmarkCreatePacketWithKeys(b *testing.B) {
	f, _ := spspPayment(b)
	keys, err := NewKeys(f.params.SharedSecret)
	if err != nil {
		b.Fatal(err)
	}
	nonce := bytes.Repeat([]byte{9}, NonceSize)
	p := PaymentParams{
		DestinationAccount: f.params.DestinationAccount,
		DestinationAmount:  100,
		Keys:               keys,
		Headers:            Headers{{"Content-Type", "application/json"}, {"Source-Name", "Bob"}},
		Data:               []byte(`{"memo":"lunch"}`),
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Rand = bytes.NewReader(nonce)
		if _, err := CreatePacketAndCondition(p); err != nil {
			b.Fatal(err)
		}
	}
}
