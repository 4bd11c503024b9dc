// Package plugintest owns the conformance suite every ledger.Plugin passes:
// one set of tests, run by each plugin's own test package against two ends
// of one ledger that can pay each other, so that the in-process pair, the
// ilp-plugin-virtual peering plugin and the trustline server and client
// all keep the same Ledger Plugin Interface semantics.
//
// # What it checks
//
// Run covers: calls before Connect and after Disconnect (UnreachableError),
// Connect idempotence and the connect and disconnect events, LedgerInfo and
// accounts; a conditional transfer through prepare and fulfill (events on
// both ends with the transfer's fields, the note to self kept by the
// sender, balances moving by exactly the amount); a wrong fulfillment
// (NotAcceptedError, nothing changes); rejection (both ends see the reason,
// forwarded_by included, and the amount returns); expiry on the injected
// clock (both ends see a cancel with R00, the amount returns, a late
// fulfillment is refused); unconditional transfers; repeated ids (the same
// transfer again is a no-op, another one is DuplicateIdError, also across
// directions); limits (a transfer over the limit is refused and changes
// nothing, prepared amounts count towards it); amounts up to 2^64-1 and
// balances beyond; zero and invalid amounts; invalid fields; Fulfillment in
// every state; payments in the other direction; requests (round trip, the
// handler's error becomes an error response, a handler that blocks cannot
// hang the caller, no handler, one handler at a time, invalid messages);
// many transfers from many goroutines (every transfer gets exactly one
// prepare and one final event per end, in that order, and the balances add
// up); and subscriptions ending.
//
// Balances are compared after every failure the tests inject: a refused
// call must change nothing.
//
// # Usage
//
//	func harness() plugintest.Harness {
//		return plugintest.Harness{
//			Name: "pair",
//			New: func(tb testing.TB, cfg plugintest.Config) (ledger.Plugin, ledger.Plugin) {
//				a, b, err := pair.New(pair.Options{..., Clock: cfg.Clock,
//					A: pair.Side{Backend: memory.New(), MaxBalance: cfg.Limit},
//					B: pair.Side{Backend: memory.New(), MaxBalance: cfg.Limit}})
//				if err != nil {
//					tb.Fatal(err)
//				}
//				return a, b
//			},
//			ReceiverCreditsAtPrepare: true,
//		}
//	}
//
//	func TestConformance(t *testing.T) { plugintest.Run(t, harness()) }
//
// Events may arrive asynchronously (a plugin over a network); the suite
// waits up to WaitTimeout for each one it expects, and for balances to
// reach the values it expects.
package plugintest

import (
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// WaitTimeout bounds every wait of the suite for an event or a balance.
const WaitTimeout = 5 * time.Second

// Harness tells the suite how to build one kind of plugin, and which of the
// choices the 2017 interface left open it made.
type Harness struct {
	// Name names the plugin in messages.
	Name string

	// New returns two ends of one ledger built for cfg, not connected: the
	// sender and the receiver of the suite's main direction (some tests
	// also pay the other way). Both must take every expiry decision on
	// cfg.Clock. New registers its clean-up with tb.Cleanup; the suite
	// disconnects both ends before that runs.
	New func(tb testing.TB, cfg Config) (sender, receiver ledger.Plugin)

	// ConnectReceiverFirst makes the suite connect the receiver before the
	// sender (a client that needs its server, for instance); by default
	// the sender connects first.
	ConnectReceiverFirst bool

	// SenderHoldsAtPrepare is set when the sender's balance drops when a
	// transfer is prepared (the amount is held) rather than when it is
	// fulfilled.
	SenderHoldsAtPrepare bool
	// ReceiverCreditsAtPrepare is set when the receiver's balance rises
	// when a transfer is prepared (as in ilp-plugin-virtual) rather than
	// when it is fulfilled.
	ReceiverCreditsAtPrepare bool

	// RefusesZeroAmount is set when a zero-amount transfer fails with
	// InvalidFieldsError (as ilp-plugin-virtual 16 did) instead of working
	// like any other (as RFC 0004 requires).
	RefusesZeroAmount bool
}

// Config is what a test asks of the ledger it gets.
type Config struct {
	// Clock is the clock both ends must use.
	Clock *Clock
	// Limit is the most either end may owe the other, counting the
	// prepared transfers towards the creditor: a transfer that would go
	// beyond it is refused with NotAcceptedError or
	// InsufficientBalanceError. The zero Bound is no limit.
	Limit ledger.Bound
}

// Run runs the whole suite against the plugin h describes, each part as a
// sub-test of t with fresh plugins.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("plugintest: Harness.New is nil")
	}
	t.Run("Connection", func(t *testing.T) { testConnection(t, h) })
	t.Run("PrepareFulfill", func(t *testing.T) { testPrepareFulfill(t, h) })
	t.Run("Reject", func(t *testing.T) { testReject(t, h) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, h) })
	t.Run("Unconditional", func(t *testing.T) { testUnconditional(t, h) })
	t.Run("DuplicateID", func(t *testing.T) { testDuplicateID(t, h) })
	t.Run("Limits", func(t *testing.T) { testLimits(t, h) })
	t.Run("LargeAmounts", func(t *testing.T) { testLargeAmounts(t, h) })
	t.Run("ZeroAmount", func(t *testing.T) { testZeroAmount(t, h) })
	t.Run("InvalidTransfers", func(t *testing.T) { testInvalidTransfers(t, h) })
	t.Run("FulfillmentStates", func(t *testing.T) { testFulfillmentStates(t, h) })
	t.Run("OtherDirection", func(t *testing.T) { testOtherDirection(t, h) })
	t.Run("Requests", func(t *testing.T) { testRequests(t, h) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, h) })
	t.Run("Disconnect", func(t *testing.T) { testDisconnect(t, h) })
	t.Run("Unsubscribe", func(t *testing.T) { testUnsubscribe(t, h) })
}
