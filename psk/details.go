package psk

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/ilpkit/ilpkit/ilp"
)

// Details are the parsed PSK details of a payment.
type Details struct {
	// PublicHeaders are the headers in clear, Nonce and Encryption among
	// them, with lower-case names.
	PublicHeaders Headers
	// Headers are the private headers, with lower-case names.
	Headers Headers
	// Data is the application data after the private headers.
	Data []byte
}

// Encrypted reports whether the details name aes-256-gcm encryption, the
// test ilp@11 made: the first Encryption value starts with "aes-256-gcm".
func (d Details) Encrypted() bool {
	return strings.HasPrefix(d.PublicHeaders.Get("encryption"), encryptionAlgorithm)
}

const (
	statusLine          = "PSK/1.0"
	encryptionAlgorithm = "aes-256-gcm"
	encryptionNone      = "none"
	blankLine           = "\n\n"
)

// Errors of ParseDetails. The first four are the cases ilp@11 told apart in
// its rejection message; every other failure wraps ErrInvalidDetails.
var (
	ErrUnsupportedStatus     = errors.New("psk: unsupported status")
	ErrUnsupportedKey        = errors.New("psk: unsupported key")
	ErrMissingNonce          = errors.New("psk: missing nonce")
	ErrUnsupportedEncryption = errors.New("psk: unsupported encryption")
	ErrInvalidDetails        = errors.New("psk: invalid details")
)

