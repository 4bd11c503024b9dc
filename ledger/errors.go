package ledger

import (
	"errors"
	"fmt"
)

// Errors shared by plugins and backends. The names in comments are the Ledger
// Plugin Interface error names that cross the wire.
var (
	ErrInvalidTransfer        = &refinedError{"ledger: invalid transfer", ErrInvalidFields}                           // InvalidFieldsError
	ErrTransferNotFound       = errors.New("ledger: transfer not found")                                              // TransferNotFoundError
	ErrDuplicateID            = errors.New("ledger: transfer id already used")                                        // DuplicateIdError
	ErrAlreadyFulfilled       = errors.New("ledger: transfer already fulfilled")                                      // AlreadyFulfilledError
	ErrAlreadyRolledBack      = errors.New("ledger: transfer already rolled back")                                    // AlreadyRolledBackError
	ErrMissingFulfillment     = errors.New("ledger: transfer has no fulfillment yet")                                 // MissingFulfillmentError
	ErrTransferNotConditional = errors.New("ledger: transfer is not conditional")                                     // TransferNotConditionalError
	ErrMaximumExceeded        = &refinedError{"ledger: balance would exceed its maximum", ErrNotAccepted}             // NotAcceptedError
	ErrMinimumExceeded        = &refinedError{"ledger: balance would fall below its minimum", ErrInsufficientBalance} // InsufficientBalanceError
)

// refinedError is a more precise form of one of the LPI errors: it has its
// own message and matches both itself and the LPI sentinel with errors.Is.
type refinedError struct {
	msg string
	lpi error
}

func (e *refinedError) Error() string        { return e.msg }
func (e *refinedError) Is(target error) bool { return target == e.lpi }

// LimitError reports a balance change refused because the result would be
// outside the balance's limits. It wraps ErrMaximumExceeded or
// ErrMinimumExceeded.
type LimitError struct {
	Balance string // balance name
	Current Int128 // balance the change was checked against
	Amount  uint64 // amount of the change
	Sub     bool   // true for a subtraction
	Limit   Int128 // the limit that would be crossed
	Maximum bool   // true when Limit is the maximum
}

func (e *LimitError) Error() string {
	op, which := "+", "minimum"
	if e.Sub {
		op = "-"
	}
	if e.Maximum {
		which = "maximum"
	}
	return fmt.Sprintf("ledger: balance %q: %s %s%d would cross its %s %s", e.Balance, e.Current, op, e.Amount, which, e.Limit)
}

func (e *LimitError) Unwrap() error {
	if e.Maximum {
		return ErrMaximumExceeded
	}
	return ErrMinimumExceeded
}
