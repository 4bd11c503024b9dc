// Package webfinger owns the WebFinger (RFC 7033) documents of a kit and
// their lookup: the account document that tells a sender where a user's
// SPSP endpoint is (resource "acct:user@host"), and the host document that
// tells another kit how to peer (resource "https://host"), with the rel
// names of ILP Kit 2.x and 3.0, and a client that fetches either.
package webfinger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Rel names of ILP Kit documents.
const (
	RelLedgerURI         = "https://interledger.org/rel/ledgerUri"
	RelSocketIOURI       = "https://interledger.org/rel/socketIOUri"
	RelILPAddress        = "https://interledger.org/rel/ilpAddress"
	RelSenderPayment     = "https://interledger.org/rel/sender/payment"
	RelSenderQuote       = "https://interledger.org/rel/sender/quote"
	RelSPSPv2            = "https://interledger.org/rel/spsp/v2"
	RelPeersRPCURI       = "https://interledger.org/rel/peersRpcUri"
	RelSettlementMethods = "https://interledger.org/rel/settlementMethods"
	RelPublicKey         = "https://interledger.org/rel/publicKey"
	RelTitle             = "https://interledger.org/rel/title"
	RelProtocolVersion   = "https://interledger.org/rel/protocolVersion"
)

// Path is where a host serves WebFinger.
const Path = "/.well-known/webfinger"

// MaxDocumentBytes bounds a document the client reads.
const MaxDocumentBytes = 64 << 10

// Link is one link of a document.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// Document is a JSON Resource Descriptor.
type Document struct {
	Subject    string            `json:"subject"`
	Properties map[string]string `json:"properties,omitempty"`
	Links      []Link            `json:"links"`
}

