package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/ilp"
)

const packetUsage = `Usage:
  ilpkit packet decode [packet]   print the packet as JSON (the packet is read
                                  from standard input when not given)
  ilpkit packet encode            read such JSON on standard input (one or more
                                  values) and print each packet in hex

A packet is read as hex when it is an even number of hex digits, otherwise as
base64 or base64url, padded or not; whitespace is ignored.

The JSON is what ilp-packet 1.3.0's deserializeIlpPacket returned: "type",
"typeString" and "data", amounts as decimal strings, hold durations in ms,
times as ISO 8601 with milliseconds, a payment's data in base64url. Beside
those: "liquidityCurve" (hex) and "liquidityCurvePoints" ([["x","y"],...]);
"<field>Hex" for a text field whose bytes are not UTF-8; "wire" for the
details that make encode give back the very same bytes (extension bytes, a
padded count, a timestamp text that 2017 rolled over); "trailingHex" for bytes
after the packet.
`

func runPacket(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: packet: missing subcommand (decode or encode)", errUsage)
	}
	switch args[0] {
	case "decode":
		var text []byte
		switch len(args) {
		case 1:
			b, err := io.ReadAll(stdin)
			if err != nil {
				return fmt.Errorf("packet decode: reading standard input: %w", err)
			}
			text = b
		case 2:
			text = []byte(args[1])
		default:
			return fmt.Errorf("%w: packet decode takes one packet, got %d arguments", errUsage, len(args)-1)
		}
		out, err := decodePacketText(text)
		if err != nil {
			return fmt.Errorf("packet decode: %w", err)
		}
		_, err = stdout.Write(out)
		return err
	case "encode":
		if len(args) > 1 {
			return fmt.Errorf("%w: packet encode reads standard input and takes no arguments", errUsage)
		}
		return encodePacketStream(stdin, stdout)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, packetUsage)
		return err
	}
	return fmt.Errorf("%w: packet: unknown subcommand %q (want decode or encode)", errUsage, args[0])
}

// packetBytes reads packet text: hex when it is an even number of hex
// digits, otherwise base64 or base64url. All whitespace is dropped first, so
// wrapped base64 and spaced-out hex both work.
func packetBytes(text []byte) ([]byte, error) {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, string(text))
	if s == "" {
		return nil, errors.New("no packet given")
	}
	if len(s)%2 == 0 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	b, err := ilp.DecodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("packet is neither hex nor base64: %w", err)
	}
	return b, nil
}

// packetJSON is the document decode prints and encode reads.
type packetJSON struct {
	Type        *int            `json:"type,omitempty"`
	TypeString  string          `json:"typeString,omitempty"`
	Data        json.RawMessage `json:"data"`
	Wire        *wireJSON       `json:"wire,omitempty"`
	TrailingHex string          `json:"trailingHex,omitempty"`
}

// wireJSON carries ilp.Wire.
type wireJSON struct {
	ExtensionHex *string `json:"extensionHex,omitempty"`
	CountWidth   int     `json:"countWidth,omitempty"`
	Time         string  `json:"time,omitempty"`
	TimeHex      string  `json:"timeHex,omitempty"`
}

type paymentJSON struct {
	Amount     json.RawMessage `json:"amount"`
	Account    string          `json:"account"`
	AccountHex string          `json:"accountHex,omitempty"`
	Data       string          `json:"data"`
}

type liquidityRequestJSON struct {
	DestinationAccount      string          `json:"destinationAccount"`
	DestinationAccountHex   string          `json:"destinationAccountHex,omitempty"`
	DestinationHoldDuration json.RawMessage `json:"destinationHoldDuration"`
}

