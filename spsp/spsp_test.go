package spsp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/vectors"
	"github.com/ilpkit/ilpkit/psk"
	"github.com/ilpkit/ilpkit/spsp"
	"github.com/ilpkit/ilpkit/webfinger"
)

func vector(t *testing.T, name string) spsp.Response {
	t.Helper()
	var file struct {
		SPSPWebfinger []struct {
			Name     string          `json:"name"`
			Response json.RawMessage `json:"response"`
		} `json:"spsp_webfinger"`
	}
	vectors.Load(t, "routing_rpc_spsp.json", &file)
	for _, v := range file.SPSPWebfinger {
		if v.Name == name {
			var r spsp.Response
			dec := json.NewDecoder(bytes.NewReader(v.Response))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("no vector %q", name)
	return spsp.Response{}
}

// TestParseILPKit: the ILP Kit 3.0 answer parses; its float-artefact
// maximum (String(2^64)) reads as the largest packet amount; the JSON
// re-encodes to the same fields.
func TestParseILPKit(t *testing.T) {
	r := vector(t, "SPSP v2 response (ILP Kit 3.0)")
	got, err := spsp.Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Max != math.MaxUint64 || got.Min != 1 || len(got.Secret) != 16 ||
		got.ReceiverInfo.Identifier != "alice@wallet.example" || got.LedgerInfo.CurrencyScale != 9 {
		t.Errorf("%+v", got)
	}
	b, _ := json.Marshal(r)
	var again spsp.Response
	if err := json.Unmarshal(b, &again); err != nil || again != r {
		t.Errorf("round trip: %+v %v", again, err)
	}
}

// TestParseRefuses: what ilp@11 refused is refused, such as the RFC
// example's 32-byte shared secret.
func TestParseRefuses(t *testing.T) {
	rfc := vector(t, "SPSP v2 response (RFC)")
	if _, err := spsp.Parse(rfc); !errors.Is(err, spsp.ErrInvalidResponse) || !strings.Contains(err.Error(), "shared_secret") {
		t.Errorf("32-byte secret: %v", err)
	}
	good := vector(t, "SPSP v2 response (ILP Kit 3.0)")
	for name, mod := range map[string]func(*spsp.Response){
		"bad address":      func(r *spsp.Response) { r.DestinationAccount = "not an address!" },
		"negative max":     func(r *spsp.Response) { r.MaximumDestinationAmount = "-1" },
		"fractional min":   func(r *spsp.Response) { r.MinimumDestinationAmount = "1.5" },
		"min above max":    func(r *spsp.Response) { r.MinimumDestinationAmount, r.MaximumDestinationAmount = "10", "9" },
		"scale":            func(r *spsp.Response) { r.LedgerInfo.CurrencyScale = 256 },
		"secret not b64":   func(r *spsp.Response) { r.SharedSecret = "***" },
		"plus sign in max": func(r *spsp.Response) { r.MaximumDestinationAmount = "+5" },
	} {
		r := good
		mod(&r)
		if _, err := spsp.Parse(r); !errors.Is(err, spsp.ErrInvalidResponse) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestNewResponse: a kit's answer is a PSK address under the user's account
// that the user's receiver secret recognises, with the shared secret that
// goes with it.
func TestNewResponse(t *testing.T) {
	secret := spsp.ReceiverSecret([]byte("api secret"), "wallet.alice")
	r, err := spsp.NewResponse(bytes.NewReader(bytes.Repeat([]byte{7}, 16)), spsp.Setup{
		Account: "wallet.alice", ReceiverSecret: secret, CurrencyCode: "USD", CurrencyScale: 9,
		Info: spsp.ReceiverInfo{Name: "Alice", Identifier: "alice@wallet.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := spsp.Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	suffix, ok := strings.CutPrefix(r.DestinationAccount, "wallet.alice.")
	if !ok || len(suffix) != 11+22 {
		t.Fatalf("destination %q", r.DestinationAccount)
	}
	if suffix[:11] != ilp.EncodeBase64URL(psk.ReceiverID(secret)) {
		t.Errorf("receiver id %q", suffix[:11])
	}
	token, err := ilp.DecodeBase64(suffix[11:])
	if err != nil || !bytes.Equal(psk.SharedSecret(secret, token), got.Secret) {
		t.Errorf("shared secret does not match the token: %v", err)
	}
	if r.MaximumDestinationAmount != "18446744073709551615" || r.MinimumDestinationAmount != "1" {
		t.Errorf("bounds %s..%s", r.MinimumDestinationAmount, r.MaximumDestinationAmount)
	}
	if bytes.Equal(spsp.ReceiverSecret([]byte("api secret"), "wallet.bob"), secret) {
		t.Error("two users share a receiver secret")
	}
}

// TestResolve: user@host through WebFinger then SPSP, and an SPSP URL
// directly, over HTTP on loopback; failures are clear.
func TestResolve(t *testing.T) {
	var host string
	mux := http.NewServeMux()
	mux.Handle(webfinger.Path, webfinger.Handler(func(_ context.Context, res string) (webfinger.Document, error) {
		switch res {
		case "acct:alice@" + host:
			return webfinger.AccountDocument(webfinger.Account{User: "alice", Host: host, APIBase: "http://" + host + "/api"}), nil
		case "acct:nolink@" + host:
			return webfinger.Document{Subject: res}, nil
		}
		return webfinger.Document{}, webfinger.ErrNotFound
	}))
	mux.HandleFunc("/api/spsp/alice", func(w http.ResponseWriter, r *http.Request) {
		resp, err := spsp.NewResponse(nil, spsp.Setup{Account: "test.kit.alice", ReceiverSecret: []byte("s"), CurrencyCode: "USD", CurrencyScale: 9})
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("/api/spsp/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host = strings.TrimPrefix(srv.URL, "http://")
	c := &spsp.Client{AllowHTTP: true}
	ctx := context.Background()
	r, err := c.Resolve(ctx, "alice@"+host)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.DestinationAccount, "test.kit.alice.") {
		t.Errorf("destination %q", r.DestinationAccount)
	}
	if _, err := c.Resolve(ctx, srv.URL+"/api/spsp/alice"); err != nil {
		t.Errorf("by URL: %v", err)
	}
	if _, err := c.Resolve(ctx, "nolink@"+host); !errors.Is(err, spsp.ErrNoSPSP) {
		t.Errorf("no link: %v", err)
	}
	if _, err := c.Resolve(ctx, "carol@"+host); err == nil {
		t.Error("unknown user resolved")
	}
	if _, err := c.Resolve(ctx, srv.URL+"/api/spsp/html"); !errors.Is(err, spsp.ErrInvalidResponse) {
		t.Errorf("html: %v", err)
	}
	if _, err := (&spsp.Client{}).Query(ctx, srv.URL+"/api/spsp/alice"); err == nil {
		t.Error("plain HTTP endpoint queried without AllowHTTP")
	}
}
