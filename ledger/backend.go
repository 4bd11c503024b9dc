package ledger

import (
	"context"
	"encoding/json"
	"fmt"
)

// Bound is one limit of a balance. The zero value is unlimited.
type Bound struct {
	v   Int128
	set bool
}

// Unlimited returns a bound that never refuses.
func Unlimited() Bound { return Bound{} }

// Limit returns a bound at v.
func Limit(v Int128) Bound { return Bound{v: v, set: true} }

// Value returns the limit and true, or false when unlimited.
func (b Bound) Value() (Int128, bool) { return b.v, b.set }

// String gives the decimal limit or "unlimited".
func (b Bound) String() string {
	if !b.set {
		return "unlimited"
	}
	return b.v.String()
}

// BalanceOptions are the limits of a balance. Both default to unlimited.
type BalanceOptions struct {
	Minimum Bound
	Maximum Bound
}

// Backend keeps the state of one stateful plugin (in the SQL layout: that
// plugin's table). It is the PluginBackend of the ILP Kit 3.0 design.
type Backend interface {
	// Balance returns the balance stored under key "balance__"+name. The 2.x
	// plugins used the empty name.
	Balance(name string, opts BalanceOptions) Balance
	// TransferLog returns the plugin's transfer log (keys "transfer_"+id).
	TransferLog() TransferLog
}

// Balance is a signed balance with optional limits. Add and Sub are atomic
// and return the balance their own change produced; they refuse, with a
// *LimitError or ErrOverflow and no change, a result outside the limits.
// Get returns a cached value, which may be stale when other processes write:
// money decisions use the results of Add and Sub. Handles on one name (from
// one Backend or several on one store) share the value; each handle has its
// own limits.
type Balance interface {
	Name() string
	// Connect loads the stored value (a missing or invalid value is stored
	// as "0", as 2.x did).
	Connect(ctx context.Context) error
	// Get returns the last value this process saw, without I/O: it
	// reflects every change made through the same Backend (Add, Sub and
	// the TransferLog's changes), not those of other processes.
	Get() Int128
	// Load reads the stored value (a missing one reads as 0).
	Load(ctx context.Context) (Int128, error)
	Add(ctx context.Context, n uint64) (Int128, error)
	Sub(ctx context.Context, n uint64) (Int128, error)
	Minimum() Bound
	Maximum() Bound
	SetMinimum(Bound)
	SetMaximum(Bound)
}

// State is the state of a transfer in the log, with the 2.x names.
type State string

const (
	StatePrepared  State = "prepared"
	StateExecuted  State = "executed"
	StateCancelled State = "cancelled"
)

// Record is one entry of a transfer log.
type Record struct {
	Transfer    Transfer
	State       State
	Incoming    bool
	Fulfillment string // base64url; set when executed by a fulfillment
}

// Change is one balance change that a transfer's state change causes. The
// limits travel with the change so that a backend checks them in the same
// atomic step that applies it.
type Change struct {
	Balance string // balance name
	Amount  uint64
	Sub     bool
	Minimum Bound
	Maximum Bound
}

// Credit is the change that adds n to b, with b's current limits.
func Credit(b Balance, n uint64) Change {
	return Change{Balance: b.Name(), Amount: n, Minimum: b.Minimum(), Maximum: b.Maximum()}
}

// Debit is the change that subtracts n from b, with b's current limits.
func Debit(b Balance, n uint64) Change {
	return Change{Balance: b.Name(), Amount: n, Sub: true, Minimum: b.Minimum(), Maximum: b.Maximum()}
}

// Apply returns the balance after the change, or a *LimitError or
// ErrOverflow. Limits are only checked in the direction of the change: a
// credit is checked against the maximum and a debit against the minimum, so a
// balance already outside a lowered limit can still move back towards it.
func (c Change) Apply(current Int128) (Int128, error) {
	var next Int128
	var err error
	if c.Sub {
		next, err = current.SubUint64(c.Amount)
	} else {
		next, err = current.AddUint64(c.Amount)
	}
	if err != nil {
		return Int128{}, fmt.Errorf("ledger: balance %q: %w", c.Balance, err)
	}
	if c.Sub {
		if min, ok := c.Minimum.Value(); ok && next.Cmp(min) < 0 && c.Amount > 0 {
			return Int128{}, &LimitError{Balance: c.Balance, Current: current, Amount: c.Amount, Sub: true, Limit: min}
		}
	} else if max, ok := c.Maximum.Value(); ok && next.Cmp(max) > 0 && c.Amount > 0 {
		return Int128{}, &LimitError{Balance: c.Balance, Current: current, Amount: c.Amount, Limit: max, Maximum: true}
	}
	return next, nil
}

