package virtual_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ilpkit/ilpkit/backend/memory"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// FuzzServe sends arbitrary calls with a valid token to a connected
// plugin: nothing may panic, and every answer is 200 with a JSON result or
// an error status with a JSON body.
func FuzzServe(f *testing.F) {
	f.Add("send_transfer", []byte(`[{"id":"x","amount":"1","to":"","direction":"outgoing"}]`))
	f.Add("fulfill_condition", []byte(`["x","AAAA"]`))
	f.Add("reject_incoming_transfer", []byte(`["x",{"code":"F99"}]`))
	f.Add("send_request", []byte(`[{"ilp":"AQ","timeout":5000}]`))
	f.Add("expire_transfer", []byte(`[]`))
	f.Add("get_limit", []byte(``))
	f.Add("get_balance", []byte(`{}`))
	id, peer := identity(f, aliceSecret), identity(f, bobSecret)
	p, err := virtual.New(virtual.Options{Identity: id, PeerPublicKey: peer.PublicKey(), CurrencyCode: "USD", CurrencyScale: 2,
		RPCURI: "http://127.0.0.1:9/unused", Backend: memory.New()})
	if err != nil {
		f.Fatal(err)
	}
	if err := p.Connect(context.Background()); err != nil {
		f.Fatal(err)
	}
	defer p.Disconnect(context.Background())
	token := p.Peering().AuthToken
	f.Fuzz(func(t *testing.T, method string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/rpc", bytes.NewReader(body))
		q := req.URL.Query()
		q.Set("method", method)
		q.Set("prefix", p.Prefix())
		req.URL.RawQuery = q.Encode()
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusUnprocessableEntity && rec.Code != http.StatusRequestEntityTooLarge && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q %q", rec.Code, method, body)
		}
		if rec.Body.Len() == 0 || (rec.Body.Bytes()[0] != '{' && rec.Body.Bytes()[0] != '"' && rec.Body.Bytes()[0] != 't') {
			t.Fatalf("answer %q for %q %q", rec.Body.Bytes(), method, body)
		}
	})
}
