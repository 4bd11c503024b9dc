package psk

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"sync"

	"github.com/ilpkit/ilpkit/ilp"
)

// Keys are the keys one shared secret gives: the AES-256-GCM of the
// details (under the ilp_key_encryption key) and the key of the
// fulfillment HMAC (ilp_psk_condition). Deriving them takes more work than
// the rest of a packet (three HMACs, an AES key schedule and the GCM
// tables), so a sender that makes many payments under one shared secret
// derives them once with NewKeys and passes them in PaymentParams.Keys, and
// a Receiver keeps them per address in a KeyCache. A Keys is immutable and
// safe for concurrent use.
type Keys struct {
	secret  []byte
	aead    cipher.AEAD // NonceSize nonces
	condKey []byte
	macs    sync.Pool // of hash.Hash: HMAC-SHA256 under condKey
}

// NewKeys derives the keys of a shared secret.
func NewKeys(sharedSecret []byte) (*Keys, error) {
	if len(sharedSecret) == 0 {
		return nil, ErrNoSecret
	}
	aead, err := newGCM(sharedSecret, NonceSize)
	if err != nil {
		return nil, err
	}
	k := &Keys{
		secret:  bytes.Clone(sharedSecret),
		aead:    aead,
		condKey: mac(sharedSecret, []byte(labelCondition)),
	}
	k.macs.New = func() any { return hmac.New(sha256.New, k.condKey) }
	return k, nil
}

// Fulfillment returns the fulfillment of a payment whose ILP packet is
// packet: FulfillmentOf(the shared secret, packet).
func (k *Keys) Fulfillment(packet []byte) ilp.Fulfillment {
	m := k.macs.Get().(hash.Hash)
	m.Write(packet)
	var f ilp.Fulfillment
	m.Sum(f[:0])
	m.Reset()
	k.macs.Put(m)
	return f
}

// gcm returns the AES-256-GCM of the details for nonces of nonceSize
// bytes: the one kept for NonceSize, which senders use, or a new one for
// the other sizes a 2017 receiver accepted.
func (k *Keys) gcm(nonceSize int) (cipher.AEAD, error) {
	if nonceSize == NonceSize {
		return k.aead, nil
	}
	return newGCM(k.secret, nonceSize)
}

// newGCM returns AES-256-GCM under the details key, with a nonce of the
// given size. Senders always use NonceSize; a receiver uses whatever the
// Nonce header decodes to, as Node's OpenSSL accepted any non-empty IV.
func newGCM(sharedSecret []byte, nonceSize int) (cipher.AEAD, error) {
	if nonceSize <= 0 {
		return nil, errors.New("empty nonce")
	}
	block, err := aes.NewCipher(EncryptionKey(sharedSecret))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithNonceSize(block, nonceSize)
}

// KeyCache keeps what a Receiver derives from its receiver secret (the
// receiver id and the generation key) and, for the most recent addresses,
// the Keys of the shared secret each address's token gives. Payments to an
// address seen before then cost one HMAC and one AES-GCM decryption instead
// of six HMACs and a key schedule. A KeyCache serves one receiver secret,
// given to NewKeyCache; a Receiver whose Secret differs does not use it. It
// holds at most its size of addresses, forgetting arbitrary ones when full,
// so that random addresses cannot grow it. It is safe for concurrent use.
type KeyCache struct {
	secret []byte
	rid    string // b64url of the receiver id
	gen    []byte // HMAC-SHA256(secret, "ilp_psk_generation")
	size   int

	mu   sync.RWMutex
	keys map[string]*Keys // by the token text that follows the receiver id
}

// DefaultKeyCacheSize is the size NewKeyCache uses for a size below 1.
const DefaultKeyCacheSize = 1024

// NewKeyCache returns an empty cache for receiver secret secret, holding
// the keys of up to size addresses.
func NewKeyCache(secret []byte, size int) *KeyCache {
	if size < 1 {
		size = DefaultKeyCacheSize
	}
	return &KeyCache{
		secret: bytes.Clone(secret),
		rid:    ilp.EncodeBase64URL(ReceiverID(secret)),
		gen:    mac(secret, []byte(labelGeneration)),
		size:   size,
		keys:   make(map[string]*Keys),
	}
}

// serves reports whether the cache is for receiver secret secret.
func (c *KeyCache) serves(secret []byte) bool {
	return c != nil && bytes.Equal(c.secret, secret)
}

// keysOf returns the keys of the address whose token text follows the
// receiver id, from the cache or derived and added to it.
func (c *KeyCache) keysOf(token string) (*Keys, error) {
	c.mu.RLock()
	k, ok := c.keys[token]
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	shared := mac(c.gen, ilp.DecodeBase64Node(token))[:SharedSecretSize]
	k, err := NewKeys(shared)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.keys) >= c.size {
		for t := range c.keys {
			delete(c.keys, t)
			if len(c.keys) < c.size {
				break
			}
		}
	}
	c.keys[token] = k
	c.mu.Unlock()
	return k, nil
}

// Len returns the number of addresses whose keys are cached.
func (c *KeyCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.keys)
}