type liquidityResponseJSON struct {
	LiquidityCurve        json.RawMessage      `json:"liquidityCurve,omitempty"`
	LiquidityCurvePoints  [][2]json.RawMessage `json:"liquidityCurvePoints,omitempty"`
	LiquidityCurveInvalid string               `json:"liquidityCurveInvalid,omitempty"`
	AppliesToPrefix       string               `json:"appliesToPrefix"`
	AppliesToPrefixHex    string               `json:"appliesToPrefixHex,omitempty"`
	SourceHoldDuration    json.RawMessage      `json:"sourceHoldDuration"`
	ExpiresAt             string               `json:"expiresAt"`
}

type quoteRequestJSON struct {
	DestinationAccount      string          `json:"destinationAccount"`
	DestinationAccountHex   string          `json:"destinationAccountHex,omitempty"`
	SourceAmount            json.RawMessage `json:"sourceAmount,omitempty"`
	DestinationAmount       json.RawMessage `json:"destinationAmount,omitempty"`
	DestinationHoldDuration json.RawMessage `json:"destinationHoldDuration"`
}

type quoteResponseJSON struct {
	DestinationAmount  json.RawMessage `json:"destinationAmount,omitempty"`
	SourceAmount       json.RawMessage `json:"sourceAmount,omitempty"`
	SourceHoldDuration json.RawMessage `json:"sourceHoldDuration"`
}

type errorJSON struct {
	Code           string   `json:"code"`
	CodeHex        string   `json:"codeHex,omitempty"`
	Name           string   `json:"name"`
	NameHex        string   `json:"nameHex,omitempty"`
	TriggeredBy    string   `json:"triggeredBy"`
	TriggeredByHex string   `json:"triggeredByHex,omitempty"`
	ForwardedBy    []string `json:"forwardedBy"`
	ForwardedByHex []string `json:"forwardedByHex,omitempty"`
	TriggeredAt    string   `json:"triggeredAt"`
	Data           string   `json:"data"`
	DataHex        string   `json:"dataHex,omitempty"`
}

// isoMillis is how JavaScript's Date.toISOString (and JSON.stringify)
// wrote times.
const isoMillis = "2006-01-02T15:04:05.000Z"

// textHex returns the hex twin of a text field: its bytes, when they are not
// UTF-8 and so cannot travel in a JSON string unchanged.
func textHex(s string) string {
	if utf8.ValidString(s) {
		return ""
	}
	return hex.EncodeToString([]byte(s))
}

func rawUint(v uint64) json.RawMessage {
	return json.RawMessage(strconv.Quote(strconv.FormatUint(v, 10)))
}

func rawNumber(v uint32) json.RawMessage { return json.RawMessage(strconv.FormatUint(uint64(v), 10)) }

