package ledger

import (
	"fmt"
	"strings"
)

// The functions in this file decide the transfer log's state machine once,
// so that every backend gives the same answer to the same call. A backend
// reads the stored record (under whatever lock or transaction makes the
// operation atomic), asks the Decide function what to do, and when it says
// write, stores the returned record together with the results of
// ApplyChanges.

// CheckNew validates a record given to TransferLog.Create and returns it
// with its state filled in: a conditional transfer starts prepared, an
// unconditional one is executed at once. It needs an id, and a prepared
// record has no fulfillment. Errors wrap ErrInvalidTransfer.
func CheckNew(rec Record) (Record, error) {
	if rec.Transfer.ID == "" {
		return Record{}, fmt.Errorf("%w: transfer has no id", ErrInvalidTransfer)
	}
	want := StateExecuted
	if rec.Transfer.Conditional() {
		want = StatePrepared
	}
	if rec.State == "" {
		rec.State = want
	}
	if rec.State != want {
		return Record{}, fmt.Errorf("%w: transfer %q with condition %q cannot start %s", ErrInvalidTransfer, rec.Transfer.ID, rec.Transfer.ExecutionCondition, rec.State)
	}
	if rec.State == StatePrepared && rec.Fulfillment != "" {
		return Record{}, fmt.Errorf("%w: prepared transfer %q has a fulfillment", ErrInvalidTransfer, rec.Transfer.ID)
	}
	return rec, nil
}

// CheckFulfillment refuses an empty fulfillment (ErrInvalidTransfer). It
// does not check the fulfillment against the condition: that is the
// plugin's job, before it calls Fulfill.
func CheckFulfillment(id, fulfillment string) error {
	if strings.TrimSpace(fulfillment) == "" {
		return fmt.Errorf("%w: transfer %q: empty fulfillment", ErrInvalidTransfer, id)
	}
	return nil
}

// Same reports whether r and s record the same transfer in the same
// direction: what a repeated Create must match to be a no-op.
func (r Record) Same(s Record) bool {
	return r.Incoming == s.Incoming && r.Transfer.SameAs(s.Transfer)
}

// DecideCreate decides TransferLog.Create of rec (already passed through
// CheckNew) given the stored record, if found. It returns the record after
// the call and whether it must be written (with the changes applied).
func DecideCreate(stored Record, found bool, rec Record) (Record, bool, error) {
	if !found {
		return rec, true, nil
	}
	if stored.Same(rec) {
		return stored, false, nil
	}
	return Record{}, false, fmt.Errorf("transfer %q: %w", rec.Transfer.ID, ErrDuplicateID)
}

// DecideFulfill decides TransferLog.Fulfill. A prepared conditional
// transfer becomes executed; the same fulfillment again is a no-op; a
// different one fails with ErrAlreadyFulfilled; a cancelled transfer fails
// with ErrAlreadyRolledBack; an unconditional one with
// ErrTransferNotConditional.
func DecideFulfill(stored Record, found bool, id, fulfillment string) (Record, bool, error) {
	if !found {
		return Record{}, false, fmt.Errorf("transfer %q: %w", id, ErrTransferNotFound)
	}
	if !stored.Transfer.Conditional() {
		return Record{}, false, fmt.Errorf("transfer %q: %w", id, ErrTransferNotConditional)
	}
	switch stored.State {
	case StateExecuted:
		if stored.Fulfillment == fulfillment {
			return stored, false, nil
		}
		return Record{}, false, fmt.Errorf("transfer %q: %w", id, ErrAlreadyFulfilled)
	case StateCancelled:
		return Record{}, false, fmt.Errorf("transfer %q: %w", id, ErrAlreadyRolledBack)
	}
	next := stored
	next.State = StateExecuted
	next.Fulfillment = fulfillment
	return next, true, nil
}

// DecideCancel decides TransferLog.Cancel. A prepared transfer becomes
// cancelled; cancelling again is a no-op; an executed transfer (fulfilled,
// or unconditional) fails with ErrAlreadyFulfilled.
func DecideCancel(stored Record, found bool, id string) (Record, bool, error) {
	if !found {
		return Record{}, false, fmt.Errorf("transfer %q: %w", id, ErrTransferNotFound)
	}
	switch stored.State {
	case StateExecuted:
		return Record{}, false, fmt.Errorf("transfer %q: %w", id, ErrAlreadyFulfilled)
	case StateCancelled:
		return stored, false, nil
	}
	next := stored
	next.State = StateCancelled
	return next, true, nil
}

// FulfillmentOf answers TransferLog.GetFulfillment for a stored record.
func FulfillmentOf(r Record) (string, error) {
	id := r.Transfer.ID
	if !r.Transfer.Conditional() {
		return "", fmt.Errorf("transfer %q: %w", id, ErrTransferNotConditional)
	}
	switch r.State {
	case StateExecuted:
		if r.Fulfillment == "" {
			// Written by a 2.x plugin that did not keep it.
			return "", fmt.Errorf("transfer %q: %w", id, ErrMissingFulfillment)
		}
		return r.Fulfillment, nil
	case StateCancelled:
		return "", fmt.Errorf("transfer %q: %w", id, ErrAlreadyRolledBack)
	}
	return "", fmt.Errorf("transfer %q: %w", id, ErrMissingFulfillment)
}

// ApplyChanges computes, in order, what changes do to the balances that
// current reads (it is called once per distinct balance name, before any
// change to it). Several changes to one balance are chained. It returns the
// balance after each change and the final value of each balance touched; on
// the first refusal (a *LimitError or ErrOverflow) it returns that error and
// the caller must write nothing.
func ApplyChanges(changes []Change, current func(name string) (Int128, error)) ([]Int128, map[string]Int128, error) {
	if len(changes) == 0 {
		return nil, nil, nil
	}
	after := make([]Int128, len(changes))
	final := make(map[string]Int128, len(changes))
	for i, c := range changes {
		v, ok := final[c.Balance]
		if !ok {
			var err error
			if v, err = current(c.Balance); err != nil {
				return nil, nil, err
			}
		}
		next, err := c.Apply(v)
		if err != nil {
			return nil, nil, err
		}
		final[c.Balance] = next
		after[i] = next
	}
	return after, final, nil
}
