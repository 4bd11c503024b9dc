package ilp

import (
	"strconv"
	"time"
)

// errorCodeLen is the size of an error code: three bytes, no length prefix.
const errorCodeLen = 3

// Error is an InterledgerProtocolError (type 8): code (three bytes, no
// length), name, triggeredBy, a VarUInt count of forwardedBy addresses and
// the addresses, triggeredAt, data, then the extension byte. It is also a Go
// error.
//
// The codec keeps the code and name exactly as received: 2017 peers still
// sent legacy codes such as S01 or R01 "Transfer Timed Out", and rewriting
// them would change the bytes. NormalizeCode maps them to the RFC table.
// Data is text in practice (often JSON) but kept as bytes.
type Error struct {
	Code        string // three bytes, such as "F02"
	Name        string // such as "Unreachable"
	TriggeredBy string // ILP address of the node that raised the error
	ForwardedBy []string
	TriggeredAt time.Time
	Data        []byte // nil when empty
	Wire        Wire
}

// NewError returns an error packet with the code's RFC name (see CodeName).
func NewError(code, triggeredBy string, triggeredAt time.Time, data []byte) *Error {
	return &Error{Code: code, Name: CodeName(code), TriggeredBy: triggeredBy, TriggeredAt: triggeredAt, Data: data}
}

// Error describes the ILP error for logs.
func (p *Error) Error() string {
	s := "ilp error " + p.Code
	if p.Name != "" {
		s += " " + p.Name
	}
	if p.TriggeredBy != "" {
		s += " (triggered by " + p.TriggeredBy + ")"
	}
	return s
}

// Type returns TypeError.
func (p *Error) Type() Type { return TypeError }

func (p *Error) contentSize() (int, error) {
	if len(p.Code) != errorCodeLen {
		return 0, encodeError(TypeError, "code", ErrCodeLength, strconv.Quote(p.Code))
	}
	width, err := p.Wire.countWidth(TypeError, "forwardedBy count")
	if err != nil {
		return 0, err
	}
	if err := timeErr(TypeError, "triggeredAt", p.TriggeredAt); err != nil {
		return 0, err
	}
	n := errorCodeLen + varSize(len(p.Name)) + varSize(len(p.TriggeredBy)) +
		varUintSize(uint64(len(p.ForwardedBy)), width)
	for _, a := range p.ForwardedBy {
		n += varSize(len(a))
	}
	n += timeFieldSize(p.TriggeredAt, p.Wire.Time) + varSize(len(p.Data)) + p.Wire.extSize()
	return n, nil
}

// AppendBinary appends the encoded packet to b. It fails when the code is
// not three bytes or TriggeredAt is outside what the 2017 form can carry.
func (p *Error) AppendBinary(b []byte) ([]byte, error) {
	n, err := p.contentSize()
	if err != nil {
		return b, err
	}
	b = beginEnvelope(b, TypeError, n)
	b = append(b, p.Code...)
	b = appendVarString(b, p.Name)
	b = appendVarString(b, p.TriggeredBy)
	b = appendVarUint(b, uint64(len(p.ForwardedBy)), p.Wire.CountWidth)
	for _, a := range p.ForwardedBy {
		b = appendVarString(b, a)
	}
	b = appendTimeField(b, p.TriggeredAt, p.Wire.Time)
	b = appendVarBytes(b, p.Data)
	return p.Wire.appendExt(b), nil
}

// MarshalBinary returns the encoded packet.
func (p *Error) MarshalBinary() ([]byte, error) {
	n, err := p.contentSize()
	if err != nil {
		return nil, err
	}
	return p.AppendBinary(make([]byte, 0, envelopeSize(n)))
}

// UnmarshalBinary decodes an InterledgerProtocolError; p is left unchanged
// on error.
func (p *Error) UnmarshalBinary(b []byte) error {
	r, err := openEnvelope(b, TypeError)
	if err != nil {
		return err
	}
	code, err := r.fixed("code", errorCodeLen)
	if err != nil {
		return err
	}
	name, err := r.varOctets("name")
	if err != nil {
		return err
	}
	triggeredBy, err := r.varOctets("triggeredBy")
	if err != nil {
		return err
	}
	start := r.off
	count, width, err := r.varUint("forwardedBy count")
	if err != nil {
		return err
	}
	// Every address takes at least its length byte, so a count larger than
	// the bytes left cannot be right. The list grows as addresses are read,
	// so a count the input does not back up costs no memory.
	if count > uint64(r.left()) {
		return r.fail(start, "forwardedBy count", ErrCountTooLarge,
			strconv.FormatUint(count, 10)+" addresses, "+strconv.Itoa(r.left())+" bytes follow")
	}
	var forwardedBy []string
	if count > 0 {
		forwardedBy = make([]string, 0, min(count, 16))
		for i := range int(count) {
			a, err := r.varOctets("forwardedBy")
			if err != nil {
				if de, ok := err.(*DecodeError); ok {
					de.Field = "forwardedBy[" + strconv.Itoa(i) + "]"
				}
				return err
			}
			forwardedBy = append(forwardedBy, string(a))
		}
	}
	triggeredAt, raw, err := r.time("triggeredAt")
	if err != nil {
		return err
	}
	data, err := r.varOctets("data")
	if err != nil {
		return err
	}
	setString(&p.Code, code)
	setString(&p.Name, name)
	setString(&p.TriggeredBy, triggeredBy)
	p.ForwardedBy = forwardedBy
	p.TriggeredAt = triggeredAt
	p.Data = copyBytes(data)
	p.Wire = Wire{Extension: r.extension(), Time: raw}
	if width > uintWidth(count) {
		p.Wire.CountWidth = width
	}
	return nil
}
