package psk

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/vectors"
)

// vector is one entry of psk_ipr.json; each kind of entry uses some fields.
type vector struct {
	Name string `json:"name"`

	ReceiverSecretUTF8 string `json:"receiverSecret_utf8"`
	ReceiverSecretHex  string `json:"receiverSecret_hex"`
	ReceiverIDHex      string `json:"receiverId_hex"`
	ReceiverIDB64      string `json:"receiverId_b64url"`
	TokenB64           string `json:"token_b64url"`
	TokenHex           string `json:"token_hex"`
	NonceHex           string `json:"nonce_hex"`
	SharedSecretHex    string `json:"sharedSecret_hex"`
	SharedSecretUTF8   string `json:"sharedSecret_utf8"`
	SharedSecret       string `json:"sharedSecret"` // base64url

	Account            string      `json:"account"`
	DestinationAccount string      `json:"destinationAccount"`
	DestinationAmount  json.Number `json:"destinationAmount"`
	ExpiresAt          string      `json:"expiresAt"`

	PacketHex      string          `json:"packet_hex"`
	FulfillmentHex string          `json:"fulfillment_hex"`
	Fulfillment    string          `json:"fulfillment_b64url"`
	Condition      string          `json:"condition_b64url"`
	PrivateHeaders json.RawMessage `json:"privateHeaders_in_order"`
	PrivateData    string          `json:"privateData_utf8"`
	PSKDataHex     string          `json:"pskData_hex"`
	PSKPublicPart  string          `json:"pskData_public_part_utf8"`
	PSKFull        string          `json:"pskData_full_utf8"`
	EncryptionKey  string          `json:"encryptionKey_hex"`
	ILPPacketHex   string          `json:"ilpPacket_hex"`
	ILPPacketB64   string          `json:"ilpPacket_b64url"`
	IPRHex         string          `json:"ipr_hex"`

	ReceiverParsed *struct {
		PublicHeaders map[string]string `json:"publicHeaders"`
		Headers       map[string]string `json:"headers"`
		Data          string            `json:"data_utf8"`
	} `json:"receiverParsed"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	vectors.Load(tb, "psk_ipr.json", &file)
	if len(file.Vectors) == 0 {
		tb.Fatal("psk_ipr.json holds no vectors")
	}
	return file.Vectors
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func unb64(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := ilp.DecodeBase64(s)
	if err != nil {
		tb.Fatalf("bad base64 %q: %v", s, err)
	}
	return b
}

func amountOf(tb testing.TB, n json.Number) uint64 {
	tb.Helper()
	var v uint64
	if _, err := fmt.Sscan(n.String(), &v); err != nil {
		tb.Fatalf("bad amount %q: %v", n, err)
	}
	return v
}

// orderedHeaders reads a JSON object into Headers in document order (a Go
// map would lose the order, and the order is part of the packet bytes).
// Values are strings or numbers; a number is written as its JSON text, as
// JavaScript's string concatenation wrote it.
func orderedHeaders(tb testing.TB, raw json.RawMessage) Headers {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		tb.Fatalf("headers: want an object, got %v %v", tok, err)
	}
	var h Headers
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			tb.Fatal(err)
		}
		v, err := dec.Token()
		if err != nil {
			tb.Fatal(err)
		}
		h = append(h, Header{Name: k.(string), Value: fmt.Sprint(v)})
	}
	return h
}

// receiverFor finds, in the generateParams vector that produced
// destinationAccount, the receiver account and secret.
func receiverFor(tb testing.TB, vs []vector, destinationAccount string) (string, []byte) {
	tb.Helper()
	for _, v := range vs {
		if v.ReceiverSecretHex != "" && v.Account != "" && v.DestinationAccount == destinationAccount && v.ILPPacketHex == "" {
			return v.Account, unhex(tb, v.ReceiverSecretHex)
		}
	}
	tb.Fatalf("no vector generated %s", destinationAccount)
	return "", nil
}

// TestVectors runs every vector of psk_ipr.json through the code that
// should reproduce it, and fails on a vector no check recognises.
func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			switch {
			case v.ReceiverIDHex != "":
				testReceiverID(t, v)
			case v.SharedSecretHex != "":
				testSharedSecret(t, v)
			case v.FulfillmentHex != "":
				testFulfillment(t, v)
			case v.IPRHex != "":
				testIPR(t, v)
			case v.ReceiverParsed != nil:
				testPacket(t, vs, v)
			case v.TokenHex != "" && v.DestinationAccount != "":
				testGenerateParams(t, v)
			default:
				t.Fatal("vector not recognised by any check")
			}
		})
	}
}

func testReceiverID(t *testing.T, v vector) {
	id := ReceiverID([]byte(v.ReceiverSecretUTF8))
	if got := hex.EncodeToString(id); got != v.ReceiverIDHex {
		t.Errorf("receiver id = %s, want %s", got, v.ReceiverIDHex)
	}
	if got := ilp.EncodeBase64URL(id); got != v.ReceiverIDB64 {
		t.Errorf("receiver id text = %s, want %s", got, v.ReceiverIDB64)
	}
}

func testSharedSecret(t *testing.T, v vector) {
	s := SharedSecret([]byte(v.ReceiverSecretUTF8), unb64(t, v.TokenB64))
	if got := hex.EncodeToString(s); got != v.SharedSecretHex {
		t.Errorf("shared secret = %s, want %s", got, v.SharedSecretHex)
	}
}

func testFulfillment(t *testing.T, v vector) {
	packet := unhex(t, v.PacketHex)
	f := FulfillmentOf([]byte(v.SharedSecretUTF8), packet)
	if got := hex.EncodeToString(f[:]); got != v.FulfillmentHex {
		t.Errorf("fulfillment = %s, want %s", got, v.FulfillmentHex)
	}
	if f.String() != v.Fulfillment {
		t.Errorf("fulfillment text = %s, want %s", f, v.Fulfillment)
	}
	if c := ConditionOf([]byte(v.SharedSecretUTF8), packet); c.String() != v.Condition {
		t.Errorf("condition = %s, want %s", c, v.Condition)
	}
}

func testGenerateParams(t *testing.T, v vector) {
	p, err := GenerateParams(bytes.NewReader(unhex(t, v.TokenHex)), v.Account, unhex(t, v.ReceiverSecretHex))
	if err != nil {
		t.Fatal(err)
	}
	if p.DestinationAccount != v.DestinationAccount {
		t.Errorf("destination account = %s, want %s", p.DestinationAccount, v.DestinationAccount)
	}
	if got := ilp.EncodeBase64URL(p.SharedSecret); got != v.SharedSecret {
		t.Errorf("shared secret = %s, want %s", got, v.SharedSecret)
	}
}

// testPacket rebuilds a full payment with the recorded nonce and checks
// every byte, then receives it as the receiver that handed out the address.
func testPacket(t *testing.T, vs []vector, v vector) {
	shared := unb64(t, v.SharedSecret)
	encrypted := v.ReceiverParsed.PublicHeaders["encryption"] != "none"
	p, err := CreatePacketAndCondition(PaymentParams{
		DestinationAccount: v.DestinationAccount,
		DestinationAmount:  amountOf(t, v.DestinationAmount),
		SharedSecret:       shared,
		Headers:            orderedHeaders(t, v.PrivateHeaders),
		Data:               []byte(v.PrivateData),
		DisableEncryption:  !encrypted,
		Rand:               bytes.NewReader(unhex(t, v.NonceHex)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(p.Packet); got != v.ILPPacketHex {
		t.Errorf("packet =\n%s\nwant\n%s", got, v.ILPPacketHex)
	}
	if p.ILP() != v.ILPPacketB64 {
		t.Errorf("packet text = %s, want %s", p.ILP(), v.ILPPacketB64)
	}
	if p.Condition.String() != v.Condition || p.Fulfillment.String() != v.Fulfillment {
		t.Errorf("condition, fulfillment = %s, %s; want %s, %s", p.Condition, p.Fulfillment, v.Condition, v.Fulfillment)
	}
	// The same packet from keys derived once.
	keys, err := NewKeys(shared)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := CreatePacketAndCondition(PaymentParams{
		DestinationAccount: v.DestinationAccount,
		DestinationAmount:  amountOf(t, v.DestinationAmount),
		Keys:               keys,
		Headers:            orderedHeaders(t, v.PrivateHeaders),
		Data:               []byte(v.PrivateData),
		DisableEncryption:  !encrypted,
		Rand:               bytes.NewReader(unhex(t, v.NonceHex)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pk.Packet, p.Packet) || pk.Condition != p.Condition || pk.Fulfillment != p.Fulfillment {
		t.Errorf("packet from Keys differs:\n%x\nwant\n%x", pk.Packet, p.Packet)
	}
	var pkt ilp.Payment
	if err := pkt.UnmarshalBinary(p.Packet); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(pkt.Data); got != v.PSKDataHex {
		t.Errorf("details =\n%s\nwant\n%s", got, v.PSKDataHex)
	}
	if !strings.HasPrefix(string(pkt.Data), v.PSKPublicPart) {
		t.Errorf("details do not start with %q", v.PSKPublicPart)
	}
	if v.PSKFull != "" && string(pkt.Data) != v.PSKFull {
		t.Errorf("details = %q, want %q", pkt.Data, v.PSKFull)
	}
	if v.EncryptionKey != "" {
		if got := hex.EncodeToString(EncryptionKey(shared)); got != v.EncryptionKey {
			t.Errorf("encryption key = %s, want %s", got, v.EncryptionKey)
		}
	}

	// The receiver side: parse the details alone, then the whole receive.
	d, err := ParseDetails(unhex(t, v.PSKDataHex), shared)
	if err != nil {
		t.Fatal(err)
	}
	checkParsed(t, v, d)
	account, secret := receiverFor(t, vs, v.DestinationAccount)
	r := Receiver{Account: account, Secret: secret}
	got, err := r.Receive(Incoming{
		Amount:             amountOf(t, v.DestinationAmount),
		ExecutionCondition: v.Condition,
		ILP:                v.ILPPacketB64,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Fulfillment.String() != v.Fulfillment {
		t.Errorf("received fulfillment = %s, want %s", got.Fulfillment, v.Fulfillment)
	}
	if got.DestinationAccount != v.DestinationAccount || got.DestinationAmount != amountOf(t, v.DestinationAmount) {
		t.Errorf("received %d to %s", got.DestinationAmount, got.DestinationAccount)
	}
	checkParsed(t, v, got.Details)

	// The same receive through a key cache, twice (a miss, then a hit).
	r.Cache = NewKeyCache(secret, 0)
	for range 2 {
		got, err := r.Receive(Incoming{
			Amount:             amountOf(t, v.DestinationAmount),
			ExecutionCondition: v.Condition,
			ILP:                v.ILPPacketB64,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Fulfillment.String() != v.Fulfillment {
			t.Errorf("received through the cache: fulfillment = %s, want %s", got.Fulfillment, v.Fulfillment)
		}
		checkParsed(t, v, got.Details)
	}
}

func checkParsed(t *testing.T, v vector, d Details) {
	t.Helper()
	want := v.ReceiverParsed
	if got := d.PublicHeaders.Map(); !mapsEqual(got, want.PublicHeaders) {
		t.Errorf("public headers = %v, want %v", got, want.PublicHeaders)
	}
	if got := d.Headers.Map(); !mapsEqual(got, want.Headers) {
		t.Errorf("private headers = %v, want %v", got, want.Headers)
	}
	if string(d.Data) != want.Data {
		t.Errorf("data = %q, want %q", d.Data, want.Data)
	}
	// Order is kept too: the parsed private headers are the sent ones,
	// lower-cased, in the same order.
	sent := orderedHeaders(t, v.PrivateHeaders)
	if len(sent) != len(d.Headers) {
		t.Fatalf("%d private headers parsed, %d sent", len(d.Headers), len(sent))
	}
	for i := range sent {
		if d.Headers[i].Name != strings.ToLower(sent[i].Name) || d.Headers[i].Value != sent[i].Value {
			t.Errorf("private header %d = %v, sent %v", i, d.Headers[i], sent[i])
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// testIPR rebuilds the IPR packet (the token, then the nonce, read from the
// same random source in the order ilp@11 drew them), encodes the IPR and
// decodes it, and receives the payment before and after its expiry.
func testIPR(t *testing.T, v vector) {
	secret := unhex(t, v.ReceiverSecretHex)
	random := bytes.NewReader(append(unhex(t, v.TokenHex), unhex(t, v.NonceHex)...))
	params, err := GenerateParams(random, v.Account, secret)
	if err != nil {
		t.Fatal(err)
	}
	expires, err := time.Parse(time.RFC3339, v.ExpiresAt)
	if err != nil {
		t.Fatal(err)
	}
	// The recorded packet says whether it was sent encrypted.
	var recorded ilp.Payment
	if err := recorded.UnmarshalBinary(unhex(t, v.ILPPacketHex)); err != nil {
		t.Fatal(err)
	}
	d, err := ParseDetails(recorded.Data, params.SharedSecret)
	if err != nil {
		t.Fatal(err)
	}
	p, err := CreatePacketAndCondition(PaymentParams{
		DestinationAccount: params.DestinationAccount,
		DestinationAmount:  amountOf(t, v.DestinationAmount),
		SharedSecret:       params.SharedSecret,
		ExpiresAt:          expires,
		DisableEncryption:  !d.Encrypted(),
		Rand:               random,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(p.Packet); got != v.ILPPacketHex {
		t.Errorf("packet =\n%s\nwant\n%s", got, v.ILPPacketHex)
	}
	if p.Condition.String() != v.Condition {
		t.Errorf("condition = %s, want %s", p.Condition, v.Condition)
	}
	ipr := EncodeIPR(p.Condition, p.Packet)
	if got := hex.EncodeToString(ipr); got != v.IPRHex {
		t.Errorf("IPR =\n%s\nwant\n%s", got, v.IPRHex)
	}
	cond, packet, err := DecodeIPR(unhex(t, v.IPRHex))
	if err != nil {
		t.Fatal(err)
	}
	if cond != p.Condition || !bytes.Equal(packet, p.Packet) {
		t.Errorf("DecodeIPR = %s, %x", cond, packet)
	}

	in := Incoming{Amount: amountOf(t, v.DestinationAmount), ExecutionCondition: v.Condition, ILP: p.ILP()}
	before := Receiver{Account: v.Account, Secret: secret, Now: func() time.Time { return expires }}
	if got, err := before.Receive(in); err != nil || got.Fulfillment != p.Fulfillment {
		t.Errorf("at expiry: %v, %v", got.Fulfillment, err)
	}
	after := before
	after.Now = func() time.Time { return expires.Add(time.Millisecond) }
	var rej *Rejection
	if _, err := after.Receive(in); !errors.As(err, &rej) || rej.Code != ilp.CodeTransferTimedOut || rej.LegacyCode != "R01" {
		t.Errorf("after expiry: %v, want R00 (legacy R01)", err)
	}
}
