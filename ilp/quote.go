package ilp

import "encoding/binary"

// The fixed-shape ILQP messages (RFC 0008 of mid-2017, ilp-packet 1.3.0).
// Hold durations are milliseconds; amounts are in base units of the
// destination (or source) ledger. Each ends with the extension byte.

// QuoteLiquidityRequest (type 2) asks for the liquidity curve to a
// destination.
type QuoteLiquidityRequest struct {
	DestinationAccount      string
	DestinationHoldDuration uint32 // ms
	Wire                    Wire
}

// QuoteBySourceRequest (type 4) asks how much arrives for a source amount.
type QuoteBySourceRequest struct {
	DestinationAccount      string
	SourceAmount            uint64
	DestinationHoldDuration uint32 // ms
	Wire                    Wire
}

// QuoteBySourceResponse (type 5) answers a QuoteBySourceRequest.
type QuoteBySourceResponse struct {
	DestinationAmount  uint64
	SourceHoldDuration uint32 // ms
	Wire               Wire
}

// QuoteByDestinationRequest (type 6) asks what must be sent for a
// destination amount to arrive.
type QuoteByDestinationRequest struct {
	DestinationAccount      string
	DestinationAmount       uint64
	DestinationHoldDuration uint32 // ms
	Wire                    Wire
}

// QuoteByDestinationResponse (type 7) answers a QuoteByDestinationRequest.
type QuoteByDestinationResponse struct {
	SourceAmount       uint64
	SourceHoldDuration uint32 // ms
	Wire               Wire
}

// The five messages share one layout: an optional destination account, an
// optional amount, and a hold duration. quoteShape names the fields present
// (the names are those of the 2017 JSON and appear in decode errors) and
// quoteFields carries their values.
type quoteShape struct {
	typ     Type
	account string // field name, or "" when absent
	amount  string // field name, or "" when absent
	hold    string
}

type quoteFields struct {
	account string
	amount  uint64
	hold    uint32
}

var (
	shapeLiquidityRequest = quoteShape{TypeQuoteLiquidityRequest, "destinationAccount", "", "destinationHoldDuration"}
	shapeBySourceRequest  = quoteShape{TypeQuoteBySourceRequest, "destinationAccount", "sourceAmount", "destinationHoldDuration"}
	shapeBySourceResponse = quoteShape{TypeQuoteBySourceResponse, "", "destinationAmount", "sourceHoldDuration"}
	shapeByDestRequest    = quoteShape{TypeQuoteByDestinationRequest, "destinationAccount", "destinationAmount", "destinationHoldDuration"}
	shapeByDestResponse   = quoteShape{TypeQuoteByDestinationResponse, "", "sourceAmount", "sourceHoldDuration"}
)

func (s quoteShape) size(f quoteFields, w Wire) int {
	n := 4 + w.extSize()
	if s.account != "" {
		n += varSize(len(f.account))
	}
	if s.amount != "" {
		n += 8
	}
	return n
}

func (s quoteShape) append(b []byte, f quoteFields, w Wire) []byte {
	b = beginEnvelope(b, s.typ, s.size(f, w))
	if s.account != "" {
		b = appendVarString(b, f.account)
	}
	if s.amount != "" {
		b = binary.BigEndian.AppendUint64(b, f.amount)
	}
	b = binary.BigEndian.AppendUint32(b, f.hold)
	return w.appendExt(b)
}

func (s quoteShape) marshal(f quoteFields, w Wire) ([]byte, error) {
	return s.append(make([]byte, 0, envelopeSize(s.size(f, w))), f, w), nil
}

// decode reads the message; account is set through setString so that a
// value equal to the current one is not allocated again.
func (s quoteShape) decode(b []byte, account *string) (quoteFields, Wire, error) {
	r, err := openEnvelope(b, s.typ)
	if err != nil {
		return quoteFields{}, Wire{}, err
	}
	var acct []byte
	if s.account != "" {
		if acct, err = r.varOctets(s.account); err != nil {
			return quoteFields{}, Wire{}, err
		}
	}
	var f quoteFields
	if s.amount != "" {
		if f.amount, err = r.uint64(s.amount); err != nil {
			return quoteFields{}, Wire{}, err
		}
	}
	if f.hold, err = r.uint32(s.hold); err != nil {
		return quoteFields{}, Wire{}, err
	}
	if account != nil {
		setString(account, acct)
	}
	return f, Wire{Extension: r.extension()}, nil
}

// Type returns TypeQuoteLiquidityRequest.
func (p *QuoteLiquidityRequest) Type() Type { return TypeQuoteLiquidityRequest }

func (p *QuoteLiquidityRequest) fields() quoteFields {
	return quoteFields{account: p.DestinationAccount, hold: p.DestinationHoldDuration}
}

// AppendBinary appends the encoded packet to b.
func (p *QuoteLiquidityRequest) AppendBinary(b []byte) ([]byte, error) {
	return shapeLiquidityRequest.append(b, p.fields(), p.Wire), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteLiquidityRequest) MarshalBinary() ([]byte, error) {
	return shapeLiquidityRequest.marshal(p.fields(), p.Wire)
}

