package ledger

import (
	"context"

	"github.com/ilpkit/ilpkit/ilp"
)

// Plugin is the Ledger Plugin Interface v1 (RFC 0004 as of mid-2017,
// PROTOCOLS.md section 5) in Go: one account on one ledger, through which
// its user sends and receives transfers and messages. ledger/plugintest is
// the conformance suite every Plugin passes.
//
// A package that uses plugins declares the subset it needs as its own
// interface (the connector, for instance, needs no Balance); Plugin is the
// whole contract a plugin implements.
//
// # Connection
//
// Every method that talks to the ledger fails with an error matching
// ErrNotConnected (an UnreachableError) until Connect has returned and after
// Disconnect. Info and Account are cached: before the first Connect they may
// be zero. Subscribe, RegisterRequestHandler and DeregisterRequestHandler
// work at any time.
//
// # Errors
//
// Refusals match this package's sentinels with errors.Is, and ErrorName
// gives their LPI names; a refused call changes nothing. Errors from a
// remote ledger arrive as *PluginError.
//
// # Events
//
// Subscribe registers a handler for every event of the plugin. Handlers
// are called synchronously, on the goroutine that made the change (a
// method call, an expiry timer, an incoming RPC), after the change is
// recorded, in the order of subscription. For one transfer, the events of
// one plugin come in the order of its state changes: a prepare before its
// fulfill, reject or cancel, and exactly one of those. Events of different
// transfers may come concurrently from several goroutines. A handler must
// not block: it should note what it needs and do slow work (such as
// forwarding a payment) in a goroutine of its own. A handler may call the
// plugin's methods, except Disconnect, which waits for calls in progress.
// A panic in a handler is recovered and logged; it does not undo the
// change. Once Disconnect has returned no further event is delivered until
// the next Connect, and once an unsubscribe function has returned, no
// delivery to that handler begins.
type Plugin interface {
	// Connect connects the plugin, loads what it needs (balance, ledger
	// info, prepared transfers whose expiry it must watch) and emits
	// EventConnect. Connecting a connected plugin does nothing.
	Connect(ctx context.Context) error
	// Disconnect stops the plugin: it waits for calls in progress, stops
	// expiry timers, emits EventDisconnect and delivers no more events.
	// Disconnecting a disconnected plugin does nothing.
	Disconnect(ctx context.Context) error
	IsConnected() bool

	// Info returns the ledger's description.
	Info() LedgerInfo
	// Account returns the plugin's own ILP address.
	Account() string
	// Balance returns the plugin's balance in base units.
	Balance(ctx context.Context) (Int128, error)

	// Fulfillment returns the fulfillment of an executed conditional
	// transfer, or fails with ErrTransferNotFound, ErrMissingFulfillment
	// (still prepared), ErrAlreadyRolledBack (rejected or expired) or
	// ErrTransferNotConditional.
	Fulfillment(ctx context.Context, transferID string) (ilp.Fulfillment, error)

	// SendTransfer sends a transfer to another account of the ledger. ID,
	// To and Amount are required; Ledger and From default to the plugin's
	// own. A conditional transfer (ExecutionCondition and ExpiresAt both
	// set) is prepared and emits EventOutgoingPrepare; an unconditional
	// one is executed at once and emits EventOutgoingTransfer. Sending the
	// same transfer again does nothing; another transfer with a used ID
	// fails with ErrDuplicateID. Invalid fields fail with ErrInvalidFields,
	// a transfer the ledger refuses with ErrNotAccepted or
	// ErrInsufficientBalance (a limit), an unknown destination with
	// ErrAccountNotFound or ErrInvalidFields.
	SendTransfer(ctx context.Context, t Transfer) error

	// SendRequest sends a message to another account of the ledger and
	// returns its response, which has the request's ID. To is required and
	// ILP or Custom must be set; ID, Ledger and From default (the ID to a
	// random UUID). A failing request handler on the other side yields a
	// response carrying an ILP error packet (see ErrorResponse), not an
	// error. Without a handler there the call fails with ErrNotAccepted or
	// ErrNoSubscriptions. The call gives up when ctx is done.
	SendRequest(ctx context.Context, m Message) (Message, error)

	// FulfillCondition executes an incoming prepared transfer with the
	// fulfillment of its condition. A fulfillment that does not match
	// fails with ErrNotAccepted and changes nothing; an expired or
	// rejected transfer fails with ErrAlreadyRolledBack; an unconditional
	// one with ErrTransferNotConditional; one that is not incoming with
	// ErrNotAccepted. Fulfilling again with the same fulfillment does
	// nothing.
	FulfillCondition(ctx context.Context, transferID string, f ilp.Fulfillment) error

	// RejectIncomingTransfer rejects an incoming prepared transfer, which
	// returns the amount to the sender; both sides receive reason with
	// their reject events. Empty TriggeredBy and TriggeredAt are filled in
	// with the plugin's account and the time. A fulfilled transfer fails
	// with ErrAlreadyFulfilled, an outgoing one with ErrNotAccepted.
	RejectIncomingTransfer(ctx context.Context, transferID string, reason Rejection) error

	// RegisterRequestHandler sets the function that answers incoming
	// requests. There is one handler at a time: registering a second one
	// fails with ErrRequestHandlerAlreadyRegistered.
	RegisterRequestHandler(h RequestHandler) error
	// DeregisterRequestHandler removes the request handler, if any.
	DeregisterRequestHandler()

	// Subscribe adds an event handler and returns the function that
	// removes it. See the Events section above.
	Subscribe(h EventHandler) (unsubscribe func())
}

// RequestHandler answers an incoming request message. The plugin fills in
// the response's ID, Ledger, From and To, so the handler sets only ILP
// and/or Custom. An error, or a panic, becomes an error response (see
// ErrorResponse): return an *ilp.Error to choose its ILP code. ctx is done
// when the requester gives up; the handler should return then.
type RequestHandler func(ctx context.Context, req Message) (Message, error)