// decodePacketText decodes packet text and renders its JSON document.
func decodePacketText(text []byte) ([]byte, error) {
	b, err := packetBytes(text)
	if err != nil {
		return nil, err
	}
	p, err := ilp.Decode(b)
	if err != nil {
		return nil, err
	}
	n, err := ilp.EnvelopeLen(b)
	if err != nil {
		return nil, err
	}
	var data any
	var w *ilp.Wire
	switch p := p.(type) {
	case *ilp.Payment:
		w = &p.Wire
		data = paymentJSON{Amount: rawUint(p.Amount), Account: p.Account, AccountHex: textHex(p.Account),
			Data: ilp.EncodeBase64URL(p.Data)}
	case *ilp.QuoteLiquidityRequest:
		w = &p.Wire
		data = liquidityRequestJSON{DestinationAccount: p.DestinationAccount, DestinationAccountHex: textHex(p.DestinationAccount),
			DestinationHoldDuration: rawNumber(p.DestinationHoldDuration)}
	case *ilp.QuoteLiquidityResponse:
		w = &p.Wire
		d := liquidityResponseJSON{
			LiquidityCurve:  json.RawMessage(strconv.Quote(hex.EncodeToString(p.LiquidityCurve))),
			AppliesToPrefix: p.AppliesToPrefix, AppliesToPrefixHex: textHex(p.AppliesToPrefix),
			SourceHoldDuration: rawNumber(p.SourceHoldDuration), ExpiresAt: p.ExpiresAt.UTC().Format(isoMillis),
		}
		// The curve bytes are opaque to the packet; when they do not make a
		// curve (ilp-routing's rules), the points are left out and the
		// reason given instead.
		c, err := curve.FromBinary(p.LiquidityCurve)
		if err != nil {
			d.LiquidityCurveInvalid = err.Error()
		} else {
			d.LiquidityCurvePoints = [][2]json.RawMessage{}
			for _, pt := range c.Points() {
				d.LiquidityCurvePoints = append(d.LiquidityCurvePoints, [2]json.RawMessage{rawUint(pt.X), rawUint(pt.Y)})
			}
		}
		data = d
	case *ilp.QuoteBySourceRequest:
		w = &p.Wire
		data = quoteRequestJSON{DestinationAccount: p.DestinationAccount, DestinationAccountHex: textHex(p.DestinationAccount),
			SourceAmount: rawUint(p.SourceAmount), DestinationHoldDuration: rawNumber(p.DestinationHoldDuration)}
	case *ilp.QuoteBySourceResponse:
		w = &p.Wire
		data = quoteResponseJSON{DestinationAmount: rawUint(p.DestinationAmount), SourceHoldDuration: rawNumber(p.SourceHoldDuration)}
	case *ilp.QuoteByDestinationRequest:
		w = &p.Wire
		data = quoteRequestJSON{DestinationAccount: p.DestinationAccount, DestinationAccountHex: textHex(p.DestinationAccount),
			DestinationAmount: rawUint(p.DestinationAmount), DestinationHoldDuration: rawNumber(p.DestinationHoldDuration)}
	case *ilp.QuoteByDestinationResponse:
		w = &p.Wire
		data = quoteResponseJSON{SourceAmount: rawUint(p.SourceAmount), SourceHoldDuration: rawNumber(p.SourceHoldDuration)}
	case *ilp.Error:
		w = &p.Wire
		d := errorJSON{Code: p.Code, CodeHex: textHex(p.Code), Name: p.Name, NameHex: textHex(p.Name),
			TriggeredBy: p.TriggeredBy, TriggeredByHex: textHex(p.TriggeredBy),
			ForwardedBy: append([]string{}, p.ForwardedBy...), TriggeredAt: p.TriggeredAt.UTC().Format(isoMillis),
			Data: string(p.Data), DataHex: textHex(string(p.Data))}
		for _, a := range p.ForwardedBy {
			if !utf8.ValidString(a) {
				for _, a := range p.ForwardedBy {
					d.ForwardedByHex = append(d.ForwardedByHex, hex.EncodeToString([]byte(a)))
				}
				break
			}
		}
		data = d
	}
	raw, err := marshalJSON(data)
	if err != nil {
		return nil, err
	}
	typ := int(p.Type())
	doc := packetJSON{Type: &typ, TypeString: p.Type().String(), Data: raw, TrailingHex: hex.EncodeToString(b[n:])}
	if w.Extension != nil || w.CountWidth != 0 || w.Time != "" {
		doc.Wire = &wireJSON{CountWidth: w.CountWidth, Time: w.Time, TimeHex: textHex(w.Time)}
		if w.Extension != nil {
			e := hex.EncodeToString(w.Extension)
			doc.Wire.ExtensionHex = &e
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func marshalJSON(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// encodePacketStream encodes every JSON document on r, one hex line each.
func encodePacketStream(r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	count := 0
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		count++
		if err != nil {
			return fmt.Errorf("packet encode: JSON value %d: %w", count, err)
		}
		b, err := encodePacketJSON(raw)
		if err != nil {
			return fmt.Errorf("packet encode: JSON value %d: %w", count, err)
		}
		if _, err := io.WriteString(w, hex.EncodeToString(b)+"\n"); err != nil {
			return err
		}
	}
	if count == 0 {
		return errors.New("packet encode: no JSON on standard input")
	}
	return nil
}

// strictUnmarshal decodes JSON refusing unknown fields, so that a misspelt
// field is an error rather than a zero value.
func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the object")
	}
	return nil
}

// encodePacketJSON turns one JSON document into packet bytes.
func encodePacketJSON(raw []byte) ([]byte, error) {
	var doc packetJSON
	if err := strictUnmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var t ilp.Type
	switch {
	case doc.Type != nil:
		if *doc.Type < 1 || *doc.Type > 8 {
			return nil, fmt.Errorf("unknown packet type %d", *doc.Type)
		}
		t = ilp.Type(*doc.Type)
		if doc.TypeString != "" && doc.TypeString != t.String() {
			return nil, fmt.Errorf("type %d is %s, but typeString is %q", *doc.Type, t, doc.TypeString)
		}
	case doc.TypeString != "":
		var ok bool
		if t, ok = ilp.ParseType(doc.TypeString); !ok {
			return nil, fmt.Errorf("unknown typeString %q", doc.TypeString)
		}
	default:
		return nil, errors.New("no type or typeString")
	}
	if len(doc.Data) == 0 {
		return nil, errors.New("no data")
	}
	var wire ilp.Wire
	if doc.Wire != nil {
		wire.CountWidth = doc.Wire.CountWidth
		var err error
		if wire.Time, err = textField("wire.time", doc.Wire.Time, doc.Wire.TimeHex); err != nil {
			return nil, err
		}
		if doc.Wire.ExtensionHex != nil {
			e, err := hex.DecodeString(*doc.Wire.ExtensionHex)
			if err != nil {
				return nil, fmt.Errorf("wire.extensionHex: %w", err)
			}
			wire.Extension = append([]byte{}, e...)
		}
	}
	p, err := packetFromData(t, doc.Data, wire)
	if err != nil {
		return nil, fmt.Errorf("%s data: %w", t, err)
	}
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if doc.TrailingHex != "" {
		tail, err := hex.DecodeString(doc.TrailingHex)
		if err != nil {
			return nil, fmt.Errorf("trailingHex: %w", err)
		}
		b = append(b, tail...)
	}
	return b, nil
}

func packetFromData(t ilp.Type, data []byte, wire ilp.Wire) (ilp.Packet, error) {
	switch t {
	case ilp.TypePayment:
		var d paymentJSON
		if err := strictUnmarshal(data, &d); err != nil {
			return nil, err
		}
		p := &ilp.Payment{Wire: wire}
		var err error
		if p.Amount, err = jsonUint64("amount", d.Amount); err != nil {
			return nil, err
		}
		if p.Account, err = textField("account", d.Account, d.AccountHex); err != nil {
			return nil, err
		}
		if p.Data, err = ilp.DecodeBase64(d.Data); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if len(p.Data) == 0 {
			p.Data = nil
		}
		return p, nil
	case ilp.TypeQuoteLiquidityRequest:
		var d liquidityRequestJSON
		if err := strictUnmarshal(data, &d); err != nil {
			return nil, err
		}
		p := &ilp.QuoteLiquidityRequest{Wire: wire}
		var err error
		if p.DestinationAccount, err = textField("destinationAccount", d.DestinationAccount, d.DestinationAccountHex); err != nil {
			return nil, err
		}
		if p.DestinationHoldDuration, err = jsonUint32("destinationHoldDuration", d.DestinationHoldDuration); err != nil {
			return nil, err
		}
		return p, nil
	case ilp.TypeQuoteLiquidityResponse:
		var d liquidityResponseJSON
		if err := strictUnmarshal(data, &d); err != nil {
			return nil, err
		}
		p := &ilp.QuoteLiquidityResponse{Wire: wire}
		var err error
		if p.LiquidityCurve, err = curveBytes(d.LiquidityCurve, d.LiquidityCurvePoints); err != nil {
			return nil, err
		}
		if p.AppliesToPrefix, err = textField("appliesToPrefix", d.AppliesToPrefix, d.AppliesToPrefixHex); err != nil {
			return nil, err
		}
		if p.SourceHoldDuration, err = jsonUint32("sourceHoldDuration", d.SourceHoldDuration); err != nil {
			return nil, err
		}
		if p.ExpiresAt, err = jsonTime("expiresAt", d.ExpiresAt); err != nil {
			return nil, err
		}
		return p, nil
	case ilp.TypeQuoteBySourceRequest, ilp.TypeQuoteByDestinationRequest:
		var d quoteRequestJSON
		if err := strictUnmarshal(data, &d); err != nil {
			return nil, err
		}
		account, err := textField("destinationAccount", d.DestinationAccount, d.DestinationAccountHex)
		if err != nil {
			return nil, err
		}
		hold, err := jsonUint32("destinationHoldDuration", d.DestinationHoldDuration)
		if err != nil {
			return nil, err
		}
		if t == ilp.TypeQuoteBySourceRequest {
			if d.DestinationAmount != nil {
				return nil, errors.New("destinationAmount does not belong in a by-source request")
			}
			amount, err := jsonUint64("sourceAmount", d.SourceAmount)
			if err != nil {
				return nil, err
			}
			return &ilp.QuoteBySourceRequest{DestinationAccount: account, SourceAmount: amount, DestinationHoldDuration: hold, Wire: wire}, nil
		}
		if d.SourceAmount != nil {
			return nil, errors.New("sourceAmount does not belong in a by-destination request")
		}
		amount, err := jsonUint64("destinationAmount", d.DestinationAmount)
		if err != nil {
			return nil, err
		}
		return &ilp.QuoteByDestinationRequest{DestinationAccount: account, DestinationAmount: amount, DestinationHoldDuration: hold, Wire: wire}, nil
	case ilp.TypeQuoteBySourceResponse, ilp.TypeQuoteByDestinationResponse:
		var d quoteResponseJSON
		if err := strictUnmarshal(data, &d); err != nil {
			return nil, err
		}
		hold, err := jsonUint32("sourceHoldDuration", d.SourceHoldDuration)
		if err != nil {
			return nil, err
		}
		if t == ilp.TypeQuoteBySourceResponse {
			if d.SourceAmount != nil {
				return nil, errors.New("sourceAmount does not belong in a by-source response")
			}
			amount, err := jsonUint64("destinationAmount", d.DestinationAmount)
			if err != nil {
				return nil, err
			}
			return &ilp.QuoteBySourceResponse{DestinationAmount: amount, SourceHoldDuration: hold, Wire: wire}, nil
		}
		if d.DestinationAmount != nil {
			return nil, errors.New("destinationAmount does not belong in a by-destination response")
		}
		amount, err := jsonUint64("sourceAmount", d.SourceAmount)
		if err != nil {
			return nil, err
		}
		return &ilp.QuoteByDestinationResponse{SourceAmount: amount, SourceHoldDuration: hold, Wire: wire}, nil
	case ilp.TypeError:
		var d errorJSON
		if err := strictUnmarshal(data, &d); err != nil {
			return nil, err
		}
		p := &ilp.Error{Wire: wire}
		var err error
		if p.Code, err = textField("code", d.Code, d.CodeHex); err != nil {
			return nil, err
		}
		if p.Name, err = textField("name", d.Name, d.NameHex); err != nil {
			return nil, err
		}
		if p.TriggeredBy, err = textField("triggeredBy", d.TriggeredBy, d.TriggeredByHex); err != nil {
			return nil, err
		}
		if d.ForwardedByHex != nil {
			for i, a := range d.ForwardedByHex {
				b, err := hex.DecodeString(a)
				if err != nil {
					return nil, fmt.Errorf("forwardedByHex[%d]: %w", i, err)
				}
				p.ForwardedBy = append(p.ForwardedBy, string(b))
			}
		} else if len(d.ForwardedBy) > 0 {
			p.ForwardedBy = d.ForwardedBy
		}
		if p.TriggeredAt, err = jsonTime("triggeredAt", d.TriggeredAt); err != nil {
			return nil, err
		}
		text, err := textField("data", d.Data, d.DataHex)
		if err != nil {
			return nil, err
		}
		if text != "" {
			p.Data = []byte(text)
		}
		return p, nil
	}
	return nil, fmt.Errorf("unknown packet type %d", t)
}

// textField returns a text field's bytes: from its hex twin when present
// (the text may have lost bytes that are not UTF-8), else the text.
func textField(name, text, hexText string) (string, error) {
	if hexText == "" {
		return text, nil
	}
	b, err := hex.DecodeString(hexText)
	if err != nil {
		return "", fmt.Errorf("%sHex: %w", name, err)
	}
	return string(b), nil
}

// jsonUint64 reads an amount given as a decimal string or a JSON number.
func jsonUint64(name string, raw json.RawMessage) (uint64, error) {
	s, err := numberText(name, raw)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an unsigned 64-bit integer", name, s)
	}
	return v, nil
}

