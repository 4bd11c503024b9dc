package ledger

import (
	"errors"
	"fmt"
	"testing"
)

// TestRefinedErrorsMatchLPINames checks that the backend's precise errors
// also match the LPI sentinels that name them on the wire.
func TestRefinedErrorsMatchLPINames(t *testing.T) {
	cases := []struct{ err, lpi error }{
		{ErrInvalidTransfer, ErrInvalidFields},
		{ErrMaximumExceeded, ErrNotAccepted},
		{ErrMinimumExceeded, ErrInsufficientBalance},
		{&LimitError{Maximum: true}, ErrNotAccepted},
		{&LimitError{}, ErrInsufficientBalance},
	}
	for _, c := range cases {
		wrapped := fmt.Errorf("context: %w", c.err)
		if !errors.Is(wrapped, c.lpi) {
			t.Errorf("%v does not match %v", c.err, c.lpi)
		}
		if errors.Is(c.lpi, c.err) {
			t.Errorf("%v matches the more precise %v", c.lpi, c.err)
		}
		if got, want := ErrorName(wrapped), ErrorName(c.lpi); got != want {
			t.Errorf("ErrorName(%v) = %q, want %q", c.err, got, want)
		}
	}
	if errors.Is(ErrMaximumExceeded, ErrInsufficientBalance) {
		t.Error("maximum exceeded matches insufficient balance")
	}
}
