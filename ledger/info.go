package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// LedgerInfo describes the ledger a plugin is on (LPI getInfo). Prefix is
// the ledger's ILP prefix (ending in "."); one base unit is
// 10^-CurrencyScale of CurrencyCode. Connectors lists the addresses of the
// recommended connectors.
//
// MinBalance and MaxBalance are the limits of the plugin's own balance as
// Balance reports it, in base units; the zero Bound means no limit. The RFC
// said an absent minBalance meant 0, but the 2017 connector treated an absent
// limit as none (PROTOCOLS.md 3.5) and ilp-plugin-virtual 16 left
// minBalance out while its balance went negative, so an absent limit is read
// here as no limit, both ways.
type LedgerInfo struct {
	Prefix        string
	CurrencyCode  string
	CurrencyScale int
	Connectors    []string
	MinBalance    Bound
	MaxBalance    Bound
}

// Clone returns a copy of i that shares no memory with it.
func (i LedgerInfo) Clone() LedgerInfo {
	i.Connectors = slices.Clone(i.Connectors)
	return i
}

// Equal reports whether i and j describe the same ledger.
func (i LedgerInfo) Equal(j LedgerInfo) bool {
	return i.Prefix == j.Prefix && i.CurrencyCode == j.CurrencyCode && i.CurrencyScale == j.CurrencyScale &&
		slices.Equal(i.Connectors, j.Connectors) && i.MinBalance == j.MinBalance && i.MaxBalance == j.MaxBalance
}

type infoJSON struct {
	Prefix        string          `json:"prefix"`
	CurrencyCode  string          `json:"currencyCode"`
	CurrencyScale json.RawMessage `json:"currencyScale"`
	Connectors    []string        `json:"connectors"`
	MinBalance    json.RawMessage `json:"minBalance,omitempty"`
	MaxBalance    json.RawMessage `json:"maxBalance,omitempty"`
}

// MarshalJSON writes the 2017 shape: currencyScale as a number, connectors
// always as an array, and the limits as integer strings, left out when
// unlimited.
func (i LedgerInfo) MarshalJSON() ([]byte, error) {
	j := infoJSON{
		Prefix:        i.Prefix,
		CurrencyCode:  i.CurrencyCode,
		CurrencyScale: json.RawMessage(strconv.Itoa(i.CurrencyScale)),
		Connectors:    i.Connectors,
		MinBalance:    boundJSON(i.MinBalance),
		MaxBalance:    boundJSON(i.MaxBalance),
	}
	if j.Connectors == nil {
		j.Connectors = []string{}
	}
	return marshalNoEscape(j)
}

func boundJSON(b Bound) json.RawMessage {
	v, ok := b.Value()
	if !ok {
		return nil
	}
	return json.RawMessage(strconv.Quote(v.String()))
}

// UnmarshalJSON reads a LedgerInfo leniently: unknown fields are ignored,
// currencyScale may be a number or a numeric string, and a limit may be an
// integer string or number, null, or "Infinity" / "-Infinity" (no limit), as
// the 2017 plugins kept them.
func (i *LedgerInfo) UnmarshalJSON(b []byte) error {
	var j infoJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("ledger: ledger info: %w", err)
	}
	out := LedgerInfo{Prefix: j.Prefix, CurrencyCode: j.CurrencyCode, Connectors: j.Connectors}
	if s := unquote(j.CurrencyScale); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%w: ledger info: currencyScale %s is not an integer", ErrInvalidFields, j.CurrencyScale)
		}
		out.CurrencyScale = n
	}
	var err error
	if out.MinBalance, err = readBound(j.MinBalance); err != nil {
		return fmt.Errorf("%w: ledger info: minBalance: %v", ErrInvalidFields, err)
	}
	if out.MaxBalance, err = readBound(j.MaxBalance); err != nil {
		return fmt.Errorf("%w: ledger info: maxBalance: %v", ErrInvalidFields, err)
	}
	*i = out
	return nil
}

// unquote returns the text of a JSON string or number, or "" for null or
// absent.
func unquote(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	return string(raw)
}

func readBound(raw json.RawMessage) (Bound, error) {
	s := unquote(raw)
	switch s {
	case "", "Infinity", "+Infinity", "-Infinity":
		return Unlimited(), nil
	}
	v, err := ParseInt128(s)
	if err != nil {
		return Bound{}, fmt.Errorf("%q is not an integer", s)
	}
	return Limit(v), nil
}