// Link returns the href of the first link with rel, or "".
func (d Document) Link(rel string) string {
	for _, l := range d.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

// Account describes a user of a kit for its account document.
type Account struct {
	User       string // the user name
	Host       string // the kit's host name, as in user@host
	APIBase    string // the public base URL of the kit's API, such as https://host/api
	LedgerURI  string // the kit's ledger URI (its base URL)
	ILPAddress string // the user's ILP address
	// EventsURI takes the place of the 2.x socket.io URI (the kit has no
	// socket.io): where a client follows the user's events.
	EventsURI string
}

// AccountDocument is the document answering "acct:<user>@<host>", with the
// links of ILP Kit 3.0 in their order.
func AccountDocument(a Account) Document {
	base := strings.TrimSuffix(a.APIBase, "/")
	return Document{
		Subject: "acct:" + a.User + "@" + a.Host,
		Links: []Link{
			{RelLedgerURI, a.LedgerURI},
			{RelSocketIOURI, a.EventsURI},
			{RelILPAddress, a.ILPAddress},
			{RelSenderPayment, base + "/payments"},
			{RelSenderQuote, base + "/payments/quote"},
			{RelSPSPv2, base + "/spsp/" + a.User},
		},
	}
}

// Host describes a kit for its host document.
type Host struct {
	Subject         string // the resource asked: the kit's public base URL
	PublicKey       string // the peering public key (base64url X25519)
	Title           string
	ProtocolVersion string // "Compatible: ilp-kit v<version>"
	LedgerURI       string
	APIBase         string // the public base URL of the API
}

// HostDocument is the document answering the kit's base URL, from which
// another kit learns how to peer with it.
func HostDocument(h Host) Document {
	base := strings.TrimSuffix(h.APIBase, "/")
	return Document{
		Subject: h.Subject,
		Properties: map[string]string{
			RelPublicKey:       h.PublicKey,
			RelTitle:           h.Title,
			RelProtocolVersion: h.ProtocolVersion,
		},
		Links: []Link{
			{RelLedgerURI, h.LedgerURI},
			{RelPeersRPCURI, base + "/peers/rpc"},
			{RelSettlementMethods, base + "/settlement_methods"},
		},
	}
}

// ErrInvalidIdentifier is returned for a payment identifier that is not
// user@host.
var ErrInvalidIdentifier = errors.New("webfinger: identifier is not user@host")

// SplitIdentifier splits "user@host" (an "acct:" prefix allowed; host may
// carry a port) into its user and host.
func SplitIdentifier(id string) (user, host string, err error) {
	id = strings.TrimPrefix(id, "acct:")
	i := strings.LastIndexByte(id, '@')
	if i <= 0 || i == len(id)-1 {
		return "", "", fmt.Errorf("%w: %q", ErrInvalidIdentifier, id)
	}
	user, host = id[:i], id[i+1:]
	if strings.ContainsAny(user, "/?#@ ") || strings.ContainsAny(host, "/?#@ ") {
		return "", "", fmt.Errorf("%w: %q", ErrInvalidIdentifier, id)
	}
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.Hostname() == "" {
		return "", "", fmt.Errorf("%w: bad host %q", ErrInvalidIdentifier, host)
	}
	return user, host, nil
}

// Client looks documents up. The zero value uses http.DefaultClient and
// HTTPS only.
type Client struct {
	HTTP *http.Client
	// AllowHTTP looks hosts up over plain HTTP: only for tests on
	// loopback.
	AllowHTTP bool
}

// LookupAccount fetches the account document of "user@host".
func (c *Client) LookupAccount(ctx context.Context, identifier string) (Document, error) {
	user, host, err := SplitIdentifier(identifier)
	if err != nil {
		return Document{}, err
	}
	return c.Lookup(ctx, host, "acct:"+user+"@"+host)
}

// LookupHost fetches the host document of host (peering discovery).
func (c *Client) LookupHost(ctx context.Context, host string) (Document, error) {
	return c.Lookup(ctx, host, c.scheme()+"://"+host)
}

func (c *Client) scheme() string {
	if c.AllowHTTP {
		return "http"
	}
	return "https"
}

// Lookup fetches the document of resource from host.
func (c *Client) Lookup(ctx context.Context, host, resource string) (Document, error) {
	u := c.scheme() + "://" + host + Path + "?resource=" + url.QueryEscape(resource)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Document{}, fmt.Errorf("webfinger: %w", err)
	}
	req.Header.Set("Accept", "application/jrd+json, application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Document{}, fmt.Errorf("webfinger: %s: %w", host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Document{}, fmt.Errorf("webfinger: %s: %w", host, &StatusError{Code: resp.StatusCode})
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/json" && mt != "application/jrd+json" {
			return Document{}, fmt.Errorf("webfinger: %s: content type %q is not JSON", host, ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentBytes+1))
	if err != nil {
		return Document{}, fmt.Errorf("webfinger: %s: %w", host, err)
	}
	if len(body) > MaxDocumentBytes {
		return Document{}, fmt.Errorf("webfinger: %s: document larger than %d bytes", host, MaxDocumentBytes)
	}
	var d Document
	if err := json.Unmarshal(body, &d); err != nil {
		return Document{}, fmt.Errorf("webfinger: %s: %w", host, err)
	}
	return d, nil
}

// StatusError is a lookup answered with another status than 200.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("status %d", e.Code) }

// ErrNotFound is what a Resolver returns for a resource it does not know.
var ErrNotFound = errors.New("webfinger: resource not found")

// Resolver finds the document of a resource.
type Resolver func(ctx context.Context, resource string) (Document, error)

// Handler serves GET Path?resource= from resolve: 400 without a resource,
// 404 for ErrNotFound, and the document as JSON, readable from any origin
// (RFC 7033 section 5).
func Handler(resolve Resolver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedError", "use GET")
			return
		}
		resource := r.URL.Query().Get("resource")
		if resource == "" {
			writeError(w, http.StatusBadRequest, "InvalidUriParameterError", "resource is required")
			return
		}
		d, err := resolve(r.Context(), resource)
		switch {
		case errors.Is(err, ErrNotFound):
			writeError(w, http.StatusNotFound, "NotFoundError", "unknown resource")
			return
		case err != nil:
			writeError(w, http.StatusInternalServerError, "InternalError", "lookup failed")
			return
		}
		w.Header().Set("Content-Type", "application/jrd+json")
		_ = json.NewEncoder(w).Encode(d)
	})
}

func writeError(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "message": msg})
}
