package virtual

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/internal/vectors"
)

type vectorFile struct {
	Vectors []struct {
		Name          string `json:"name"`
		Secret        string `json:"secret"`
		PeerPublicKey string `json:"peerPublicKey"`
		OwnPublicKey  string `json:"ownPublicKey"`
		SecretA       string `json:"secretA"`
		PublicKeyA    string `json:"publicKeyA"`
		SecretB       string `json:"secretB"`
		PublicKeyB    string `json:"publicKeyB"`
		CurrencyCode  string `json:"currencyCode"`
		CurrencyScale int    `json:"currencyScale"`
		SharedHex     string `json:"ecdhSharedSecret_hex"`
		Token         string `json:"token"`
		AuthToken     string `json:"authToken"`
		AuthTokenB    string `json:"authTokenFromB"`
		Prefix        string `json:"prefix"`
		Account       string `json:"account"`
		PeerAccount   string `json:"peerAccount"`
		AccountA      string `json:"accountA"`
		AccountB      string `json:"accountB"`
	} `json:"vectors"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	var v vectorFile
	vectors.Load(t, "plugin_virtual.json", &v)
	if len(v.Vectors) < 2 {
		t.Fatalf("plugin_virtual.json: %d vectors, want at least 2", len(v.Vectors))
	}
	return v
}

func mustIdentity(t *testing.T, secret string) Identity {
	t.Helper()
	id, err := NewIdentity(secret)
	if err != nil {
		t.Fatalf("NewIdentity(%q): %v", secret, err)
	}
	return id
}

func checkPeering(t *testing.T, p Peering, sharedHex, token, auth, prefix, account, peerAccount string) {
	t.Helper()
	if got := hex.EncodeToString(p.SharedSecret[:]); got != sharedHex {
		t.Errorf("shared secret = %s, want %s", got, sharedHex)
	}
	for _, c := range []struct{ name, got, want string }{
		{"token", p.Token, token},
		{"authToken", p.AuthToken, auth},
		{"prefix", p.Prefix, prefix},
		{"account", p.Account, account},
		{"peer account", p.PeerAccount, peerAccount},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !p.Authorized(auth) {
		t.Errorf("Authorized(%q) = false", auth)
	}
}

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t).Vectors {
		t.Run(v.Name, func(t *testing.T) {
			if v.Secret != "" { // one kit against a fixed peer key
				id := mustIdentity(t, v.Secret)
				if id.PublicKey() != v.OwnPublicKey {
					t.Errorf("public key = %s, want %s", id.PublicKey(), v.OwnPublicKey)
				}
				p, err := id.Peer(v.PeerPublicKey, v.CurrencyCode, v.CurrencyScale)
				if err != nil {
					t.Fatal(err)
				}
				checkPeering(t, p, v.SharedHex, v.Token, v.AuthToken, v.Prefix, v.Account, v.PeerAccount)
				return
			}
			// a pair: each side derives from the other's public key
			a, b := mustIdentity(t, v.SecretA), mustIdentity(t, v.SecretB)
			if a.PublicKey() != v.PublicKeyA || b.PublicKey() != v.PublicKeyB {
				t.Fatalf("public keys = %s, %s; want %s, %s", a.PublicKey(), b.PublicKey(), v.PublicKeyA, v.PublicKeyB)
			}
			pa, err := a.Peer(b.PublicKey(), v.CurrencyCode, v.CurrencyScale)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := b.Peer(a.PublicKey(), v.CurrencyCode, v.CurrencyScale)
			if err != nil {
				t.Fatal(err)
			}
			checkPeering(t, pa, v.SharedHex, v.Token, v.AuthToken, v.Prefix, v.AccountA, v.AccountB)
			checkPeering(t, pb, v.SharedHex, v.Token, v.AuthTokenB, v.Prefix, v.AccountB, v.AccountA)
			if !pb.Authorized(pa.AuthToken) || !pa.Authorized(pb.AuthToken) {
				t.Error("the two sides do not accept each other's bearer token")
			}
		})
	}
}

// TestSecretDecodedLikeNode checks that spellings Node's Buffer read as the
// same bytes give the same identity.
func TestSecretDecodedLikeNode(t *testing.T) {
	v := loadVectors(t).Vectors[1]
	want := mustIdentity(t, v.SecretA).PublicKey()
	for _, s := range []string{
		v.SecretA + "=",                                            // padded
		v.SecretA + "=ignored after padding",                       // text after '=' is dropped
		" " + v.SecretA[:10] + "\n" + v.SecretA[10:],               // whitespace skipped
		strings.NewReplacer("-", "+", "_", "/").Replace(v.SecretA), // standard alphabet
	} {
		if got := mustIdentity(t, s).PublicKey(); got != want {
			t.Errorf("secret %q: public key %s, want %s", s, got, want)
		}
	}
	if other := mustIdentity(t, v.SecretB).PublicKey(); other == want {
		t.Fatal("different secrets gave the same key")
	}
}

func TestPeerKeyDecodedLikeNode(t *testing.T) {
	v := loadVectors(t).Vectors[0]
	id := mustIdentity(t, v.Secret)
	padded, err := id.Peer(v.PeerPublicKey+"=", v.CurrencyCode, v.CurrencyScale)
	if err != nil {
		t.Fatal(err)
	}
	if padded.Prefix != v.Prefix || padded.AuthToken != v.AuthToken {
		t.Errorf("padded peer key: prefix %s token %s, want %s %s", padded.Prefix, padded.AuthToken, v.Prefix, v.AuthToken)
	}
	// The account keeps the key as given, as 2017 did.
	if padded.PeerAccount != v.Prefix+v.PeerPublicKey+"=" {
		t.Errorf("peer account = %s", padded.PeerAccount)
	}
}

func TestCurrencyInPrefix(t *testing.T) {
	v := loadVectors(t).Vectors[0]
	id := mustIdentity(t, v.Secret)
	lower, err := id.Peer(v.PeerPublicKey, strings.ToLower(v.CurrencyCode), v.CurrencyScale)
	if err != nil {
		t.Fatal(err)
	}
	if lower.Prefix != v.Prefix || lower.CurrencyCode != strings.ToUpper(v.CurrencyCode) {
		t.Errorf("lower-case code: prefix %s code %s", lower.Prefix, lower.CurrencyCode)
	}
	other, err := id.Peer(v.PeerPublicKey, "EUR", 9)
	if err != nil {
		t.Fatal(err)
	}
	if want := "peer." + v.Token[:5] + ".eur.9."; other.Prefix != want {
		t.Errorf("EUR/9 prefix = %s, want %s", other.Prefix, want)
	}
	if other.AuthToken != v.AuthToken {
		t.Error("the bearer token must not depend on the currency")
	}
}

func TestRefusals(t *testing.T) {
	for _, s := range []string{"", "!!!", "=seeecret", "A"} {
		if _, err := NewIdentity(s); !errors.Is(err, ErrEmptySecret) {
			t.Errorf("NewIdentity(%q) error = %v, want ErrEmptySecret", s, err)
		}
	}
	v := loadVectors(t).Vectors[0]
	id := mustIdentity(t, v.Secret)
	lowOrder := strings.Repeat("A", 43) // the point 0
	cases := []struct {
		name, key, code string
		scale           int
		want            error
	}{
		{"short key", v.PeerPublicKey[:40], "USD", 2, ErrBadPeerPublicKey},
		{"long key", v.PeerPublicKey + "AAAA", "USD", 2, ErrBadPeerPublicKey},
		{"empty key", "", "USD", 2, ErrBadPeerPublicKey},
		{"low-order key", lowOrder, "USD", 2, ErrBadPeerPublicKey},
		{"empty code", v.PeerPublicKey, "", 2, ErrBadCurrency},
		{"dotted code", v.PeerPublicKey, "U.SD", 2, ErrBadCurrency},
		{"negative scale", v.PeerPublicKey, "USD", -1, ErrBadCurrency},
	}
	for _, c := range cases {
		if _, err := id.Peer(c.key, c.code, c.scale); !errors.Is(err, c.want) {
			t.Errorf("%s: error = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := (Identity{}).Peer(v.PeerPublicKey, "USD", 2); err == nil {
		t.Error("zero Identity derived a peering")
	}
}

func TestAuthorized(t *testing.T) {
	v := loadVectors(t).Vectors[0]
	p, err := mustIdentity(t, v.Secret).Peer(v.PeerPublicKey, v.CurrencyCode, v.CurrencyScale)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", v.Token, v.AuthToken[:42], v.AuthToken + "=", strings.ToUpper(v.AuthToken)} {
		if p.Authorized(bad) {
			t.Errorf("Authorized(%q) = true", bad)
		}
	}
	if (Peering{}).Authorized("") {
		t.Error("zero Peering accepted an empty token")
	}
}

// TestNoSecretsPrinted checks that formatting and logging an identity or a
// peering never shows the private key, shared secret or tokens.
func TestNoSecretsPrinted(t *testing.T) {
	v := loadVectors(t).Vectors[0]
	id := mustIdentity(t, v.Secret)
	p, err := id.Peer(v.PeerPublicKey, v.CurrencyCode, v.CurrencyScale)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("peer", "id", id, "peering", p)
	outputs := []string{
		fmt.Sprint(id), fmt.Sprintf("%v %+v %#v", id, id, id),
		fmt.Sprint(p), fmt.Sprintf("%v %+v %#v", p, p, p),
		logged.String(),
	}
	secrets := []string{v.Token, v.AuthToken, v.SharedHex, v.Secret}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %q shows secret %q", out, s)
			}
		}
	}
	if !strings.Contains(logged.String(), v.Prefix) || !strings.Contains(fmt.Sprint(id), v.OwnPublicKey) {
		t.Errorf("output lacks the public parts: %q", logged.String())
	}
}