// Result tells what a transfer log operation did.
type Result struct {
	Record Record // the record after the operation
	// Applied is false when the call repeated an earlier one: nothing changed.
	Applied bool
	// Balances holds the balance after each Change, in order, when Applied.
	Balances []Int128
}

// TransferLog records a plugin's transfers. A transfer resolves at most once;
// each state change and the balance changes it causes are one atomic step,
// so no crash can leave one without the other. Prepared transfers are
// persisted at once. CheckNew, DecideCreate, DecideFulfill, DecideCancel,
// FulfillmentOf and ApplyChanges implement these rules for every backend;
// ledger/ledgertest checks them.
type TransferLog interface {
	// Create records a new transfer: prepared (conditional) or executed
	// (unconditional), applying changes atomically with it. The same id with
	// the same transfer and direction again is a no-op (Applied false); with a
	// different one it fails with ErrDuplicateID. A record without id, or
	// with a state its condition forbids, fails with ErrInvalidTransfer. A
	// refused change (limit, overflow) records nothing, so the id stays free.
	Create(ctx context.Context, rec Record, changes ...Change) (Result, error)
	// Fulfill moves a prepared transfer to executed with its fulfillment.
	// Repeating it with the same fulfillment is a no-op; on a cancelled
	// transfer it fails with ErrAlreadyRolledBack; on an executed one with a
	// different fulfillment, with ErrAlreadyFulfilled; on an unconditional
	// one with ErrTransferNotConditional; an empty fulfillment fails with
	// ErrInvalidTransfer. The backend does not check the fulfillment against
	// the condition: the plugin does, before it calls Fulfill.
	Fulfill(ctx context.Context, id, fulfillment string, changes ...Change) (Result, error)
	// Cancel moves a prepared transfer to cancelled (rejected or expired).
	// Repeating it is a no-op; on an executed transfer it fails with
	// ErrAlreadyFulfilled.
	Cancel(ctx context.Context, id string, changes ...Change) (Result, error)
	// Get reads a transfer from the store (ErrTransferNotFound if absent)
	// and caches it.
	Get(ctx context.Context, id string) (Record, error)
	// GetCached returns the cached record without I/O: the last state this
	// process saw through Create, Fulfill, Cancel or Get, until DropCached.
	GetCached(id string) (Record, bool)
	// GetFulfillment returns the fulfillment of an executed transfer, or
	// ErrMissingFulfillment, ErrAlreadyRolledBack, ErrTransferNotConditional
	// or ErrTransferNotFound.
	GetFulfillment(ctx context.Context, id string) (string, error)
	// DropCached forgets the cached copy of a transfer.
	DropCached(id string)
	// Prepared lists the transfers still prepared, so a plugin can re-arm
	// their expiry after a restart.
	Prepared(ctx context.Context) ([]Record, error)
}

// BalanceKey is the 2.x store key of a balance.
func BalanceKey(name string) string { return "balance__" + name }

// TransferKey is the 2.x store key of a transfer.
func TransferKey(id string) string { return "transfer_" + id }

// storedTransfer is the 2.x value of a "transfer_<id>" key.
type storedTransfer struct {
	Transfer    Transfer `json:"transfer"`
	State       State    `json:"state"`
	IsIncoming  bool     `json:"isIncoming"`
	Fulfillment *string  `json:"fulfillment"`
	Written     bool     `json:"written,omitempty"`
}

// MarshalRecord encodes a record as the 2.x store value of its transfer key.
func MarshalRecord(r Record) ([]byte, error) {
	s := storedTransfer{Transfer: r.Transfer, State: r.State, IsIncoming: r.Incoming, Written: true}
	if r.Fulfillment != "" {
		f := r.Fulfillment
		s.Fulfillment = &f
	}
	return marshalNoEscape(s)
}

// UnmarshalRecord decodes a 2.x store value of a transfer key.
func UnmarshalRecord(b []byte) (Record, error) {
	var s storedTransfer
	if err := json.Unmarshal(b, &s); err != nil {
		return Record{}, fmt.Errorf("ledger: stored transfer: %w", err)
	}
	switch s.State {
	case StatePrepared, StateExecuted, StateCancelled:
	default:
		return Record{}, fmt.Errorf("ledger: stored transfer %q: unknown state %q", s.Transfer.ID, s.State)
	}
	r := Record{Transfer: s.Transfer, State: s.State, Incoming: s.IsIncoming}
	if s.Fulfillment != nil {
		r.Fulfillment = *s.Fulfillment
	}
	return r, nil
}