// validStatus is the test ^PSK/1\.\d+$ of ilp@11.
func validStatus(s string) bool {
	digits, ok := strings.CutPrefix(s, "PSK/1.")
	if !ok || digits == "" {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// hasTag is ilp@11's tag test, /[A-Za-z0-9_-]{22}/: not anchored, so a run
// of 22 base64url characters anywhere in the word will do.
func hasTag(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' {
			if run++; run == 22 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// split cuts a request at its first blank line into the header text and the
// rest.
func split(b []byte) (head string, rest []byte, ok bool) {
	i := bytes.Index(b, []byte(blankLine))
	if i < 0 {
		return "", nil, false
	}
	return lossyUTF8(b[:i]), b[i+len(blankLine):], true
}

// ParseDetails reads the PSK details carried as the data of an IlpPayment,
// decrypting the private part with the shared secret when the details are
// encrypted (sharedSecret may be nil for details sent with Encryption: none).
// It applies ilp@11's checks in its order; see the package documentation.
func ParseDetails(data, sharedSecret []byte) (Details, error) {
	return parseDetails(data, sharedSecret, nil)
}

// parseDetails is ParseDetails with the keys of sharedSecret, when k is not
// nil, or else derived from it when the details are encrypted.
func parseDetails(data, sharedSecret []byte, k *Keys) (Details, error) {
	head, body, ok := split(data)
	if !ok {
		return Details{}, fmt.Errorf("%w: no blank line after the public headers", ErrInvalidDetails)
	}
	status, block, _ := strings.Cut(head, "\n")
	if !validStatus(status) {
		return Details{}, fmt.Errorf("%w: %q", ErrUnsupportedStatus, status)
	}
	public := parseBlock(block)

	if keys := public.Values("key"); len(keys) > 1 || len(keys) == 1 && keys[0] != "" {
		return Details{}, ErrUnsupportedKey
	}
	nonces := public.Values("nonce")
	if len(nonces) == 0 || len(nonces) == 1 && nonces[0] == "" {
		return Details{}, ErrMissingNonce
	}
	encs := public.Values("encryption")
	// 2017 saw a repeated header as an array and tested its text, the values
	// joined by commas.
	enc := strings.Join(encs, ",")
	encrypted := strings.HasPrefix(enc, encryptionAlgorithm)
	if !encrypted && (len(encs) != 1 || enc != encryptionNone) {
		return Details{}, fmt.Errorf("%w: %q", ErrUnsupportedEncryption, enc)
	}

	private := body
	if encrypted {
		if len(encs) > 1 {
			return Details{}, fmt.Errorf("%w: repeated Encryption header", ErrInvalidDetails)
		}
		words := strings.Split(enc, " ")
		if len(words) < 2 || !hasTag(words[1]) {
			return Details{}, fmt.Errorf("%w: no tag in %q", ErrUnsupportedEncryption, enc)
		}
		if k == nil && len(sharedSecret) == 0 {
			return Details{}, fmt.Errorf("%w: encrypted, but no shared secret", ErrInvalidDetails)
		}
		if len(nonces) > 1 {
			return Details{}, fmt.Errorf("%w: repeated Nonce header", ErrInvalidDetails)
		}
		var err error
		if k == nil {
			if k, err = NewKeys(sharedSecret); err != nil {
				return Details{}, fmt.Errorf("%w: decrypting: %w", ErrInvalidDetails, err)
			}
		}
		private, err = open(k, ilp.DecodeBase64Node(nonces[0]), ilp.DecodeBase64Node(words[1]), body)
		if err != nil {
			return Details{}, fmt.Errorf("%w: decrypting: %w", ErrInvalidDetails, err)
		}
	}

	privHead, appData, ok := split(private)
	if !ok {
		return Details{}, fmt.Errorf("%w: no blank line after the private headers", ErrInvalidDetails)
	}
	return Details{
		PublicHeaders: public,
		Headers:       parseBlock(privHead),
		Data:          bytes.Clone(appData),
	}, nil
}

// Format writes d back in the PSK format: the status line PSK/1.0, the
// public headers in order, and the private part. When d is Encrypted the
// private part is encrypted again under sharedSecret, with the IV the first
// Nonce header gives, and the tag in the first Encryption header is replaced
// by the new one. Format refuses details without public headers (there would
// be no blank line where a reader expects it) and headers that cannot be
// written (see ErrBadHeader). Parsing what Format wrote gives d again, up to
// that tag.
func (d Details) Format(sharedSecret []byte) ([]byte, error) {
	if len(d.PublicHeaders) == 0 {
		return nil, fmt.Errorf("%w: no public headers", ErrInvalidDetails)
	}
	if err := d.PublicHeaders.validate(); err != nil {
		return nil, err
	}
	if err := d.Headers.validate(); err != nil {
		return nil, err
	}
	var nonce []byte
	var k *Keys
	if d.Encrypted() {
		if len(sharedSecret) == 0 {
			return nil, ErrNoSecret
		}
		if nonce = ilp.DecodeBase64Node(d.PublicHeaders.Get("nonce")); len(nonce) == 0 {
			return nil, fmt.Errorf("%w: Nonce gives no IV", ErrInvalidDetails)
		}
		var err error
		if k, err = NewKeys(sharedSecret); err != nil {
			return nil, err
		}
	}
	return appendDetails(nil, k, nonce, d.PublicHeaders, d.Headers, d.Data)
}

// appendDetails writes details whose public headers are complete except for
// the tag. With a nonce the private part is encrypted under k and the first
// Encryption header gets the tag; without one it goes in clear.
func appendDetails(b []byte, k *Keys, nonce []byte, public, private Headers, data []byte) ([]byte, error) {
	plain := make([]byte, 0, private.size()+len(blankLine)+len(data))
	plain = append(private.appendBlock(plain), data...)
	body := plain
	if nonce != nil {
		ct, tag, err := seal(k, nonce, plain)
		if err != nil {
			return nil, fmt.Errorf("psk: encrypting: %w", err)
		}
		body = ct
		tagged := make(Headers, len(public))
		copy(tagged, public)
		for i := range tagged {
			if strings.EqualFold(tagged[i].Name, "encryption") {
				tagged[i].Value = encryptionAlgorithm + " " + ilp.EncodeBase64URL(tag)
				break
			}
		}
		public = tagged
	}
	if b == nil {
		b = make([]byte, 0, len(statusLine)+1+public.size()+len(blankLine)+len(body))
	}
	b = append(b, statusLine...)
	b = append(b, '\n')
	b = public.appendBlock(b)
	return append(b, body...), nil
}
