package routing

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecodeRoutingUpdate: the decoder never panics; what it accepts the
// 2017 schemas accept, and what they accept it refuses only for the reasons
// it documents; an accepted update encodes, decodes to the same value and
// encodes to the same bytes again. The seed corpus is in
// testdata/fuzz/FuzzDecodeRoutingUpdate.
func FuzzDecodeRoutingUpdate(f *testing.F) {
	s := loadSchemas(f)
	f.Add([]byte(update(okRoute)))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := DecodeRoutingUpdate(b)
		valid, isJSON := s.validJSON(t, b)
		switch {
		case err == nil && !valid:
			t.Fatalf("decoded %+v, but the schema refuses %q (JSON: %v)", u, b, isJSON)
		case err != nil && valid && !beyondSchema(err):
			t.Fatalf("schema accepts %q, decoder refused: %v", b, err)
		case err != nil:
			return
		}
		enc, err := json.Marshal(u)
		if err != nil {
			t.Fatalf("encoding %+v: %v", u, err)
		}
		u2, err := DecodeRoutingUpdate(enc)
		if err != nil {
			t.Fatalf("decoding our own %s: %v", enc, err)
		}
		if !reflect.DeepEqual(u, u2) {
			t.Fatalf("decode∘encode changed the update:\n%+v\n%+v\n%s", u, u2, enc)
		}
		enc2, err := json.Marshal(u2)
		if err != nil || string(enc2) != string(enc) {
			t.Fatalf("encoding is not stable:\n%s\n%s (%v)", enc, enc2, err)
		}
	})
}
