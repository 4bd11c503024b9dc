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

// Type returns TypeQuoteLiquidityRequest.
func (p *QuoteLiquidityRequest) Type() Type { return TypeQuoteLiquidityRequest }

func (p *QuoteLiquidityRequest) contentSize() int {
	return varSize(len(p.DestinationAccount)) + 4 + p.Wire.extSize()
}

// AppendBinary appends the encoded packet to b.
func (p *QuoteLiquidityRequest) AppendBinary(b []byte) ([]byte, error) {
	b = beginEnvelope(b, TypeQuoteLiquidityRequest, p.contentSize())
	b = appendVarString(b, p.DestinationAccount)
	b = binary.BigEndian.AppendUint32(b, p.DestinationHoldDuration)
	return p.Wire.appendExt(b), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteLiquidityRequest) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, envelopeSize(p.contentSize())))
}

// UnmarshalBinary decodes a QuoteLiquidityRequest; p is left unchanged on
// error.
func (p *QuoteLiquidityRequest) UnmarshalBinary(b []byte) error {
	r, err := openEnvelope(b, TypeQuoteLiquidityRequest)
	if err != nil {
		return err
	}
	account, err := r.varOctets("destinationAccount")
	if err != nil {
		return err
	}
	hold, err := r.uint32("destinationHoldDuration")
	if err != nil {
		return err
	}
	setString(&p.DestinationAccount, account)
	p.DestinationHoldDuration = hold
	p.Wire = Wire{Extension: r.extension()}
	return nil
}

// Type returns TypeQuoteBySourceRequest.
func (p *QuoteBySourceRequest) Type() Type { return TypeQuoteBySourceRequest }

func (p *QuoteBySourceRequest) contentSize() int {
	return varSize(len(p.DestinationAccount)) + 8 + 4 + p.Wire.extSize()
}

// AppendBinary appends the encoded packet to b.
func (p *QuoteBySourceRequest) AppendBinary(b []byte) ([]byte, error) {
	b = beginEnvelope(b, TypeQuoteBySourceRequest, p.contentSize())
	b = appendVarString(b, p.DestinationAccount)
	b = binary.BigEndian.AppendUint64(b, p.SourceAmount)
	b = binary.BigEndian.AppendUint32(b, p.DestinationHoldDuration)
	return p.Wire.appendExt(b), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteBySourceRequest) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, envelopeSize(p.contentSize())))
}

// UnmarshalBinary decodes a QuoteBySourceRequest; p is left unchanged on
// error.
func (p *QuoteBySourceRequest) UnmarshalBinary(b []byte) error {
	r, err := openEnvelope(b, TypeQuoteBySourceRequest)
	if err != nil {
		return err
	}
	account, err := r.varOctets("destinationAccount")
	if err != nil {
		return err
	}
	amount, err := r.uint64("sourceAmount")
	if err != nil {
		return err
	}
	hold, err := r.uint32("destinationHoldDuration")
	if err != nil {
		return err
	}
	setString(&p.DestinationAccount, account)
	p.SourceAmount = amount
	p.DestinationHoldDuration = hold
	p.Wire = Wire{Extension: r.extension()}
	return nil
}

// Type returns TypeQuoteBySourceResponse.
func (p *QuoteBySourceResponse) Type() Type { return TypeQuoteBySourceResponse }

func (p *QuoteBySourceResponse) contentSize() int { return 8 + 4 + p.Wire.extSize() }

// AppendBinary appends the encoded packet to b.
func (p *QuoteBySourceResponse) AppendBinary(b []byte) ([]byte, error) {
	b = beginEnvelope(b, TypeQuoteBySourceResponse, p.contentSize())
	b = binary.BigEndian.AppendUint64(b, p.DestinationAmount)
	b = binary.BigEndian.AppendUint32(b, p.SourceHoldDuration)
	return p.Wire.appendExt(b), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteBySourceResponse) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, envelopeSize(p.contentSize())))
}

// UnmarshalBinary decodes a QuoteBySourceResponse; p is left unchanged on
// error.
func (p *QuoteBySourceResponse) UnmarshalBinary(b []byte) error {
	r, err := openEnvelope(b, TypeQuoteBySourceResponse)
	if err != nil {
		return err
	}
	amount, err := r.uint64("destinationAmount")
	if err != nil {
		return err
	}
	hold, err := r.uint32("sourceHoldDuration")
	if err != nil {
		return err
	}
	p.DestinationAmount = amount
	p.SourceHoldDuration = hold
	p.Wire = Wire{Extension: r.extension()}
	return nil
}

// Type returns TypeQuoteByDestinationRequest.
func (p *QuoteByDestinationRequest) Type() Type { return TypeQuoteByDestinationRequest }

func (p *QuoteByDestinationRequest) contentSize() int {
	return varSize(len(p.DestinationAccount)) + 8 + 4 + p.Wire.extSize()
}

// AppendBinary appends the encoded packet to b.
func (p *QuoteByDestinationRequest) AppendBinary(b []byte) ([]byte, error) {
	b = beginEnvelope(b, TypeQuoteByDestinationRequest, p.contentSize())
	b = appendVarString(b, p.DestinationAccount)
	b = binary.BigEndian.AppendUint64(b, p.DestinationAmount)
	b = binary.BigEndian.AppendUint32(b, p.DestinationHoldDuration)
	return p.Wire.appendExt(b), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteByDestinationRequest) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, envelopeSize(p.contentSize())))
}

// UnmarshalBinary decodes a QuoteByDestinationRequest; p is left unchanged
// on error.
func (p *QuoteByDestinationRequest) UnmarshalBinary(b []byte) error {
	r, err := openEnvelope(b, TypeQuoteByDestinationRequest)
	if err != nil {
		return err
	}
	account, err := r.varOctets("destinationAccount")
	if err != nil {
		return err
	}
	amount, err := r.uint64("destinationAmount")
	if err != nil {
		return err
	}
	hold, err := r.uint32("destinationHoldDuration")
	if err != nil {
		return err
	}
	setString(&p.DestinationAccount, account)
	p.DestinationAmount = amount
	p.DestinationHoldDuration = hold
	p.Wire = Wire{Extension: r.extension()}
	return nil
}

// Type returns TypeQuoteByDestinationResponse.
func (p *QuoteByDestinationResponse) Type() Type { return TypeQuoteByDestinationResponse }

func (p *QuoteByDestinationResponse) contentSize() int { return 8 + 4 + p.Wire.extSize() }

// AppendBinary appends the encoded packet to b.
func (p *QuoteByDestinationResponse) AppendBinary(b []byte) ([]byte, error) {
	b = beginEnvelope(b, TypeQuoteByDestinationResponse, p.contentSize())
	b = binary.BigEndian.AppendUint64(b, p.SourceAmount)
	b = binary.BigEndian.AppendUint32(b, p.SourceHoldDuration)
	return p.Wire.appendExt(b), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteByDestinationResponse) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, envelopeSize(p.contentSize())))
}

// UnmarshalBinary decodes a QuoteByDestinationResponse; p is left unchanged
// on error.
func (p *QuoteByDestinationResponse) UnmarshalBinary(b []byte) error {
	r, err := openEnvelope(b, TypeQuoteByDestinationResponse)
	if err != nil {
		return err
	}
	amount, err := r.uint64("sourceAmount")
	if err != nil {
		return err
	}
	hold, err := r.uint32("sourceHoldDuration")
	if err != nil {
		return err
	}
	p.SourceAmount = amount
	p.SourceHoldDuration = hold
	p.Wire = Wire{Extension: r.extension()}
	return nil
}
