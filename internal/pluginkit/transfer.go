package pluginkit

import (
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// MaxIDLen bounds transfer and message ids: far above the 36 characters of
// a UUID, low enough that a peer cannot make the plugin store large keys.
const MaxIDLen = 256

// CheckTransfer validates a transfer on the ledger prefix from account from
// to account to, and fills in its defaults (ledger, from) in place. Every
// refusal is an ErrInvalidFields, or ErrAccountNotFound for a well-formed
// address on the ledger that is not the expected receiver. The expiry is cut
// to whole milliseconds, which is what the 2017 wire and the 2.x store keep.
func CheckTransfer(t *ledger.Transfer, prefix, from, to string) error {
	switch {
	case t.ID == "":
		return ledger.NewError(ledger.ErrInvalidFields, "transfer has no id")
	case len(t.ID) > MaxIDLen:
		return ledger.Errorf(ledger.ErrInvalidFields, "transfer id is longer than %d bytes", MaxIDLen)
	}
	if t.Ledger == "" {
		t.Ledger = prefix
	} else if t.Ledger != prefix {
		return ledger.Errorf(ledger.ErrInvalidFields, "ledger %q is not %q", t.Ledger, prefix)
	}
	if t.From == "" {
		t.From = from
	} else if t.From != from {
		return ledger.Errorf(ledger.ErrInvalidFields, "from %q is not the sending account", t.From)
	}
	if t.To != to {
		if len(t.To) > len(prefix) && t.To[:len(prefix)] == prefix && ilp.ValidateAddress(t.To) == nil {
			return ledger.Errorf(ledger.ErrAccountNotFound, "no account %q on ledger %q", t.To, prefix)
		}
		return ledger.Errorf(ledger.ErrInvalidFields, "to %q is not the receiving account", t.To)
	}
	if t.ExecutionCondition != "" {
		if _, ok := ParseCondition(t.ExecutionCondition); !ok {
			return ledger.NewError(ledger.ErrInvalidFields, "executionCondition is not 32 bytes of base64url")
		}
		if t.ExpiresAt.IsZero() {
			return ledger.NewError(ledger.ErrInvalidFields, "a conditional transfer needs expiresAt")
		}
	} else if !t.ExpiresAt.IsZero() {
		return ledger.NewError(ledger.ErrInvalidFields, "expiresAt without executionCondition")
	}
	if len(t.Custom) > 0 && !ledger.IsJSONObject(t.Custom) {
		return ledger.NewError(ledger.ErrInvalidFields, "custom is not a JSON object")
	}
	if len(t.NoteToSelf) > 0 && !ledger.IsJSONObject(t.NoteToSelf) {
		return ledger.NewError(ledger.ErrInvalidFields, "noteToSelf is not a JSON object")
	}
	t.ExpiresAt = t.ExpiresAt.Truncate(time.Millisecond)
	return nil
}