// jsonUint32 reads a hold duration given as a JSON number or a string.
func jsonUint32(name string, raw json.RawMessage) (uint32, error) {
	s, err := numberText(name, raw)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an unsigned 32-bit integer", name, s)
	}
	return uint32(v), nil
}

func numberText(name string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", fmt.Errorf("%s is missing", name)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("%s must be a number or a decimal string, got %s", name, raw)
	}
	return n.String(), nil
}

// jsonTime reads an ISO 8601 time (RFC 3339, any fraction of a second).
func jsonTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%s is missing", name)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an ISO 8601 time such as 2017-03-24T02:00:16.160Z", name, s)
	}
	return t, nil
}

// curveBytes returns the liquidity curve bytes: from liquidityCurve (hex, or
// the {"type":"Buffer","data":[...]} that JSON.stringify made of a Node.js
// Buffer) when present, else from liquidityCurvePoints.
func curveBytes(raw json.RawMessage, points [][2]json.RawMessage) ([]byte, error) {
	if len(raw) > 0 && string(raw) != "null" {
		if raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("liquidityCurve: %w", err)
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("liquidityCurve is not hex: %w", err)
			}
			return nonNil(b), nil
		}
		var buf struct {
			Type string `json:"type"`
			Raw  []int  `json:"data"`
		}
		if err := json.Unmarshal(raw, &buf); err != nil || buf.Type != "Buffer" {
			return nil, errors.New(`liquidityCurve must be hex or {"type":"Buffer","data":[...]}`)
		}
		b := make([]byte, len(buf.Raw))
		for i, v := range buf.Raw {
			if v < 0 || v > 255 {
				return nil, fmt.Errorf("liquidityCurve data[%d] = %d is not a byte", i, v)
			}
			b[i] = byte(v)
		}
		return nonNil(b), nil
	}
	if points == nil {
		return nil, errors.New("neither liquidityCurve nor liquidityCurvePoints given")
	}
	pts := make([]curve.Point, len(points))
	for i, xy := range points {
		var err error
		if pts[i].X, err = jsonUint64(fmt.Sprintf("liquidityCurvePoints[%d][0]", i), xy[0]); err != nil {
			return nil, err
		}
		if pts[i].Y, err = jsonUint64(fmt.Sprintf("liquidityCurvePoints[%d][1]", i), xy[1]); err != nil {
			return nil, err
		}
	}
	c, err := curve.New(pts)
	if err != nil {
		return nil, fmt.Errorf("liquidityCurvePoints: %w", err)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return nonNil(b), nil
}

func nonNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
