package ledger

import (
	"strconv"

	"github.com/ilpkit/ilpkit/ilp"
)

// EventKind is the kind of a plugin event. String gives the 2017 event
// name.
type EventKind uint8

// Event kinds. Incoming events are about transfers the peer sent this
// plugin's account; outgoing events about transfers the account sent.
// *Transfer kinds are unconditional transfers (executed at once), *Prepare
// kinds conditional ones held until fulfilled, rejected or cancelled.
// Incoming fulfill and reject mean this plugin's user fulfilled or rejected
// the transfer; outgoing fulfill and reject that the receiver did. Cancel
// means the ledger expired the transfer.
const (
	EventConnect EventKind = iota + 1
	EventDisconnect
	EventInfoChange
	EventIncomingTransfer
	EventIncomingPrepare
	EventIncomingFulfill
	EventIncomingReject
	EventIncomingCancel
	EventOutgoingTransfer
	EventOutgoingPrepare
	EventOutgoingFulfill
	EventOutgoingReject
	EventOutgoingCancel
)

// String returns the 2017 event name, such as "incoming_prepare".
func (k EventKind) String() string {
	switch k {
	case EventConnect:
		return "connect"
	case EventDisconnect:
		return "disconnect"
	case EventInfoChange:
		return "info_change"
	case EventIncomingTransfer:
		return "incoming_transfer"
	case EventIncomingPrepare:
		return "incoming_prepare"
	case EventIncomingFulfill:
		return "incoming_fulfill"
	case EventIncomingReject:
		return "incoming_reject"
	case EventIncomingCancel:
		return "incoming_cancel"
	case EventOutgoingTransfer:
		return "outgoing_transfer"
	case EventOutgoingPrepare:
		return "outgoing_prepare"
	case EventOutgoingFulfill:
		return "outgoing_fulfill"
	case EventOutgoingReject:
		return "outgoing_reject"
	case EventOutgoingCancel:
		return "outgoing_cancel"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// ParseEventKind reads a 2017 event name.
func ParseEventKind(s string) (EventKind, bool) {
	for k := EventConnect; k <= EventOutgoingCancel; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Incoming reports whether k is about an incoming transfer.
func (k EventKind) Incoming() bool { return k >= EventIncomingTransfer && k <= EventIncomingCancel }

// Outgoing reports whether k is about an outgoing transfer.
func (k EventKind) Outgoing() bool { return k >= EventOutgoingTransfer && k <= EventOutgoingCancel }

// Final reports whether k ends a transfer: an unconditional transfer, or a
// fulfill, reject or cancel.
func (k EventKind) Final() bool {
	switch k {
	case EventIncomingTransfer, EventIncomingFulfill, EventIncomingReject, EventIncomingCancel,
		EventOutgoingTransfer, EventOutgoingFulfill, EventOutgoingReject, EventOutgoingCancel:
		return true
	}
	return false
}

// Event is one plugin event. Transfer is set for transfer events (an
// outgoing one carries the sender's NoteToSelf, an incoming one never
// does), Fulfillment for fulfill events, Rejection for reject events (the
// receiver's reason) and cancel events (made by the plugin: R00 Transfer
// Timed Out, triggered by the ledger prefix), Info for connect and
// info_change.
//
// Remote marks an event that another process sharing the plugin's
// backend committed and passed on: it tells (a client, a waiting user) but
// asks no action of this process, whose counterpart in the committing
// process got the event as its own. A connector ignores remote events.
type Event struct {
	Kind        EventKind
	Transfer    Transfer
	Fulfillment ilp.Fulfillment
	Rejection   Rejection
	Info        LedgerInfo
	Remote      bool
}

// EventHandler receives plugin events; see Plugin.Subscribe for when and
// how it is called.
type EventHandler func(Event)
