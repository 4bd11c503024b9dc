package ilp

// DecodeBase64Node and its helpers read base64 text exactly as far as Node.js's
// Buffer.from(s, "base64") read it in 2017 (Node 6 and 8), for the places
// where a 2017 peer decoded a value that way and the Go side must derive the
// same bytes: the ilp-plugin-virtual peering secret and public keys, and the
// token and nonce of a PSK address and header.
//
// Node's decoder never fails. It reads the standard and the URL-safe
// alphabets alike (even mixed), skips every character that is in neither,
// stops at the first '=', and drops the bits of an incomplete last byte.
// DecodeBase64Node does the same for ASCII input. A string holding characters above
// U+00FF was seen by Node as 16-bit code units cut to their low byte, so a
// rare non-ASCII character could act as a base64 letter there; it skips
// every non-ASCII byte instead. No 2017 package wrote such text.

// nodeSextet returns the 6-bit value of c in either alphabet, and false for a
// character Node skips. '=' is handled by the caller.
func nodeSextet(c byte) (byte, bool) {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A', true
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26, true
	case '0' <= c && c <= '9':
		return c - '0' + 52, true
	case c == '+' || c == '-':
		return 62, true
	case c == '/' || c == '_':
		return 63, true
	}
	return 0, false
}

// DecodeBase64Node returns the bytes Buffer.from(s, "base64") gave for s. Every input
// decodes, possibly to no bytes at all.
func DecodeBase64Node(s string) []byte {
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32 // pending bits, right-aligned
	var bits uint
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		v, ok := nodeSextet(c)
		if !ok {
			continue
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	return out
}
