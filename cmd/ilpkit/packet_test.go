package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/internal/vectors"
)

// runCmd runs the command line and returns its exit status and output.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// decodeDoc runs "packet decode" and parses its output.
func decodeDoc(t *testing.T, stdin string, args ...string) (string, map[string]any) {
	t.Helper()
	code, out, errOut := runCmd(t, stdin, append([]string{"packet", "decode"}, args...)...)
	if code != 0 {
		t.Fatalf("packet decode %v: exit %d: %s", args, code, errOut)
	}
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode output is not JSON: %v\n%s", err, out)
	}
	return out, doc
}

// encodeHex runs "packet encode" on stdin and returns its output.
func encodeHex(t *testing.T, stdin string) string {
	t.Helper()
	code, out, errOut := runCmd(t, stdin, "packet", "encode")
	if code != 0 {
		t.Fatalf("packet encode: exit %d: %s\ninput: %s", code, errOut, stdin)
	}
	return out
}

type packetVector struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	JSON   map[string]any `json:"json"`
	Hex    string         `json:"hex"`
	TypeID json.Number    `json:"typeId"`
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonNames are the field names ilp-packet 1.3.0 returned; vectors using only
// these are fed to encode as they are.
var jsonNames = map[string]bool{
	"amount": true, "account": true, "data": true, "destinationAccount": true, "destinationHoldDuration": true,
	"liquidityCurve": true, "appliesToPrefix": true, "sourceHoldDuration": true, "expiresAt": true,
	"sourceAmount": true, "destinationAmount": true, "code": true, "name": true, "triggeredBy": true,
	"forwardedBy": true, "triggeredAt": true,
}

