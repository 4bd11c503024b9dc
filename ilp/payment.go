package ilp

import "encoding/binary"

// Payment is an IlpPayment (type 1): amount UInt64, account and data as OER
// octet strings, then the extension byte.
//
// Account is kept as the bytes received; it is not checked (ValidateAddress
// does that). ilp-packet 1.3.0 returned Data as unpadded base64url text;
// here it is the bytes.
type Payment struct {
	Amount  uint64 // in the destination ledger's base units
	Account string // destination ILP address
	Data    []byte // end-to-end data (PSK details, memos); nil when empty
	Wire    Wire
}

// Type returns TypePayment.
func (p *Payment) Type() Type { return TypePayment }

func (p *Payment) contentSize() int {
	return 8 + varSize(len(p.Account)) + varSize(len(p.Data)) + p.Wire.extSize()
}

// AppendBinary appends the encoded packet to b.
func (p *Payment) AppendBinary(b []byte) ([]byte, error) {
	b = beginEnvelope(b, TypePayment, p.contentSize())
	b = binary.BigEndian.AppendUint64(b, p.Amount)
	b = appendVarString(b, p.Account)
	b = appendVarBytes(b, p.Data)
	return p.Wire.appendExt(b), nil
}

// MarshalBinary returns the encoded packet.
func (p *Payment) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, envelopeSize(p.contentSize())))
}

// UnmarshalBinary decodes an IlpPayment; p is left unchanged on error. The
// result does not share memory with b.
func (p *Payment) UnmarshalBinary(b []byte) error {
	r, err := openEnvelope(b, TypePayment)
	if err != nil {
		return err
	}
	amount, err := r.uint64("amount")
	if err != nil {
		return err
	}
	account, err := r.varOctets("account")
	if err != nil {
		return err
	}
	data, err := r.varOctets("data")
	if err != nil {
		return err
	}
	p.Amount = amount
	setString(&p.Account, account)
	p.Data = copyBytes(data)
	p.Wire = Wire{Extension: r.extension()}
	return nil
}
