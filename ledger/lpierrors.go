package ledger

import (
	"errors"
	"fmt"

	"github.com/ilpkit/ilpkit/ilp"
)

// Error names of the Ledger Plugin Interface v1: the JavaScript Error.name
// a 2017 plugin threw, and what ilp-plugin-virtual's RPC sent as the id of an
// {id, message} error body.
const (
	NameInvalidFields                   = "InvalidFieldsError"
	NameUnreachable                     = "UnreachableError"
	NameTransferNotFound                = "TransferNotFoundError"
	NameMissingFulfillment              = "MissingFulfillmentError"
	NameDuplicateID                     = "DuplicateIdError"
	NameAlreadyRolledBack               = "AlreadyRolledBackError"
	NameAlreadyFulfilled                = "AlreadyFulfilledError"
	NameTransferNotConditional          = "TransferNotConditionalError"
	NameNotAccepted                     = "NotAcceptedError"
	NameNoSubscriptions                 = "NoSubscriptionsError"
	NameRequestHandlerAlreadyRegistered = "RequestHandlerAlreadyRegisteredError"
	NameInsufficientBalance             = "InsufficientBalanceError"
	NameAccountNotFound                 = "AccountNotFoundError"
	NameMaximumILPDataSizeExceeded      = "MaximumIlpDataSizeExceededError"
	NameMaximumCustomDataSizeExceeded   = "MaximumCustomDataSizeExceededError"
	NameHoldsNotSupported               = "HoldsNotSupportedError"
	NameExpiryNotSupported              = "ExpiryNotSupportedError"
	// NameGeneric is the name of any other error, as JavaScript's plain
	// Error was called.
	NameGeneric = "Error"
)

// Errors of the Ledger Plugin Interface that the backend errors (errors.go)
// do not already cover. Each has one LPI name; ErrorName finds it. Some names
// have two sentinels: InvalidFieldsError is ErrInvalidFields or (for a
// transfer record) ErrInvalidTransfer, NotAcceptedError is ErrNotAccepted or
// (for a limit) ErrMaximumExceeded, InsufficientBalanceError is
// ErrInsufficientBalance or ErrMinimumExceeded. Compare errors across plugins
// with ErrorName, which treats each pair alike.
var (
	ErrInvalidFields                   = errors.New("ledger: invalid fields")                     // InvalidFieldsError
	ErrUnreachable                     = errors.New("ledger: unreachable")                        // UnreachableError
	ErrNotAccepted                     = errors.New("ledger: not accepted")                       // NotAcceptedError
	ErrNoSubscriptions                 = errors.New("ledger: no subscriptions")                   // NoSubscriptionsError
	ErrRequestHandlerAlreadyRegistered = errors.New("ledger: request handler already registered") // RequestHandlerAlreadyRegisteredError
	ErrInsufficientBalance             = errors.New("ledger: insufficient balance")               // InsufficientBalanceError
	ErrAccountNotFound                 = errors.New("ledger: account not found")                  // AccountNotFoundError
	ErrMaximumILPDataSizeExceeded      = errors.New("ledger: ilp data too large")                 // MaximumIlpDataSizeExceededError
	ErrMaximumCustomDataSizeExceeded   = errors.New("ledger: custom data too large")              // MaximumCustomDataSizeExceededError
	ErrHoldsNotSupported               = errors.New("ledger: holds not supported")                // HoldsNotSupportedError
	ErrExpiryNotSupported              = errors.New("ledger: expiry not supported")               // ExpiryNotSupportedError

	// ErrNotConnected is returned by a plugin method called while the plugin
	// is not connected, and by a plugin whose peer is not connected. It is
	// an ErrUnreachable (errors.Is holds), so it crosses the wire as
	// UnreachableError.
	ErrNotConnected error = &subError{msg: "ledger: plugin not connected", parent: ErrUnreachable}
)

// subError is a sentinel that is also another sentinel.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// ErrorName returns the LPI name of err: the Name of a *PluginError in its
// chain, else the name of the first sentinel of this package (or
// ilp.ErrInvalidCondition, an InvalidFieldsError) that errors.Is finds, else
// NameGeneric. It returns "" for nil.
func ErrorName(err error) string {
	if err == nil {
		return ""
	}
	var pe *PluginError
	if errors.As(err, &pe) && pe.Name != "" {
		return pe.Name
	}
	switch {
	case errors.Is(err, ErrInvalidFields), errors.Is(err, ErrInvalidTransfer), errors.Is(err, ilp.ErrInvalidCondition):
		return NameInvalidFields
	case errors.Is(err, ErrUnreachable):
		return NameUnreachable
	case errors.Is(err, ErrTransferNotFound):
		return NameTransferNotFound
	case errors.Is(err, ErrMissingFulfillment):
		return NameMissingFulfillment
	case errors.Is(err, ErrDuplicateID):
		return NameDuplicateID
	case errors.Is(err, ErrAlreadyRolledBack):
		return NameAlreadyRolledBack
	case errors.Is(err, ErrAlreadyFulfilled):
		return NameAlreadyFulfilled
	case errors.Is(err, ErrTransferNotConditional):
		return NameTransferNotConditional
	case errors.Is(err, ErrNotAccepted), errors.Is(err, ErrMaximumExceeded), errors.Is(err, ErrOverflow):
		return NameNotAccepted
	case errors.Is(err, ErrNoSubscriptions):
		return NameNoSubscriptions
	case errors.Is(err, ErrRequestHandlerAlreadyRegistered):
		return NameRequestHandlerAlreadyRegistered
	case errors.Is(err, ErrInsufficientBalance), errors.Is(err, ErrMinimumExceeded):
		return NameInsufficientBalance
	case errors.Is(err, ErrAccountNotFound):
		return NameAccountNotFound
	case errors.Is(err, ErrMaximumILPDataSizeExceeded):
		return NameMaximumILPDataSizeExceeded
	case errors.Is(err, ErrMaximumCustomDataSizeExceeded):
		return NameMaximumCustomDataSizeExceeded
	case errors.Is(err, ErrHoldsNotSupported):
		return NameHoldsNotSupported
	case errors.Is(err, ErrExpiryNotSupported):
		return NameExpiryNotSupported
	}
	return NameGeneric
}

