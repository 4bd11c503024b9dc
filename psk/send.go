package psk

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
)

// PaymentParams describe a PSK payment to build, as the parameters of
// ilp@11's PSK.createPacketAndCondition did.
type PaymentParams struct {
	DestinationAccount string // the receiver's PSK address (from SPSP)
	DestinationAmount  uint64 // in the destination ledger's base units
	SharedSecret       []byte // from SPSP; 16 bytes there, any non-empty length here
	// Keys, when set, are NewKeys(SharedSecret), kept by a sender that
	// makes many payments under one shared secret; SharedSecret may then
	// be left empty.
	Keys *Keys
	// ExpiresAt, when not zero, is sent as the first private header,
	// Expires-At, in JavaScript's toISOString form; the receiver refuses the
	// payment after that instant.
	ExpiresAt time.Time
	// Headers are the private headers, written after Expires-At in order.
	Headers Headers
	// PublicHeaders are extra public headers, written after Nonce and
	// Encryption in order. They may not be named Nonce or Encryption.
	PublicHeaders Headers
	// Data is the application data (for SPSP, a JSON memo).
	Data []byte
	// DisableEncryption sends the private part in clear ("Encryption: none").
	DisableEncryption bool
	// Rand supplies the NonceSize-byte nonce; crypto/rand when nil. The
	// nonce is read even without encryption, as 2017 did.
	Rand io.Reader
}

// Packet is a built PSK payment: the ILP packet to attach to the transfer
// and its execution condition. Fulfillment is what the receiver will
// present; a sender knows it too, since it holds the shared secret.
type Packet struct {
	Packet      []byte // the encoded IlpPayment
	Condition   ilp.Condition
	Fulfillment ilp.Fulfillment
}

// ILP returns the packet as a transfer carries it: unpadded base64url.
func (p Packet) ILP() string { return ilp.EncodeBase64URL(p.Packet) }

// ErrReservedHeader is returned for a header the library writes itself
// (Nonce, Encryption, and Expires-At when ExpiresAt is set).
var ErrReservedHeader = errors.New("psk: reserved header")

// isoMillis is the form of JavaScript's Date.prototype.toISOString.
const isoMillis = "2006-01-02T15:04:05.000Z"

// CreatePacketAndCondition builds the PSK details, puts them into an
// IlpPayment and derives the condition from the packet bytes, as ilp@11 did.
func CreatePacketAndCondition(p PaymentParams) (Packet, error) {
	if p.DestinationAccount == "" {
		return Packet{}, errors.New("psk: empty destination account")
	}
	if p.Keys == nil && len(p.SharedSecret) == 0 {
		return Packet{}, ErrNoSecret
	}
	for _, name := range []string{"nonce", "encryption"} {
		if _, ok := p.PublicHeaders.Lookup(name); ok {
			return Packet{}, fmt.Errorf("%w: public %s header", ErrReservedHeader, name)
		}
	}
	if err := p.PublicHeaders.validate(); err != nil {
		return Packet{}, err
	}
	if err := p.Headers.validate(); err != nil {
		return Packet{}, err
	}

	private := p.Headers
	if !p.ExpiresAt.IsZero() {
		if _, ok := p.Headers.Lookup("expires-at"); ok {
			return Packet{}, fmt.Errorf("%w: Expires-At given both as a header and as ExpiresAt", ErrReservedHeader)
		}
		private = make(Headers, 0, len(p.Headers)+1)
		private = append(private, Header{"Expires-At", p.ExpiresAt.UTC().Format(isoMillis)})
		private = append(private, p.Headers...)
	}

	nonce, err := readRandom(p.Rand, NonceSize)
	if err != nil {
		return Packet{}, err
	}
	enc := encryptionNone
	if !p.DisableEncryption {
		enc = encryptionAlgorithm // the tag is filled in by appendDetails
	}
	public := make(Headers, 0, 2+len(p.PublicHeaders))
	public = append(public, Header{"Nonce", ilp.EncodeBase64URL(nonce)}, Header{"Encryption", enc})
	public = append(public, p.PublicHeaders...)

	keys := p.Keys
	if keys == nil {
		if keys, err = NewKeys(p.SharedSecret); err != nil {
			return Packet{}, err
		}
	}
	sealWith := nonce
	if p.DisableEncryption {
		sealWith = nil
	}
	details, err := appendDetails(nil, keys, sealWith, public, private, p.Data)
	if err != nil {
		return Packet{}, err
	}
	packet, err := (&ilp.Payment{
		Amount:  p.DestinationAmount,
		Account: p.DestinationAccount,
		Data:    details,
	}).MarshalBinary()
	if err != nil {
		return Packet{}, fmt.Errorf("psk: encoding the packet: %w", err)
	}
	f := keys.Fulfillment(packet)
	return Packet{Packet: packet, Condition: ilp.ConditionOf(f), Fulfillment: f}, nil
}
