package psk

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/ilpkit/ilpkit/ilp"
)

// Sizes of the PSK 1.0 values, in bytes.
const (
	ReceiverIDSize   = 8  // receiver id, 11 characters of base64url
	TokenSize        = 16 // random token in the address, 22 characters
	SharedSecretSize = 16 // shared secret handed out by SPSP
	NonceSize        = 16 // random nonce, also the GCM IV
	TagSize          = 16 // GCM authentication tag
)

// HMAC labels of ilp@11.
const (
	labelReceiverID = "ilp_psk_receiver_id"
	labelGeneration = "ilp_psk_generation"
	labelCondition  = "ilp_psk_condition"
	labelEncryption = "ilp_key_encryption"
)

// ErrNoSecret is returned when a secret is empty.
var ErrNoSecret = errors.New("psk: empty secret")

func mac(key []byte, msg ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, b := range msg {
		m.Write(b)
	}
	return m.Sum(nil)
}

// ReceiverID returns the 8-byte receiver id of a receiver secret.
func ReceiverID(receiverSecret []byte) []byte {
	return mac(receiverSecret, []byte(labelReceiverID))[:ReceiverIDSize]
}

// SharedSecret returns the 16-byte shared secret that a receiver secret and
// a token give. The token is normally TokenSize bytes, but a receiver derives
// it from whatever the address holds, so any length is accepted.
func SharedSecret(receiverSecret, token []byte) []byte {
	gen := mac(receiverSecret, []byte(labelGeneration))
	return mac(gen, token)[:SharedSecretSize]
}

// FulfillmentOf returns the fulfillment of a payment: the HMAC of the exact
// bytes of its ILP packet under a key derived from the shared secret.
func FulfillmentOf(sharedSecret, packet []byte) ilp.Fulfillment {
	key := mac(sharedSecret, []byte(labelCondition))
	return ilp.Fulfillment(mac(key, packet))
}

// ConditionOf returns the execution condition of a payment: the SHA-256 of
// its fulfillment.
func ConditionOf(sharedSecret, packet []byte) ilp.Condition {
	return ilp.ConditionOf(FulfillmentOf(sharedSecret, packet))
}

// EncryptionKey returns the AES-256 key of the details.
func EncryptionKey(sharedSecret []byte) []byte {
	return mac(sharedSecret, []byte(labelEncryption))
}

// Params are what an SPSP endpoint hands a sender: the address to pay and
// the shared secret (sent as unpadded base64url).
type Params struct {
	DestinationAccount string
	SharedSecret       []byte
}

// GenerateParams makes fresh PSK parameters for the receiver whose ledger
// account is account, as ilp@11's PSK.generateParams did: a TokenSize-byte
// token read from random (crypto/rand when nil), the shared secret it gives,
// and the address account + "." + b64url(receiver id) + b64url(token).
func GenerateParams(random io.Reader, account string, receiverSecret []byte) (Params, error) {
	if len(receiverSecret) == 0 {
		return Params{}, ErrNoSecret
	}
	if account == "" {
		return Params{}, errors.New("psk: empty account")
	}
	token, err := readRandom(random, TokenSize)
	if err != nil {
		return Params{}, err
	}
	return Params{
		DestinationAccount: account + "." + ilp.EncodeBase64URL(ReceiverID(receiverSecret)) + ilp.EncodeBase64URL(token),
		SharedSecret:       SharedSecret(receiverSecret, token),
	}, nil
}

func readRandom(random io.Reader, n int) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(random, b); err != nil {
		return nil, fmt.Errorf("psk: reading randomness: %w", err)
	}
	return b, nil
}

// seal encrypts plaintext and returns the ciphertext and the tag apart, as
// the details carry them apart.
func seal(k *Keys, nonce, plaintext []byte) (ciphertext, tag []byte, err error) {
	aead, err := k.gcm(len(nonce))
	if err != nil {
		return nil, nil, err
	}
	out := aead.Seal(make([]byte, 0, len(plaintext)+TagSize), nonce, plaintext, nil)
	n := len(out) - TagSize
	return out[:n], out[n:], nil
}

// open decrypts and authenticates a body whose tag came apart.
func open(k *Keys, nonce, tag, ciphertext []byte) ([]byte, error) {
	if len(tag) != TagSize {
		return nil, fmt.Errorf("tag of %d bytes, want %d", len(tag), TagSize)
	}
	aead, err := k.gcm(len(nonce))
	if err != nil {
		return nil, err
	}
	sealed := make([]byte, 0, len(ciphertext)+TagSize)
	sealed = append(append(sealed, ciphertext...), tag...)
	return aead.Open(sealed[:0], nonce, sealed, nil)
}
