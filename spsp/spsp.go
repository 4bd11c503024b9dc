// Package spsp owns the Simple Payment Setup Protocol, version 2, as ILP Kit
// 3.0 and the ilp client library 11 spoke it: the JSON a receiver's
// endpoint answers (a PSK destination address and shared secret, the amount
// bounds, the ledger's currency and who the receiver is), the receiver
// parameters of a kit user, and the client that resolves a payment
// identifier ("user@host" through WebFinger, or an SPSP URL) to them.
package spsp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/psk"
	"github.com/ilpkit/ilpkit/webfinger"
)

// MaxResponseBytes bounds a response the client reads.
const MaxResponseBytes = 64 << 10

// LedgerInfo is the receiver's currency.
type LedgerInfo struct {
	CurrencyCode  string `json:"currency_code"`
	CurrencyScale int    `json:"currency_scale"`
}

// ReceiverInfo says who the receiver is; every field is optional.
type ReceiverInfo struct {
	Name       string `json:"name,omitempty"`
	ImageURL   string `json:"image_url,omitempty"`
	Identifier string `json:"identifier,omitempty"`
}

// Response is the answer of an SPSP v2 endpoint. Amounts are decimal
// strings of destination base units on the wire.
type Response struct {
	DestinationAccount       string       `json:"destination_account"`
	SharedSecret             string       `json:"shared_secret"` // base64url, 16 bytes
	MaximumDestinationAmount string       `json:"maximum_destination_amount"`
	MinimumDestinationAmount string       `json:"minimum_destination_amount"`
	LedgerInfo               LedgerInfo   `json:"ledger_info"`
	ReceiverInfo             ReceiverInfo `json:"receiver_info"`
}

// ErrInvalidResponse wraps every refusal of a receiver's answer.
var ErrInvalidResponse = errors.New("spsp: invalid response")

// Receiver is a validated Response with its values decoded.
type Receiver struct {
	Response
	Secret []byte // the 16-byte shared secret
	// Min and Max bound the destination amount. A maximum beyond 2^64-1
	// (2017 kits sent String(2^64) as a float, "18446744073709552000")
	// reads as 2^64-1, the most an ILP packet can carry.
	Min, Max uint64
}

// Parse validates a response as the ilp 11 client did: a valid destination
// address, a shared secret of exactly 16 bytes (base64 or base64url),
// non-negative integer amount bounds with the minimum not above the
// maximum, and a currency scale in 0..255.
func Parse(r Response) (Receiver, error) {
	if err := ilp.ValidateAddress(r.DestinationAccount); err != nil {
		return Receiver{}, fmt.Errorf("%w: destination_account: %v", ErrInvalidResponse, err)
	}
	secret, err := ilp.DecodeBase64(r.SharedSecret)
	if err != nil || len(secret) != 16 {
		return Receiver{}, fmt.Errorf("%w: shared_secret must be 16 bytes of base64url", ErrInvalidResponse)
	}
	max, err := amount(r.MaximumDestinationAmount, math.MaxUint64)
	if err != nil {
		return Receiver{}, fmt.Errorf("%w: maximum_destination_amount: %v", ErrInvalidResponse, err)
	}
	min, err := amount(r.MinimumDestinationAmount, 0)
	if err != nil {
		return Receiver{}, fmt.Errorf("%w: minimum_destination_amount: %v", ErrInvalidResponse, err)
	}
	if min > max {
		return Receiver{}, fmt.Errorf("%w: minimum_destination_amount above the maximum", ErrInvalidResponse)
	}
	if r.LedgerInfo.CurrencyScale < 0 || r.LedgerInfo.CurrencyScale > 255 {
		return Receiver{}, fmt.Errorf("%w: currency_scale %d", ErrInvalidResponse, r.LedgerInfo.CurrencyScale)
	}
	return Receiver{Response: r, Secret: secret, Min: min, Max: max}, nil
}

// amount reads a decimal amount bound; empty means def, values above
// 2^64-1 are clamped to it.
func amount(s string, def uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a non-negative integer", s)
	}
	if !v.IsUint64() {
		return math.MaxUint64, nil
	}
	return v.Uint64(), nil
}