// UnmarshalBinary decodes a QuoteLiquidityRequest; p is left unchanged on
// error.
func (p *QuoteLiquidityRequest) UnmarshalBinary(b []byte) error {
	account := p.DestinationAccount
	f, w, err := shapeLiquidityRequest.decode(b, &account)
	if err != nil {
		return err
	}
	*p = QuoteLiquidityRequest{DestinationAccount: account, DestinationHoldDuration: f.hold, Wire: w}
	return nil
}

// Type returns TypeQuoteBySourceRequest.
func (p *QuoteBySourceRequest) Type() Type { return TypeQuoteBySourceRequest }

func (p *QuoteBySourceRequest) fields() quoteFields {
	return quoteFields{account: p.DestinationAccount, amount: p.SourceAmount, hold: p.DestinationHoldDuration}
}

// AppendBinary appends the encoded packet to b.
func (p *QuoteBySourceRequest) AppendBinary(b []byte) ([]byte, error) {
	return shapeBySourceRequest.append(b, p.fields(), p.Wire), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteBySourceRequest) MarshalBinary() ([]byte, error) {
	return shapeBySourceRequest.marshal(p.fields(), p.Wire)
}

// UnmarshalBinary decodes a QuoteBySourceRequest; p is left unchanged on
// error.
func (p *QuoteBySourceRequest) UnmarshalBinary(b []byte) error {
	account := p.DestinationAccount
	f, w, err := shapeBySourceRequest.decode(b, &account)
	if err != nil {
		return err
	}
	*p = QuoteBySourceRequest{DestinationAccount: account, SourceAmount: f.amount, DestinationHoldDuration: f.hold, Wire: w}
	return nil
}

// Type returns TypeQuoteBySourceResponse.
func (p *QuoteBySourceResponse) Type() Type { return TypeQuoteBySourceResponse }

func (p *QuoteBySourceResponse) fields() quoteFields {
	return quoteFields{amount: p.DestinationAmount, hold: p.SourceHoldDuration}
}

// AppendBinary appends the encoded packet to b.
func (p *QuoteBySourceResponse) AppendBinary(b []byte) ([]byte, error) {
	return shapeBySourceResponse.append(b, p.fields(), p.Wire), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteBySourceResponse) MarshalBinary() ([]byte, error) {
	return shapeBySourceResponse.marshal(p.fields(), p.Wire)
}

// UnmarshalBinary decodes a QuoteBySourceResponse; p is left unchanged on
// error.
func (p *QuoteBySourceResponse) UnmarshalBinary(b []byte) error {
	f, w, err := shapeBySourceResponse.decode(b, nil)
	if err != nil {
		return err
	}
	*p = QuoteBySourceResponse{DestinationAmount: f.amount, SourceHoldDuration: f.hold, Wire: w}
	return nil
}

// Type returns TypeQuoteByDestinationRequest.
func (p *QuoteByDestinationRequest) Type() Type { return TypeQuoteByDestinationRequest }

func (p *QuoteByDestinationRequest) fields() quoteFields {
	return quoteFields{account: p.DestinationAccount, amount: p.DestinationAmount, hold: p.DestinationHoldDuration}
}

// AppendBinary appends the encoded packet to b.
func (p *QuoteByDestinationRequest) AppendBinary(b []byte) ([]byte, error) {
	return shapeByDestRequest.append(b, p.fields(), p.Wire), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteByDestinationRequest) MarshalBinary() ([]byte, error) {
	return shapeByDestRequest.marshal(p.fields(), p.Wire)
}

// UnmarshalBinary decodes a QuoteByDestinationRequest; p is left unchanged
// on error.
func (p *QuoteByDestinationRequest) UnmarshalBinary(b []byte) error {
	account := p.DestinationAccount
	f, w, err := shapeByDestRequest.decode(b, &account)
	if err != nil {
		return err
	}
	*p = QuoteByDestinationRequest{DestinationAccount: account, DestinationAmount: f.amount, DestinationHoldDuration: f.hold, Wire: w}
	return nil
}

// Type returns TypeQuoteByDestinationResponse.
func (p *QuoteByDestinationResponse) Type() Type { return TypeQuoteByDestinationResponse }

func (p *QuoteByDestinationResponse) fields() quoteFields {
	return quoteFields{amount: p.SourceAmount, hold: p.SourceHoldDuration}
}

// AppendBinary appends the encoded packet to b.
func (p *QuoteByDestinationResponse) AppendBinary(b []byte) ([]byte, error) {
	return shapeByDestResponse.append(b, p.fields(), p.Wire), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteByDestinationResponse) MarshalBinary() ([]byte, error) {
	return shapeByDestResponse.marshal(p.fields(), p.Wire)
}

// UnmarshalBinary decodes a QuoteByDestinationResponse; p is left unchanged
// on error.
func (p *QuoteByDestinationResponse) UnmarshalBinary(b []byte) error {
	f, w, err := shapeByDestResponse.decode(b, nil)
	if err != nil {
		return err
	}
	*p = QuoteByDestinationResponse{SourceAmount: f.amount, SourceHoldDuration: f.hold, Wire: w}
	return nil
}
