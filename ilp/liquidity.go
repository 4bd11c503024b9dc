package ilp

import (
	"encoding/binary"
	"strconv"
	"time"
)

// curvePointSize is the size of one curve point on the wire: two uint64s.
const curvePointSize = 16

// QuoteLiquidityResponse (type 3) answers a QuoteLiquidityRequest with a
// liquidity curve: VarUInt number of points, the points' bytes, then
// appliesToPrefix, sourceHoldDuration, expiresAt and the extension byte.
//
// The curve bytes are opaque here, as they were to ilp-packet: 16 bytes per
// point in the mixed-endian form ilp-routing wrote (each uint64 as its high
// 32-bit word then its low word, each little-endian). Package curve reads
// them and checks their shape.
type QuoteLiquidityResponse struct {
	LiquidityCurve     []byte // 16 bytes per point
	AppliesToPrefix    string
	SourceHoldDuration uint32 // ms
	ExpiresAt          time.Time
	Wire               Wire
}

// Type returns TypeQuoteLiquidityResponse.
func (p *QuoteLiquidityResponse) Type() Type { return TypeQuoteLiquidityResponse }

func (p *QuoteLiquidityResponse) contentSize() (int, error) {
	if len(p.LiquidityCurve)%curvePointSize != 0 {
		return 0, encodeError(TypeQuoteLiquidityResponse, "liquidityCurve", ErrCurveLength,
			strconv.Itoa(len(p.LiquidityCurve))+" bytes")
	}
	width, err := p.Wire.countWidth(TypeQuoteLiquidityResponse, "liquidity curve point count")
	if err != nil {
		return 0, err
	}
	if err := timeErr(TypeQuoteLiquidityResponse, "expiresAt", p.ExpiresAt); err != nil {
		return 0, err
	}
	n := varUintSize(uint64(len(p.LiquidityCurve)/curvePointSize), width) + len(p.LiquidityCurve) +
		varSize(len(p.AppliesToPrefix)) + 4 + timeFieldSize(p.ExpiresAt, p.Wire.Time) + p.Wire.extSize()
	return n, nil
}

// AppendBinary appends the encoded packet to b. It fails when the curve is
// not a whole number of points or ExpiresAt is outside what the 2017 form
// can carry.
func (p *QuoteLiquidityResponse) AppendBinary(b []byte) ([]byte, error) {
	n, err := p.contentSize()
	if err != nil {
		return b, err
	}
	b = beginEnvelope(b, TypeQuoteLiquidityResponse, n)
	b = appendVarUint(b, uint64(len(p.LiquidityCurve)/curvePointSize), p.Wire.CountWidth)
	b = append(b, p.LiquidityCurve...)
	b = appendVarString(b, p.AppliesToPrefix)
	b = binary.BigEndian.AppendUint32(b, p.SourceHoldDuration)
	b = appendTimeField(b, p.ExpiresAt, p.Wire.Time)
	return p.Wire.appendExt(b), nil
}

// MarshalBinary returns the encoded packet.
func (p *QuoteLiquidityResponse) MarshalBinary() ([]byte, error) {
	n, err := p.contentSize()
	if err != nil {
		return nil, err
	}
	return p.AppendBinary(make([]byte, 0, envelopeSize(n)))
}

// UnmarshalBinary decodes a QuoteLiquidityResponse; p is left unchanged on
// error. The curve bytes are not checked beyond their count.
func (p *QuoteLiquidityResponse) UnmarshalBinary(b []byte) error {
	r, err := openEnvelope(b, TypeQuoteLiquidityResponse)
	if err != nil {
		return err
	}
	start := r.off
	count, width, err := r.varUint("liquidity curve point count")
	if err != nil {
		return err
	}
	if count > uint64(r.left()/curvePointSize) {
		return r.fail(start, "liquidity curve point count", ErrCountTooLarge,
			strconv.FormatUint(count, 10)+" points of 16 bytes, "+strconv.Itoa(r.left())+" bytes follow")
	}
	curve, err := r.fixed("liquidityCurve", int(count)*curvePointSize)
	if err != nil {
		return err
	}
	prefix, err := r.varOctets("appliesToPrefix")
	if err != nil {
		return err
	}
	hold, err := r.uint32("sourceHoldDuration")
	if err != nil {
		return err
	}
	expires, raw, err := r.time("expiresAt")
	if err != nil {
		return err
	}
	p.LiquidityCurve = copyBytes(curve)
	setString(&p.AppliesToPrefix, prefix)
	p.SourceHoldDuration = hold
	p.ExpiresAt = expires
	p.Wire = Wire{Extension: r.extension(), Time: raw}
	if width > uintWidth(count) {
		p.Wire.CountWidth = width
	}
	return nil
}