// ErrorForName returns the sentinel of an LPI error name, or nil for a name
// this package does not know (NameGeneric included). Two names that 2017
// plugins used before the RFC settled are read as their successors:
// AlreadyRejectedError (ilp-plugin-virtual) as AlreadyRolledBackError and
// RepeatError as DuplicateIdError.
func ErrorForName(name string) error {
	switch name {
	case NameInvalidFields:
		return ErrInvalidFields
	case NameUnreachable:
		return ErrUnreachable
	case NameTransferNotFound:
		return ErrTransferNotFound
	case NameMissingFulfillment:
		return ErrMissingFulfillment
	case NameDuplicateID, "RepeatError":
		return ErrDuplicateID
	case NameAlreadyRolledBack, "AlreadyRejectedError":
		return ErrAlreadyRolledBack
	case NameAlreadyFulfilled:
		return ErrAlreadyFulfilled
	case NameTransferNotConditional:
		return ErrTransferNotConditional
	case NameNotAccepted:
		return ErrNotAccepted
	case NameNoSubscriptions:
		return ErrNoSubscriptions
	case NameRequestHandlerAlreadyRegistered:
		return ErrRequestHandlerAlreadyRegistered
	case NameInsufficientBalance:
		return ErrInsufficientBalance
	case NameAccountNotFound:
		return ErrAccountNotFound
	case NameMaximumILPDataSizeExceeded:
		return ErrMaximumILPDataSizeExceeded
	case NameMaximumCustomDataSizeExceeded:
		return ErrMaximumCustomDataSizeExceeded
	case NameHoldsNotSupported:
		return ErrHoldsNotSupported
	case NameExpiryNotSupported:
		return ErrExpiryNotSupported
	}
	return nil
}

// describe is the fixed public text of each name, sent when an error carries
// no message meant for the peer.
func describe(name string) string {
	switch name {
	case NameInvalidFields:
		return "invalid fields"
	case NameUnreachable:
		return "unreachable"
	case NameTransferNotFound:
		return "transfer not found"
	case NameMissingFulfillment:
		return "transfer has no fulfillment"
	case NameDuplicateID:
		return "transfer id already used with different fields"
	case NameAlreadyRolledBack:
		return "transfer already rolled back"
	case NameAlreadyFulfilled:
		return "transfer already fulfilled"
	case NameTransferNotConditional:
		return "transfer is not conditional"
	case NameNotAccepted:
		return "not accepted"
	case NameNoSubscriptions:
		return "no subscriptions"
	case NameRequestHandlerAlreadyRegistered:
		return "request handler already registered"
	case NameInsufficientBalance:
		return "insufficient balance"
	case NameAccountNotFound:
		return "account not found"
	case NameMaximumILPDataSizeExceeded:
		return "ilp data too large"
	case NameMaximumCustomDataSizeExceeded:
		return "custom data too large"
	case NameHoldsNotSupported:
		return "holds not supported"
	case NameExpiryNotSupported:
		return "expiry not supported"
	}
	return "internal error"
}

// PluginError is an LPI error with a message meant for the peer: what a
// plugin's refusal says on the wire ({id: Name, message: Message}), or what
// a peer's error body said. Err is the sentinel of Name (nil when the name is
// unknown), so errors.Is works on errors that crossed the wire.
type PluginError struct {
	Err     error
	Name    string
	Message string
}

// NewError returns a *PluginError of the kind of sentinel (one of this
// package's errors) with a message that may be sent to a peer: it must not
// hold internal details.
func NewError(sentinel error, message string) *PluginError {
	return &PluginError{Err: sentinel, Name: ErrorName(sentinel), Message: message}
}

// Errorf is NewError with a formatted message.
func Errorf(sentinel error, format string, args ...any) error {
	return NewError(sentinel, fmt.Sprintf(format, args...))
}

// ErrorFromWire returns the error a peer reported as {id: name, message}.
func ErrorFromWire(name, message string) *PluginError {
	return &PluginError{Err: ErrorForName(name), Name: name, Message: message}
}

func (e *PluginError) Error() string {
	if e.Message == "" {
		return "ledger: " + e.Name
	}
	return "ledger: " + e.Name + ": " + e.Message
}

func (e *PluginError) Unwrap() error { return e.Err }

// WireError returns what a plugin sends a peer for err: its LPI name and a
// message. The message of a *PluginError in the chain is sent as it is;
// for any other error it is a fixed text for the name, so that internal
// details (store errors, balances, paths) stay in the logs.
func WireError(err error) (name, message string) {
	var pe *PluginError
	if errors.As(err, &pe) && pe.Name != "" {
		return pe.Name, pe.Message
	}
	name = ErrorName(err)
	return name, describe(name)
}
