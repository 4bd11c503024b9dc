// Package virtual is the symmetric peering plugin that connects two kits,
// wire-compatible with ilp-plugin-virtual 16, the plugin ILP Kit 3 used for
// its peers (PROTOCOLS.md 8).
//
// New builds a Plugin (a ledger.Plugin) for one peer from the kit's
// Identity, the peer's public key and a ledger.Backend (or a 2.x store). The
// Plugin calls the peer's RPC endpoint over HTTP; the peer's calls reach it
// through an http.Handler: the Plugin itself, or a Mux that serves several
// peers by prefix (the kit's /api/peers/rpc, the connector's /rpc). The
// semantics of balances, expiry and errors are described in plugin.go and
// rpc.go.
//
// identity.go holds the identity: the kit's key pair and what two kits derive
// from each other's public keys (shared secret, RPC bearer token, ledger
// prefix and accounts, PROTOCOLS.md 8.1).
package virtual

// How ilp-plugin-virtual 16 derived the identity, which this file follows:
//
//   - The secret (CONNECTOR_ED25519_SECRET_KEY, despite the name an X25519
//     seed) is base64url text of any length, decoded as Node's Buffer did:
//     foreign characters skipped, '=' ending the text, padding optional
//     (ilp.DecodeBase64Node; non-ASCII text is outside what 2017
//     handled consistently and is not reproduced). The private scalar is
//     SHA-256 of those bytes; X25519 clamps it, as tweetnacl did.
//   - The public key is the X25519 base-point product, written as unpadded
//     base64url (43 characters). The peer's public key is decoded the same
//     lenient way and must give 32 bytes.
//   - The shared secret is X25519(own scalar, peer public key), the same on
//     both sides. token = b64url(HMAC-SHA256(shared, "token")) and
//     authToken = b64url(HMAC-SHA256(shared, "authorization")); the RPC
//     sends "Authorization: Bearer <authToken>".
//   - prefix = "peer." + token[0:5] + "." + lower(currency code) + "." +
//     scale + "."; the own account is prefix + own public key and the peer's
//     is prefix + the peer public key as given.
//
// Where this code is stricter than 2017: a secret that decodes to no bytes
// is refused (every such kit would share one key); a peer public key of low
// order, which makes the shared secret all zeros (tweetnacl accepted it and
// anyone could compute the token), is refused; the currency code must be a
// valid address segment and the scale non-negative, since both go into the
// prefix.

import (
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/ilpkit/ilpkit/ilp"
)

// Errors returned by NewIdentity and Identity.Peer.
var (
	ErrEmptySecret      = errors.New("virtual: peering secret decodes to no bytes")
	ErrBadPeerPublicKey = errors.New("virtual: invalid peer public key")
	ErrBadCurrency      = errors.New("virtual: invalid currency")
)

// HMAC inputs of ilp-plugin-virtual 16.
const (
	tokenLabel = "token"
	authLabel  = "authorization"
)

// Identity is a kit's peering key pair. The zero value is not usable; build
// one with NewIdentity. It is immutable and safe for concurrent use, and its
// String and LogValue never show the private key.
type Identity struct {
	priv *ecdh.PrivateKey
	pub  string
}

// NewIdentity derives the key pair from the peering secret exactly as
// ilp-plugin-virtual 16 did.
func NewIdentity(secret string) (Identity, error) {
	seed := ilp.DecodeBase64Node(secret)
	if len(seed) == 0 {
		return Identity{}, ErrEmptySecret
	}
	scalar := sha256.Sum256(seed)
	priv, err := ecdh.X25519().NewPrivateKey(scalar[:])
	if err != nil { // cannot happen for a 32-byte scalar
		return Identity{}, fmt.Errorf("virtual: deriving key: %w", err)
	}
	return Identity{
		priv: priv,
		pub:  ilp.EncodeBase64URL(priv.PublicKey().Bytes()),
	}, nil
}

// PublicKey returns the public key as published in the kit's host WebFinger
// document: unpadded base64url of the 32-byte X25519 point.
func (id Identity) PublicKey() string { return id.pub }

// String shows the public key only.
func (id Identity) String() string { return "virtual.Identity{" + id.pub + "}" }

