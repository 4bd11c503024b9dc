package ledger

import (
	"errors"
	"fmt"
)

// Errors shared by plugins and backends. The names in comments are the Ledger
// Plugin Interface error names that cross the wire.
var (
	ErrInvalidTransfer        = errors.New("ledger: invalid transfer")                     // InvalidFieldsError
	ErrTransferNotFound       = errors.New("ledger: transfer not found")                   // TransferNotFoundError
	ErrDuplicateID            = errors.New("ledger: transfer id already used")             // DuplicateIdError
	ErrAlreadyFulfilled       = errors.New("ledger: transfer already fulfilled")           // AlreadyFulfilledError
	ErrAlreadyRolledBack      = errors.New("ledger: transfer already rolled back")         // AlreadyRolledBackError
	ErrMissingFulfillment     = errors.New("ledger: transfer has no fulfillment yet")      // MissingFulfillmentError
	ErrTransferNotConditional = errors.New("ledger: transfer is not conditional")          // TransferNotConditionalError
	ErrMaximumExceeded        = errors.New("ledger: balance would exceed its maximum")     // NotAcceptedError
	ErrMinimumExceeded        = errors.New("ledger: balance would fall below its minimum") // InsufficientBalanceError
)

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