// TestPacketVectors runs every packet vector through decode and encode.
func TestPacketVectors(t *testing.T) {
	var doc struct {
		Vectors []packetVector `json:"vectors"`
	}
	vectors.Load(t, "ilp_packet_ilqp.json", &doc)
	if len(doc.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for i, v := range doc.Vectors {
		t.Run(fmt.Sprintf("%02d_%s", i, v.Type), func(t *testing.T) {
			out, got := decodeDoc(t, "", v.Hex)
			if text(got["type"]) != v.TypeID.String() || got["typeString"] != v.Type {
				t.Errorf("type %v %v, want %s %s", got["type"], got["typeString"], v.TypeID, v.Type)
			}
			if got["wire"] != nil || got["trailingHex"] != nil {
				t.Errorf("2017 output decoded with wire details: %s", out)
			}
			data := got["data"].(map[string]any)
			plain := true
			for k, want := range v.JSON {
				plain = plain && jsonNames[k]
				switch k {
				case "data_hex":
					raw, _ := hex.DecodeString(text(want))
					if text(data["data"]) != base64.RawURLEncoding.EncodeToString(raw) {
						t.Errorf("data = %v, want base64url of %s", data["data"], want)
					}
				case "curve_bytes_hex":
					if text(data["liquidityCurve"]) != text(want) {
						t.Errorf("liquidityCurve = %v, want %s", data["liquidityCurve"], want)
					}
				case "curve_base64":
					b, _ := base64.StdEncoding.DecodeString(text(want))
					if text(data["liquidityCurve"]) != hex.EncodeToString(b) {
						t.Errorf("liquidityCurve = %v, want %x", data["liquidityCurve"], b)
					}
				case "liquidityCurve_points":
					var wantPts []string
					for _, pt := range want.([]any) {
						xy := pt.([]any)
						wantPts = append(wantPts, text(xy[0])+","+text(xy[1]))
					}
					var gotPts []string
					for _, pt := range data["liquidityCurvePoints"].([]any) {
						xy := pt.([]any)
						if _, ok := xy[0].(string); !ok {
							t.Errorf("point coordinates must be decimal strings: %v", xy)
						}
						gotPts = append(gotPts, text(xy[0])+","+text(xy[1]))
					}
					if strings.Join(gotPts, " ") != strings.Join(wantPts, " ") {
						t.Errorf("points %v, want %v", gotPts, wantPts)
					}
				default:
					if text(data[k]) != text(want) {
						t.Errorf("%s = %s, want %s", k, text(data[k]), text(want))
					}
					// Types as ilp-packet returned them: amounts strings,
					// hold durations numbers.
					if _, isNum := want.(json.Number); isNum {
						if _, ok := data[k].(json.Number); !ok {
							t.Errorf("%s = %#v, want a JSON number", k, data[k])
						}
					} else if _, ok := want.(string); ok {
						if _, ok := data[k].(string); !ok {
							t.Errorf("%s = %#v, want a JSON string", k, data[k])
						}
					}
				}
			}

			if enc := encodeHex(t, out); enc != v.Hex+"\n" {
				t.Errorf("encode(decode) = %s, want %s", enc, v.Hex)
			}

			// The same packet as standard input, in base64 and base64url,
			// padded or not and wrapped, gives the same JSON.
			raw, _ := hex.DecodeString(v.Hex)
			std := base64.StdEncoding.EncodeToString(raw)
			wrapped := ""
			for s := std; s != ""; {
				n := min(len(s), 20)
				wrapped += s[:n] + "\n"
				s = s[n:]
			}
			for _, in := range []string{std, base64.RawURLEncoding.EncodeToString(raw), " \n" + wrapped, strings.ToUpper(v.Hex) + "\n"} {
				if again, _ := decodeDoc(t, in); again != out {
					t.Errorf("decoding %q from standard input gives\n%s\nwant\n%s", in, again, out)
				}
			}

			// The vector's own json, as ilp-packet 1.3.0 returned it.
			if plain {
				in, _ := json.Marshal(map[string]any{"type": v.TypeID, "typeString": v.Type, "data": v.JSON})
				if enc := encodeHex(t, string(in)); enc != v.Hex+"\n" {
					t.Errorf("encode(vector json) = %s, want %s", enc, v.Hex)
				}
			}
		})
	}
}

// TestPacketEncodeForms checks the other inputs encode takes.
func TestPacketEncodeForms(t *testing.T) {
	const liq = "0349010200000000000000000000000000000000000000000a00000000000000090100000d672e6575722e6c65646765722e00002af81332303137303732343132303030302e3030305a00"
	tests := []struct {
		name, json, want string
	}{
		{"curve as points, type by typeString only", `{"typeString":"ilqp_liquidity_response","data":{"liquidityCurvePoints":[["0","0"],[10,"265"]],"appliesToPrefix":"g.eur.ledger.","sourceHoldDuration":"11000","expiresAt":"2017-07-24T12:00:00Z"}}`, liq},
		{"curve as a Node.js Buffer", `{"type":3,"data":{"liquidityCurve":{"type":"Buffer","data":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,10,0,0,0,0,0,0,0,9,1,0,0]},"appliesToPrefix":"g.eur.ledger.","sourceHoldDuration":11000,"expiresAt":"2017-07-24T14:00:00.000+02:00"}}`, liq},
		{"amount as a number", `{"type":1,"data":{"amount":107,"account":"example.alice","data":""}}`, "0118000000000000006b0d6578616d706c652e616c6963650000"},
		{"payment data padded standard base64", `{"type":1,"data":{"amount":"100","account":"example.bob","data":"ZZZZ"}}`, "011900000000000000640b6578616d706c652e626f620365965900"},
		{"max amount", `{"type":5,"data":{"destinationAmount":"18446744073709551615","sourceHoldDuration":4294967295}}`, "050dffffffffffffffffffffffff00"},
		{"error with hex twins", `{"type":8,"data":{"code":"F02","codeHex":"523031","name":"","triggeredBy":"","forwardedBy":["?"],"forwardedByHex":["ff"],"triggeredAt":"2017-07-24T12:00:00.000Z","data":"?","dataHex":"c328"}}`,
			"08215230310000010101ff1332303137303732343132303030302e3030305a02c32800"},
		{"wire details and trailing bytes", `{"type":1,"data":{"amount":"0","account":"","data":""},"wire":{"extensionHex":""},"trailingHex":"dead"}`, "010a000000000000000000" + "00dead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := encodeHex(t, tt.json); got != tt.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	// Several documents in one stream give one line each.
	got := encodeHex(t, tests[2].json+"\n"+tests[3].json)
	if got != tests[2].want+"\n"+tests[3].want+"\n" {
		t.Errorf("stream: %q", got)
	}
}

// TestPacketQuirksRoundTrip checks packets that 2017 read but never wrote:
// decode shows them and encode gives back every byte.
func TestPacketQuirksRoundTrip(t *testing.T) {
	tests := []struct {
		name, hex string
		show      []string // what decode's output must contain
	}{
		{"no extension byte", "0117000000000000006b0d6578616d706c652e616c69636500", []string{`"extensionHex": ""`}},
		{"extension bytes", "011a000000000000006b0d6578616d706c652e616c6963650000ffee", []string{`"extensionHex": "00ffee"`}},
		{"bytes after the envelope", "0118000000000000006b0d6578616d706c652e616c6963650000cafe", []string{`"trailingHex": "cafe"`}},
		{"non-UTF-8 account", "010e000000000000006b03ff41fe0000", []string{`"accountHex": "ff41fe"`}},
		{"padded curve count", "034a02000200000000000000000000000000000000000000000a00000000000000090100000d672e6575722e6c65646765722e00002af81332303137303732343132303030302e3030305a00",
			[]string{`"countWidth": 2`, `"10",`}},
		{"invalid curve stays opaque", "03490102" + "ffffffffffffffffffffffffffffffff" + "00000000000000000000000000000000" + "0d672e6575722e6c65646765722e00002af81332303137303732343132303030302e3030305a00",
			[]string{`"liquidityCurveInvalid"`}},
		{"day 31 of February", "031c010000000000001332303137303233313030303030302e3030305a00", []string{`"time": "20170231000000.000Z"`, `"expiresAt": "2017-03-03T00:00:00.000Z"`}},
		{"error: padded count, hour 24, binary data and names", "082552303103ff41fe000300000101ff1332303137303332343234303030302e3030305a02c328",
			[]string{`"countWidth": 3`, `"time": "20170324240000.000Z"`, `"triggeredAt": "2017-03-25T00:00:00.000Z"`, `"dataHex": "c328"`, `"forwardedByHex"`, `"nameHex": "ff41fe"`, `"extensionHex": ""`}},
		{"high-bit timestamp byte", "08374630320b556e726561636861626c650f672e7573642e636f6e6e6563746f7201001332303137303732343132303030302eb030305a0000",
			[]string{`"timeHex": "32303137303732343132303030302eb030305a"`, `"triggeredAt": "2017-07-24T12:00:00.000Z"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := decodeDoc(t, "", tt.hex)
			for _, s := range tt.show {
				if !strings.Contains(out, s) {
					t.Errorf("decode output lacks %s:\n%s", s, out)
				}
			}
			if enc := encodeHex(t, out); enc != tt.hex+"\n" {
				t.Errorf("encode(decode)\n got %s\nwant %s", enc, tt.hex)
			}
		})
	}
}

// TestPacketErrors checks that bad input gives one clear line and status 1,
// and bad usage status 2.
func TestPacketErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"truncated packet", "", []string{"packet", "decode", "0118000000"}, 1, "envelope at offset 1: truncated"},
		{"unknown type", "", []string{"packet", "decode", "0901ff"}, 1, "unknown packet type"},
		{"non-canonical length", "", []string{"packet", "decode", "01810500000000000000"}, 1, "non-canonical length determinant"},
		{"bad timestamp", "", []string{"packet", "decode", "031c010000000000001332303137303232393030303030302e3030307a00"}, 1, "expiresAt at offset 9: malformed timestamp"},
		{"not hex nor base64", "", []string{"packet", "decode", "01*8"}, 1, "neither hex nor base64"},
		{"empty standard input", " \n", []string{"packet", "decode"}, 1, "no packet given"},
		{"encode: not JSON", "{", []string{"packet", "encode"}, 1, "JSON value 1"},
		{"encode: nothing", "", []string{"packet", "encode"}, 1, "no JSON"},
		{"encode: unknown field", `{"type":1,"data":{"amount":"1","acount":"g.a","data":""}}`, []string{"packet", "encode"}, 1, `unknown field "acount"`},
		{"encode: type mismatch", `{"type":1,"typeString":"ilp_error","data":{}}`, []string{"packet", "encode"}, 1, "typeString"},
		{"encode: unknown type", `{"type":9,"data":{}}`, []string{"packet", "encode"}, 1, "unknown packet type 9"},
		{"encode: amount too large", `{"type":1,"data":{"amount":"18446744073709551616","account":"","data":""}}`, []string{"packet", "encode"}, 1, "not an unsigned 64-bit integer"},
		{"encode: negative hold", `{"type":2,"data":{"destinationAccount":"g.a","destinationHoldDuration":-1}}`, []string{"packet", "encode"}, 1, "destinationHoldDuration"},
		{"encode: bad time", `{"type":3,"data":{"liquidityCurve":"","appliesToPrefix":"","sourceHoldDuration":1,"expiresAt":"yesterday"}}`, []string{"packet", "encode"}, 1, "expiresAt"},
		{"encode: curve not whole points", `{"type":3,"data":{"liquidityCurve":"00","appliesToPrefix":"","sourceHoldDuration":1,"expiresAt":"2017-07-24T12:00:00.000Z"}}`, []string{"packet", "encode"}, 1, "multiple of 16"},
		{"encode: decreasing points", `{"type":3,"data":{"liquidityCurvePoints":[["5","5"],["1","1"]],"appliesToPrefix":"","sourceHoldDuration":1,"expiresAt":"2017-07-24T12:00:00.000Z"}}`, []string{"packet", "encode"}, 1, "liquidityCurvePoints"},
		{"encode: code of 2 bytes", `{"type":8,"data":{"code":"F0","name":"","triggeredBy":"","forwardedBy":[],"triggeredAt":"2017-07-24T12:00:00.000Z","data":""}}`, []string{"packet", "encode"}, 1, "error code not 3 bytes"},
		{"encode: bad payment data", `{"type":1,"data":{"amount":"1","account":"","data":"A"}}`, []string{"packet", "encode"}, 1, "invalid base64"},
		{"no subcommand", "", []string{"packet"}, 2, "missing subcommand"},
		{"unknown subcommand", "", []string{"packet", "decdoe"}, 2, `unknown subcommand "decdoe"`},
		{"decode: two packets", "", []string{"packet", "decode", "00", "00"}, 2, "one packet"},
		{"encode: arguments", "", []string{"packet", "encode", "x"}, 2, "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			first, _, _ := strings.Cut(errOut, "\n")
			if !strings.HasPrefix(first, "ilpkit: ") || !strings.Contains(first, tt.msg) {
				t.Errorf("first line of stderr %q lacks %q", first, tt.msg)
			}
			if tt.code == 1 && strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", errOut)
			}
			if out != "" {
				t.Errorf("stdout %q on error", out)
			}
		})
	}
}

func TestPacketHelp(t *testing.T) {
	code, out, _ := runCmd(t, "", "packet", "help")
	if code != 0 || !strings.Contains(out, "ilpkit packet decode") || !strings.Contains(out, "trailingHex") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}
