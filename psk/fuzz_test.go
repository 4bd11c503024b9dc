package psk

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
)

// fuzzSecret is the shared secret of the vector payments, so that the
// encrypted vector details decrypt while fuzzing.
func fuzzSecret(f *testing.F) []byte {
	for _, v := range loadVectors(f) {
		if v.PSKDataHex != "" {
			f.Add(unhex(f, v.PSKDataHex))
		}
	}
	for _, v := range loadVectors(f) {
		if v.ReceiverParsed != nil {
			return unb64(f, v.SharedSecret)
		}
	}
	f.Fatal("no payment vector")
	return nil
}

// FuzzParseDetails checks that ParseDetails never panics, that whatever it
// accepts Format can write back, and that parse → format → parse is stable:
// the second parse gives the same details (up to the tag, which changes
// with the lower-cased names), and formatting them again gives the same
// bytes.
func FuzzParseDetails(f *testing.F) {
	secret := fuzzSecret(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d1, err := ParseDetails(data, secret)
		if err != nil {
			return
		}
		out1, err := d1.Format(secret)
		if err != nil {
			t.Fatalf("Format of parsed details: %v\ndetails %q", err, data)
		}
		d2, err := ParseDetails(out1, secret)
		if err != nil {
			t.Fatalf("parsing formatted details: %v\nformatted %q", err, out1)
		}
		if !sameUpToTag(d1, d2) {
			t.Fatalf("details changed:\n%+v\n%+v", d1, d2)
		}
		out2, err := d2.Format(secret)
		if err != nil || !bytes.Equal(out1, out2) {
			t.Fatalf("second Format differs (%v):\n%q\n%q", err, out1, out2)
		}
	})
}

// FuzzReceive checks that no transfer makes Receive panic, and that its
// outcome is always one of the three kinds.
func FuzzReceive(f *testing.F) {
	fx := newFixture(f)
	in, _ := fx.pay(f, nil)
	f.Add(in.ILP, in.ExecutionCondition, uint64(100))
	f.Add(in.ILP, in.ExecutionCondition, uint64(0))
	f.Add("AQ", "x", uint64(1))
	r := fx.receiver()
	f.Fuzz(func(t *testing.T, packet, condition string, amount uint64) {
		got, err := r.Receive(Incoming{Amount: amount, ExecutionCondition: condition, ILP: packet, ExpiresAt: testNow.Add(time.Second)})
		var rej *Rejection
		switch {
		case err == nil:
			if got.DestinationAmount != amount || ilp.ConditionOf(got.Fulfillment).String() != condition {
				t.Fatalf("accepted %d for a transfer of %d with condition %q", got.DestinationAmount, amount, condition)
			}
		case errors.Is(err, ErrNotMine):
		case errors.As(err, &rej):
			if rej.Code == "" || rej.Name == "" || rej.Message == "" {
				t.Fatalf("incomplete rejection %+v", rej)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
