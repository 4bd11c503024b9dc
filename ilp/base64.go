package ilp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// JSON carries packets, conditions and fulfillments as base64 text, and 2017
// producers differed: the ilp client and plugin-virtual wrote unpadded
// base64url, ilp-connector wrote standard padded base64. Node.js decoded
// either, so DecodeBase64 does too; what this kit writes is unpadded
// base64url (ilp@11's receiver refused anything else in transfer.ilp).

// ErrInvalidBase64 is wrapped by the errors of DecodeBase64.
var ErrInvalidBase64 = errors.New("invalid base64")

// DecodeBase64 decodes standard or URL-safe base64, with or without '='
// padding; the two alphabets may even be mixed, as Node.js allowed. Padding,
// when present, must be complete. Unused low bits of the last character are
// ignored, as Node.js ignored them. Line breaks and other characters are
// refused.
func DecodeBase64(s string) ([]byte, error) {
	body := strings.TrimRight(s, "=")
	if pad := len(s) - len(body); pad > 0 && (pad > 2 || len(s)%4 != 0) {
		return nil, fmt.Errorf("%w: bad '=' padding at offset %d", ErrInvalidBase64, len(body))
	}
	if i := strings.IndexAny(body, "\r\n="); i >= 0 {
		return nil, fmt.Errorf("%w: illegal character %q at offset %d", ErrInvalidBase64, body[i], i)
	}
	if len(body)%4 == 1 {
		return nil, fmt.Errorf("%w: %d characters cannot end a quantum", ErrInvalidBase64, len(body))
	}
	url := strings.ContainsAny(body, "-_")
	if url && strings.ContainsAny(body, "+/") {
		body = strings.NewReplacer("-", "+", "_", "/").Replace(body)
		url = false
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(body)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%w: illegal character at offset %d", ErrInvalidBase64, int64(ce))
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidBase64, err)
	}
	return b, nil
}

// EncodeBase64URL encodes b as unpadded base64url, the form 2017 peers
// accepted everywhere (transfer.ilp, conditions, fulfillments).
func EncodeBase64URL(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}