// GoString shows the public key only, so that %#v does not print the key.
func (id Identity) GoString() string { return id.String() }

// LogValue shows the public key only.
func (id Identity) LogValue() slog.Value { return slog.StringValue(id.pub) }

// Peering is what one kit derives for a peer: identical on both sides except
// that Account and PeerAccount (and the two public keys) are swapped.
// SharedSecret, Token and AuthToken are secrets; String and LogValue leave
// them out.
type Peering struct {
	PublicKey     string   // own public key
	PeerPublicKey string   // the peer's public key as given
	SharedSecret  [32]byte // X25519 result
	Token         string   // b64url(HMAC-SHA256(shared, "token")); its first 5 characters name the prefix
	AuthToken     string   // b64url(HMAC-SHA256(shared, "authorization")); the RPC bearer token
	CurrencyCode  string   // upper case, as getInfo reported it
	CurrencyScale int
	Prefix        string // "peer.<token[0:5]>.<code>.<scale>."
	Account       string // Prefix + PublicKey
	PeerAccount   string // Prefix + PeerPublicKey
}

// Peer derives the peering with the kit whose public key is peerPublicKey,
// for a trustline in the given currency and scale. Both kits must use the
// same code and scale to arrive at the same prefix.
func (id Identity) Peer(peerPublicKey, currencyCode string, currencyScale int) (Peering, error) {
	if id.priv == nil {
		return Peering{}, errors.New("virtual: zero Identity")
	}
	code := strings.ToLower(currencyCode)
	if !validSegment(code) {
		return Peering{}, fmt.Errorf("%w: code %q is not an address segment", ErrBadCurrency, currencyCode)
	}
	if currencyScale < 0 {
		return Peering{}, fmt.Errorf("%w: scale %d is negative", ErrBadCurrency, currencyScale)
	}
	raw := ilp.DecodeBase64Node(peerPublicKey)
	if len(raw) != 32 {
		return Peering{}, fmt.Errorf("%w: decodes to %d bytes, want 32", ErrBadPeerPublicKey, len(raw))
	}
	peer, err := ecdh.X25519().NewPublicKey(raw)
	if err != nil {
		return Peering{}, fmt.Errorf("%w: %w", ErrBadPeerPublicKey, err)
	}
	shared, err := id.priv.ECDH(peer)
	if err != nil { // a low-order point: the result would be all zeros
		return Peering{}, fmt.Errorf("%w: %w", ErrBadPeerPublicKey, err)
	}
	p := Peering{
		PublicKey:     id.pub,
		PeerPublicKey: peerPublicKey,
		Token:         macB64(shared, tokenLabel),
		AuthToken:     macB64(shared, authLabel),
		CurrencyCode:  strings.ToUpper(currencyCode),
		CurrencyScale: currencyScale,
	}
	copy(p.SharedSecret[:], shared)
	p.Prefix = "peer." + p.Token[:5] + "." + code + "." + strconv.Itoa(currencyScale) + "."
	p.Account = p.Prefix + p.PublicKey
	p.PeerAccount = p.Prefix + peerPublicKey
	return p, nil
}

// Authorized reports, in constant time, whether bearer is the peer's
// token (the value after "Bearer " in the Authorization header).
func (p Peering) Authorized(bearer string) bool {
	if p.AuthToken == "" {
		return false
	}
	return hmac.Equal([]byte(bearer), []byte(p.AuthToken))
}

// String shows the prefix and accounts, never the secrets.
func (p Peering) String() string {
	return "virtual.Peering{" + p.Prefix + " " + p.PublicKey + " <-> " + p.PeerPublicKey + "}"
}

// GoString is String, so that %#v does not print the secrets.
func (p Peering) GoString() string { return p.String() }

// LogValue shows the prefix and accounts, never the secrets.
func (p Peering) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("prefix", p.Prefix),
		slog.String("account", p.Account),
		slog.String("peer_account", p.PeerAccount),
	)
}

func macB64(key []byte, label string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return ilp.EncodeBase64URL(m.Sum(nil))
}

// validSegment reports whether s is a non-empty RFC 0015 address segment.
func validSegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '~', c == '-':
		default:
			return false
		}
	}
	return true
}
