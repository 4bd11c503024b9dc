package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Rates is a source of exchange rates.
type Rates interface {
	// Rate returns how many units of currency dst one unit of currency src
	// is worth (whole units, not base units), exactly. It fails with an
	// error wrapping ErrNoRate for a pair it does not trade.
	Rate(ctx context.Context, src, dst string) (*big.Rat, error)
}

// ErrNoRate: the rate source has no rate for a currency pair.
var ErrNoRate = errors.New("connector: no rate for currency pair")

// OneToOne trades every currency one to one (ilp-connector's one-to-one
// backend): only the spread and the ledgers' scales change amounts.
type OneToOne struct{}

// Rate returns 1.
func (OneToOne) Rate(context.Context, string, string) (*big.Rat, error) { return big.NewRat(1, 1), nil }

// FixedRates is a table of rates from configuration: the value of one unit
// of a common base currency in each currency (as fixer.io published them),
// so the rate from src to dst is FixedRates[dst] / FixedRates[src]. The
// base currency itself may be listed with rate 1 or left out if Base is set.
type FixedRates struct {
	Base  string
	Rates map[string]*big.Rat
}

// Rate returns Rates[dst]/Rates[src].
func (f FixedRates) Rate(_ context.Context, src, dst string) (*big.Rat, error) {
	return tableRate(f.Base, f.Rates, src, dst)
}

func tableRate(base string, table map[string]*big.Rat, src, dst string) (*big.Rat, error) {
	if strings.EqualFold(src, dst) {
		return big.NewRat(1, 1), nil
	}
	get := func(c string) (*big.Rat, bool) {
		c = strings.ToUpper(c)
		if base != "" && strings.EqualFold(c, base) {
			return big.NewRat(1, 1), true
		}
		r, ok := table[c]
		if !ok || r == nil || r.Sign() <= 0 {
			return nil, false
		}
		return r, true
	}
	s, ok1 := get(src)
	d, ok2 := get(dst)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: %s/%s", ErrNoRate, src, dst)
	}
	return new(big.Rat).Quo(d, s), nil
}

// ParseRates reads a rate document as fixer.io served it,
// {"base": "EUR", "rates": {"USD": 1.0731, ...}}, keeping every number
// exactly as written (no float). Currency codes are upper-cased.
func ParseRates(b []byte) (FixedRates, error) {
	var doc struct {
		Base  string                 `json:"base"`
		Rates map[string]json.Number `json:"rates"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return FixedRates{}, fmt.Errorf("connector: rates document: %w", err)
	}
	out := FixedRates{Base: strings.ToUpper(doc.Base), Rates: make(map[string]*big.Rat, len(doc.Rates))}
	for code, n := range doc.Rates {
		r, ok := new(big.Rat).SetString(string(n))
		if !ok || r.Sign() <= 0 {
			return FixedRates{}, fmt.Errorf("connector: rates document: rate %s of %s is not a positive number", n, code)
		}
		out.Rates[strings.ToUpper(code)] = r
	}
	return out, nil
}

// HTTPRates polls a JSON rate document (ParseRates) over HTTP. Until the
// first successful fetch it knows no rate; after that it keeps the last
// good table when a fetch fails.
type HTTPRates struct {
	URL    string
	Client *http.Client // nil: http.DefaultClient

	mu    sync.RWMutex
	table FixedRates
	ok    bool
}

// maxRatesDocument bounds the rate document read from the network.
const maxRatesDocument = 1 << 20

// Fetch loads the document once.
func (h *HTTPRates) Fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return fmt.Errorf("connector: rates: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("connector: rates: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("connector: rates: %s answered %s", h.URL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRatesDocument+1))
	if err != nil {
		return fmt.Errorf("connector: rates: %w", err)
	}
	if len(b) > maxRatesDocument {
		return fmt.Errorf("connector: rates: document larger than %d bytes", maxRatesDocument)
	}
	t, err := ParseRates(b)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.table, h.ok = t, true
	h.mu.Unlock()
	return nil
}

// Poll fetches the document now and then every interval until ctx is done,
// reporting each failure to onError (which may be nil).
func (h *HTTPRates) Poll(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := h.Fetch(ctx); err != nil && onError != nil && ctx.Err() == nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Rate answers from the last document fetched.
func (h *HTTPRates) Rate(_ context.Context, src, dst string) (*big.Rat, error) {
	h.mu.RLock()
	t, ok := h.table, h.ok
	h.mu.RUnlock()
	if !ok {
		if strings.EqualFold(src, dst) {
			return big.NewRat(1, 1), nil
		}
		return nil, fmt.Errorf("%w: %s/%s (no rates fetched yet)", ErrNoRate, src, dst)
	}
	return t.Rate(context.Background(), src, dst)
}
