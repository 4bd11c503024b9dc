package pluginkit

import (
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// CheckIncoming refuses, with the LPI error a caller expects, a transfer
// that the receiving side may not resolve: one that is unknown (found is
// false), outgoing, or unconditional.
func CheckIncoming(rec ledger.Record, found bool, id string) error {
	switch {
	case !found:
		return ledger.Errorf(ledger.ErrTransferNotFound, "transfer %q not found", id)
	case !rec.Incoming:
		return ledger.Errorf(ledger.ErrNotAccepted, "transfer %q is outgoing: only its receiver resolves it", id)
	case !rec.Transfer.Conditional():
		return ledger.Errorf(ledger.ErrTransferNotConditional, "transfer %q is not conditional", id)
	}
	return nil
}

// CheckFulfillment decides a fulfillment for an incoming conditional
// transfer before anything is written. done is true when the transfer is
// already executed with this very fulfillment (a repeated call, nothing to
// do). It fails when the transfer was resolved otherwise or when f does not
// match the execution condition.
func CheckFulfillment(rec ledger.Record, f ilp.Fulfillment) (done bool, err error) {
	id := rec.Transfer.ID
	switch rec.State {
	case ledger.StateExecuted:
		if rec.Fulfillment == f.String() {
			return true, nil
		}
		return false, ledger.Errorf(ledger.ErrAlreadyFulfilled, "transfer %q is already fulfilled", id)
	case ledger.StateCancelled:
		return false, ledger.Errorf(ledger.ErrAlreadyRolledBack, "transfer %q was already rolled back", id)
	}
	cond, ok := ParseCondition(rec.Transfer.ExecutionCondition)
	if !ok || !ilp.Verify(f, cond) {
		return false, ledger.Errorf(ledger.ErrNotAccepted, "fulfillment does not match the condition of transfer %q", id)
	}
	return false, nil
}

// ParseCondition reads an LPI execution condition: exactly 43 unpadded
// base64url characters.
func ParseCondition(s string) (ilp.Condition, bool) {
	if len(s) != 43 {
		return ilp.Condition{}, false
	}
	c, err := ilp.ParseCondition(s)
	return c, err == nil
}
