package ilp

import (
	"errors"
	"fmt"
	"strconv"
)

// ILP addresses (RFC 0015 of 2017): segments of [A-Za-z0-9_~-] separated by
// dots, at most 1023 characters. A destination address does not end with a
// dot; a prefix (a ledger or route) does. The RFC names schemes (g., private.,
// example., peer., self., test1. to test3., local.) but ILP Kit 3 itself ran
// with scheme-less prefixes such as "us.usd.red.", so no scheme is required.
//
// The packet codecs never call these: ilp-packet 1.3.0 did not check
// addresses, and a packet carries whatever bytes its sender put there.

// MaxAddressLen is the longest ILP address or prefix RFC 0015 allows.
const MaxAddressLen = 1023

// ErrInvalidAddress is wrapped by the errors of ValidateAddress and
// ValidatePrefix.
var ErrInvalidAddress = errors.New("invalid ILP address")

// ValidateAddress checks that s is an ILP destination address: one or more
// segments separated by dots, not ending with a dot.
func ValidateAddress(s string) error {
	if err := checkSegments(s); err != nil {
		return err
	}
	if s[len(s)-1] == '.' {
		return fmt.Errorf("%w %s: ends with '.' (that is a prefix)", ErrInvalidAddress, quoteAddr(s))
	}
	return nil
}

// ValidatePrefix checks that s is an ILP prefix: one or more segments each
// followed by a dot, such as "g.us.nexus." or "us.usd.red.".
func ValidatePrefix(s string) error {
	if err := checkSegments(s); err != nil {
		return err
	}
	if s[len(s)-1] != '.' {
		return fmt.Errorf("%w %s: a prefix ends with '.'", ErrInvalidAddress, quoteAddr(s))
	}
	return nil
}

// checkSegments checks length and characters, and that no segment is empty
// (a final empty segment after a trailing dot is left to the caller).
func checkSegments(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrInvalidAddress)
	case len(s) > MaxAddressLen:
		return fmt.Errorf("%w: %d characters, at most %d", ErrInvalidAddress, len(s), MaxAddressLen)
	}
	segStart := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if i == segStart {
				return fmt.Errorf("%w %s: empty segment at offset %d", ErrInvalidAddress, quoteAddr(s), i)
			}
			segStart = i + 1
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '~', c == '-':
		default:
			return fmt.Errorf("%w %s: character %s at offset %d", ErrInvalidAddress, quoteAddr(s),
				strconv.QuoteRune(rune(c)), i)
		}
	}
	return nil
}

// quoteAddr quotes at most 64 bytes of s for an error message.
func quoteAddr(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}
