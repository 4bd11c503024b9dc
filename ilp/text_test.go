package ilp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestValidateAddress(t *testing.T) {
	long := strings.Repeat("a", MaxAddressLen)
	tests := []struct {
		s              string
		address, prefx bool
	}{
		{"g.us.nexus.bob", true, false},
		{"us.usd.red.alice", true, false}, // ILP Kit 3 ran without a scheme
		{"example.alice", true, false},
		{"private.a-b_c~d.0", true, false},
		{"alice", true, false},
		{long, true, false},
		{long[:MaxAddressLen-1] + ".", false, true},
		{"g.", false, true},
		{"us.usd.red.", false, true},
		{"g.eur.ledger.", false, true},
		{long + "a", false, false},
		{"", false, false},
		{".", false, false},
		{".g", false, false},
		{"g..a", false, false},
		{"g..", false, false},
		{"g.a b", false, false},
		{"g.a/b", false, false},
		{"g.é", false, false},
		{"g.a\x00", false, false},
		{"g.a+b.", false, false},
	}
	for _, tt := range tests {
		errA, errP := ValidateAddress(tt.s), ValidatePrefix(tt.s)
		if (errA == nil) != tt.address {
			t.Errorf("ValidateAddress(%.20q) = %v, want ok=%v", tt.s, errA, tt.address)
		}
		if (errP == nil) != tt.prefx {
			t.Errorf("ValidatePrefix(%.20q) = %v, want ok=%v", tt.s, errP, tt.prefx)
		}
		for _, err := range []error{errA, errP} {
			if err != nil && !errors.Is(err, ErrInvalidAddress) {
				t.Errorf("%.20q: error %v does not wrap ErrInvalidAddress", tt.s, err)
			}
		}
	}
	if err := ValidateAddress("g.a b"); err == nil || !strings.Contains(err.Error(), "' ' at offset 3") {
		t.Errorf("message does not say what and where: %v", err)
	}
}

func TestDecodeBase64(t *testing.T) {
	// 0xfb 0xff 0xbf exercises both alphabets' last two characters.
	want := []byte{0xfb, 0xff, 0xbf, 0x01}
	for _, s := range []string{
		"+/+/AQ==", "+/+/AQ", "-_-_AQ==", "-_-_AQ", "+_-/AQ", // mixed alphabets, as Node read them
		"+/+/AR", // unused low bits set: ignored, as Node did
	} {
		got, err := DecodeBase64(s)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("DecodeBase64(%q) = %x, %v", s, got, err)
		}
	}
	if got, err := DecodeBase64(""); err != nil || len(got) != 0 {
		t.Errorf("DecodeBase64(\"\") = %x, %v", got, err)
	}
	for _, s := range []string{"A", "AQ=", "AQ===", "A===", "AQ=A", "AQ\n", "AQ\r\nAQ", "AQ AQ", "A*", "====", "AQ==="} {
		if got, err := DecodeBase64(s); !errors.Is(err, ErrInvalidBase64) {
			t.Errorf("DecodeBase64(%q) = %x, %v; want ErrInvalidBase64", s, got, err)
		}
	}
	if got := EncodeBase64URL(want); got != "-_-_AQ" {
		t.Errorf("EncodeBase64URL = %q", got)
	}
}

func TestCodes(t *testing.T) {
	rfc := map[string]string{
		"F00": "Bad Request", "F01": "Invalid Packet", "F02": "Unreachable", "F03": "Invalid Amount",
		"F04": "Insufficient Destination Amount", "F05": "Wrong Condition", "F06": "Unexpected Payment",
		"F07": "Cannot Receive", "F99": "Application Error",
		"T00": "Internal Error", "T01": "Ledger Unreachable", "T02": "Ledger Busy", "T03": "Connector Busy",
		"T04": "Insufficient Liquidity", "T05": "Rate Limited", "T99": "Application Error",
		"R00": "Transfer Timed Out", "R01": "Insufficient Source Amount", "R02": "Insufficient Timeout",
		"R99": "Application Error",
	}
	for code, name := range rfc {
		if got := CodeName(code); got != name {
			t.Errorf("CodeName(%s) = %q, want %q", code, got, name)
		}
		if got, ok := NormalizeCode(code, name); got != code || !ok {
			t.Errorf("NormalizeCode(%s, %q) = %s, %v", code, name, got, ok)
		}
	}
	for _, c := range []string{"S00", "F08", "R03", "", "F0", "f00"} {
		if CodeName(c) != "" {
			t.Errorf("CodeName(%q) = %q, want none", c, CodeName(c))
		}
	}
	tests := []struct {
		code, name, want string
		ok               bool
	}{
		{"S00", "Bad Request", "F00", true},
		{"S01", "Invalid Packet", "F01", true},
		{"S02", "Unreachable", "F02", true},
		{"S03", "Invalid Amount", "F03", true},
		{"S04", "Insufficient Destination Amount", "F04", true},
		{"S05", "Wrong Condition", "F05", true},
		{"S06", "Unexpected Payment", "F06", true},
		{"S07", "Cannot Receive", "F07", true},
		{"S99", "Application Error", "F99", true},
		{"S08", "", "S08", false},
		{"R01", "Transfer Timed Out", "R00", true}, // ilp@11.2 receiver
		{"R01", " transfer timed out ", "R00", true},
		{"R01", "Insufficient Source Amount", "R01", true}, // RFC meaning
		{"R01", "", "R01", true},
		{"R02", "Insufficient Source Amount", "R01", true}, // connector 21.1.5
		{"R02", "Insufficient Timeout", "R02", true},
		{"R03", "Insufficient Timeout", "R02", true}, // connector 21.1.5
		{"R03", "", "R02", true},
		{"T01", "Ledger Unreachable", "T01", true},
		{"X00", "Whatever", "X00", false},
		{"F08", "Amount Too Large", "F08", false}, // not in the mid-2017 table
	}
	for _, tt := range tests {
		if got, ok := NormalizeCode(tt.code, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeCode(%q, %q) = %q, %v; want %q, %v", tt.code, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
