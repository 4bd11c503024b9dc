package webfinger_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/internal/vectors"
	"github.com/ilpkit/ilpkit/webfinger"
)

type vector struct {
	Name     string          `json:"name"`
	HTTP     string          `json:"http"`
	Response json.RawMessage `json:"response"`
}

func loadVectors(t *testing.T) map[string]vector {
	var file struct {
		SPSPWebfinger []vector `json:"spsp_webfinger"`
	}
	vectors.Load(t, "routing_rpc_spsp.json", &file)
	m := map[string]vector{}
	for _, v := range file.SPSPWebfinger {
		m[v.Name] = v
	}
	return m
}

// TestAccountDocument: the account document of ILP Kit 3.0, link for link.
func TestAccountDocument(t *testing.T) {
	v := loadVectors(t)["WebFinger account document (ILP Kit 3.0)"]
	var want webfinger.Document
	if err := json.Unmarshal(v.Response, &want); err != nil {
		t.Fatal(err)
	}
	got := webfinger.AccountDocument(webfinger.Account{
		User: "alice", Host: "wallet.example", APIBase: "https://wallet.example/api/",
		LedgerURI: "https://wallet.example/ledger", ILPAddress: "wallet.alice",
		EventsURI: "https://wallet.example/api/socket.io",
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got.Link(webfinger.RelSPSPv2) != "https://wallet.example/api/spsp/alice" {
		t.Error("Link(spsp/v2)")
	}
}

// TestHostDocument: the host document has the 2017 rels and properties.
func TestHostDocument(t *testing.T) {
	v := loadVectors(t)["WebFinger host document (ILP Kit 3.0 peering discovery)"]
	var want webfinger.Document
	if err := json.Unmarshal(v.Response, &want); err != nil {
		t.Fatal(err)
	}
	got := webfinger.HostDocument(webfinger.Host{
		Subject: "https://wallet.example", PublicKey: "key", Title: "Wallet", ProtocolVersion: "Compatible: ilp-kit v3.0.0",
		LedgerURI: "https://wallet.example/ledger", APIBase: "https://wallet.example/api",
	})
	if len(got.Links) != len(want.Links) {
		t.Fatalf("links %+v, want %+v", got.Links, want.Links)
	}
	for i, l := range want.Links {
		if got.Links[i].Rel != l.Rel {
			t.Errorf("link %d rel %q, want %q", i, got.Links[i].Rel, l.Rel)
		}
	}
	if got.Link(webfinger.RelPeersRPCURI) != "https://wallet.example/api/peers/rpc" ||
		got.Link(webfinger.RelSettlementMethods) != "https://wallet.example/api/settlement_methods" {
		t.Errorf("links %+v", got.Links)
	}
	for k := range want.Properties {
		if got.Properties[k] == "" {
			t.Errorf("property %s missing", k)
		}
	}
}

func TestSplitIdentifier(t *testing.T) {
	for _, c := range []struct{ in, user, host string }{
		{"bob@red.ilpdemo.org", "bob", "red.ilpdemo.org"},
		{"acct:bob@127.0.0.1:8080", "bob", "127.0.0.1:8080"},
		{"a.b@[::1]:80", "a.b", "[::1]:80"},
	} {
		u, h, err := webfinger.SplitIdentifier(c.in)
		if err != nil || u != c.user || h != c.host {
			t.Errorf("%q: %q %q %v", c.in, u, h, err)
		}
	}
	for _, bad := range []string{"", "bob", "@host", "bob@", "bob@host/x", "bob@ho st", "b/ob@host", "bob@host:x:1"} {
		if _, _, err := webfinger.SplitIdentifier(bad); !errors.Is(err, webfinger.ErrInvalidIdentifier) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestLookup: the client and the handler over HTTP on loopback.
func TestLookup(t *testing.T) {
	var host string
	srv := httptest.NewServer(webfinger.Handler(func(_ context.Context, resource string) (webfinger.Document, error) {
		switch resource {
		case "acct:alice@" + host:
			return webfinger.AccountDocument(webfinger.Account{User: "alice", Host: host, APIBase: "http://" + host + "/api"}), nil
		case "http://" + host:
			return webfinger.HostDocument(webfinger.Host{Subject: resource, PublicKey: "pk", APIBase: "http://" + host + "/api"}), nil
		}
		return webfinger.Document{}, webfinger.ErrNotFound
	}))
	defer srv.Close()
	host = strings.TrimPrefix(srv.URL, "http://")
	c := &webfinger.Client{AllowHTTP: true}
	ctx := context.Background()
	d, err := c.LookupAccount(ctx, "alice@"+host)
	if err != nil {
		t.Fatal(err)
	}
	if d.Link(webfinger.RelSPSPv2) != "http://"+host+"/api/spsp/alice" {
		t.Errorf("spsp link %q", d.Link(webfinger.RelSPSPv2))
	}
	h, err := c.LookupHost(ctx, host)
	if err != nil || h.Properties[webfinger.RelPublicKey] != "pk" {
		t.Errorf("host: %+v %v", h, err)
	}
	var se *webfinger.StatusError
	if _, err := c.LookupAccount(ctx, "carol@"+host); !errors.As(err, &se) || se.Code != 404 {
		t.Errorf("unknown user: %v", err)
	}
	// Without AllowHTTP the client insists on HTTPS.
	if _, err := (&webfinger.Client{}).LookupAccount(ctx, "alice@"+host); err == nil {
		t.Error("plain HTTP host looked up without AllowHTTP")
	}
	resp, err := http.Get(srv.URL + webfinger.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no resource: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestLookupRefusesOversized: a document larger than the bound is refused.
func TestLookupRefusesOversized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"subject":"` + strings.Repeat("x", webfinger.MaxDocumentBytes) + `"}`))
	}))
	defer srv.Close()
	c := &webfinger.Client{AllowHTTP: true}
	if _, err := c.LookupHost(context.Background(), strings.TrimPrefix(srv.URL, "http://")); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Errorf("oversized document: %v", err)
	}
}