// ReceiverSecret is the PSK receiver secret of the account of a kit user:
// HMAC-SHA256(API secret, account), as ILP Kit 2.x derived it, so that the
// SPSP addresses it handed out stay valid across restarts.
func ReceiverSecret(apiSecret []byte, account string) []byte {
	m := hmac.New(sha256.New, apiSecret)
	m.Write([]byte(account))
	return m.Sum(nil)
}

// Setup is what a kit knows of a receiving user.
type Setup struct {
	Account        string // the user's ILP address
	ReceiverSecret []byte
	CurrencyCode   string
	CurrencyScale  int
	Info           ReceiverInfo
	// Min and Max bound the amount; Max 0 means 2^64-1, Min 0 means 1 (a
	// zero-amount payment carries nothing).
	Min, Max uint64
}

// NewResponse builds a fresh SPSP answer for s, with a random PSK token
// from random (crypto/rand in production).
func NewResponse(random io.Reader, s Setup) (Response, error) {
	p, err := psk.GenerateParams(random, s.Account, s.ReceiverSecret)
	if err != nil {
		return Response{}, fmt.Errorf("spsp: %w", err)
	}
	min, max := s.Min, s.Max
	if max == 0 {
		max = math.MaxUint64
	}
	if min == 0 {
		min = 1
	}
	return Response{
		DestinationAccount:       p.DestinationAccount,
		SharedSecret:             ilp.EncodeBase64URL(p.SharedSecret),
		MaximumDestinationAmount: strconv.FormatUint(max, 10),
		MinimumDestinationAmount: strconv.FormatUint(min, 10),
		LedgerInfo:               LedgerInfo{CurrencyCode: s.CurrencyCode, CurrencyScale: s.CurrencyScale},
		ReceiverInfo:             s.Info,
	}, nil
}

// Client resolves payment identifiers. The zero value uses
// http.DefaultClient and HTTPS only.
type Client struct {
	HTTP *http.Client
	// AllowHTTP allows plain HTTP (tests on loopback).
	AllowHTTP bool
}

// ErrNoSPSP is returned when a WebFinger document has no SPSP v2 link.
var ErrNoSPSP = errors.New("spsp: receiver has no SPSP v2 endpoint")

// Resolve finds the receiver of identifier: "user@host" (looked up with
// WebFinger) or the URL of an SPSP endpoint.
func (c *Client) Resolve(ctx context.Context, identifier string) (Receiver, error) {
	endpoint := identifier
	if !strings.HasPrefix(identifier, "https://") && !strings.HasPrefix(identifier, "http://") {
		wf := &webfinger.Client{HTTP: c.HTTP, AllowHTTP: c.AllowHTTP}
		d, err := wf.LookupAccount(ctx, identifier)
		if err != nil {
			return Receiver{}, fmt.Errorf("spsp: %w", err)
		}
		endpoint = d.Link(webfinger.RelSPSPv2)
		if endpoint == "" {
			return Receiver{}, fmt.Errorf("%w: %s", ErrNoSPSP, identifier)
		}
	}
	return c.Query(ctx, endpoint)
}

// Query asks an SPSP endpoint for a receiver.
func (c *Client) Query(ctx context.Context, endpoint string) (Receiver, error) {
	if !strings.HasPrefix(endpoint, "https://") && !(c.AllowHTTP && strings.HasPrefix(endpoint, "http://")) {
		return Receiver{}, fmt.Errorf("spsp: endpoint %q is not https", endpoint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return Receiver{}, fmt.Errorf("spsp: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Receiver{}, fmt.Errorf("spsp: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Receiver{}, fmt.Errorf("spsp: %s: status %d", endpoint, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return Receiver{}, fmt.Errorf("%w: content type %q", ErrInvalidResponse, ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return Receiver{}, fmt.Errorf("spsp: %s: %w", endpoint, err)
	}
	if len(body) > MaxResponseBytes {
		return Receiver{}, fmt.Errorf("%w: larger than %d bytes", ErrInvalidResponse, MaxResponseBytes)
	}
	var r Response
	if err := json.Unmarshal(body, &r); err != nil {
		return Receiver{}, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	return Parse(r)
}
