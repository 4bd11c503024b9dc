package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// Defaults of the 2017 connector (its CONNECTOR_* environment variables).
const (
	DefaultMinMessageWindow  = time.Second
	DefaultMaxHoldTime       = 10 * time.Second
	DefaultQuoteExpiry       = 45 * time.Second
	DefaultRouteExpiry       = 45 * time.Second
	DefaultBroadcastInterval = 30 * time.Second
	DefaultCleanupInterval   = time.Second
	DefaultRequestTimeout    = 5 * time.Second
)

// DefaultSpread (0.002) and DefaultSlippage (0.001) return fresh copies of
// the 2017 defaults.
func DefaultSpread() *big.Rat   { return big.NewRat(2, 1000) }
func DefaultSlippage() *big.Rat { return big.NewRat(1, 1000) }

// StaticRoute is a configured route (CONNECTOR_ROUTES of 2017): payments to
// TargetPrefix go to the connector Account on Ledger. It has no curve, so
// quotes over it are asked of that connector; it never expires.
type StaticRoute struct {
	TargetPrefix string
	Ledger       string
	Account      string
}

// Config configures a Connector. The zero value of every field but Secret
// means the 2017 default.
type Config struct {
	// Secret keys the HMAC that derives outgoing transfer ids (required,
	// at least 16 bytes; keep it across restarts so that a forward retried
	// after a restart reuses the same id).
	Secret []byte

	// Rates gives exchange rates between currencies; nil is OneToOne.
	Rates Rates
	// Spread is taken off every rate (nil: 0.002). It must be in [0, 1).
	Spread *big.Rat
	// Slippage is how far below the packet's amount the last hop may
	// deliver (nil: 0.001). It must be in [0, 1).
	Slippage *big.Rat

	MinMessageWindow time.Duration // 1 s
	MaxHoldTime      time.Duration // 10 s
	QuoteExpiry      time.Duration // 45 s
	// RouteExpiry is how long a peer's routes live without a broadcast from
	// it, and the hold_down_time sent to peers (45 s). It must exceed
	// BroadcastInterval.
	RouteExpiry       time.Duration
	BroadcastInterval time.Duration // 30 s
	CleanupInterval   time.Duration // 1 s
	// RequestTimeout bounds each request the connector sends (broadcasts,
	// remote quotes); 5 s.
	RequestTimeout time.Duration

	// DisableBroadcast stops Run from broadcasting routes
	// (ROUTE_BROADCAST_ENABLED=false); received broadcasts still count.
	DisableBroadcast bool
	// OnRoutes, when set, is called with every route broadcast a peer
	// sent and the connector applied: several processes sharing the
	// connector's work (the kit's processes on one database) pass it to
	// each other's ApplyRoutes, so that all of them route alike whichever
	// received it. It must not block.
	OnRoutes func(ledgerPrefix, from string, data json.RawMessage)
	// OmitCurves sends routes without points (BROADCAST_CURVES=false).
	OmitCurves bool
	// DropCurves stores received routes without their points
	// (STORE_CURVES=false), so quotes over them are asked remotely.
	DropCurves bool

	StaticRoutes []StaticRoute

	// SettlementMethods is the JSON array answered to a peer's
	// settlement_methods_request (nil: []).
	SettlementMethods json.RawMessage

	// Clock tells the time and runs the timers; nil is the system clock.
	Clock ledger.Clock
	// Logger receives the connector's log; nil discards.
	Logger *slog.Logger
}

// ErrConfig is wrapped by the errors of New.
var ErrConfig = errors.New("connector: invalid config")

// withDefaults checks c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	if len(c.Secret) < 16 {
		return c, fmt.Errorf("%w: secret must have at least 16 bytes", ErrConfig)
	}
	if c.Rates == nil {
		c.Rates = OneToOne{}
	}
	if c.Spread == nil {
		c.Spread = DefaultSpread()
	}
	if c.Slippage == nil {
		c.Slippage = DefaultSlippage()
	}
	one := big.NewRat(1, 1)
	if c.Spread.Sign() < 0 || c.Spread.Cmp(one) >= 0 {
		return c, fmt.Errorf("%w: spread %s not in [0, 1)", ErrConfig, c.Spread.RatString())
	}
	if c.Slippage.Sign() < 0 || c.Slippage.Cmp(one) >= 0 {
		return c, fmt.Errorf("%w: slippage %s not in [0, 1)", ErrConfig, c.Slippage.RatString())
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.MinMessageWindow, DefaultMinMessageWindow)
	def(&c.MaxHoldTime, DefaultMaxHoldTime)
	def(&c.QuoteExpiry, DefaultQuoteExpiry)
	def(&c.RouteExpiry, DefaultRouteExpiry)
	def(&c.BroadcastInterval, DefaultBroadcastInterval)
	def(&c.CleanupInterval, DefaultCleanupInterval)
	def(&c.RequestTimeout, DefaultRequestTimeout)
	if c.RouteExpiry <= c.BroadcastInterval {
		return c, fmt.Errorf("%w: route expiry %v must exceed the broadcast interval %v", ErrConfig, c.RouteExpiry, c.BroadcastInterval)
	}
	if c.SettlementMethods == nil {
		c.SettlementMethods = json.RawMessage("[]")
	} else {
		var v []json.RawMessage
		if err := json.Unmarshal(c.SettlementMethods, &v); err != nil {
			return c, fmt.Errorf("%w: settlement methods must be a JSON array", ErrConfig)
		}
	}
	for _, r := range c.StaticRoutes {
		if r.TargetPrefix == "" || r.Ledger == "" || r.Account == "" {
			return c, fmt.Errorf("%w: static route %+v incomplete", ErrConfig, r)
		}
	}
	if c.Clock == nil {
		c.Clock = ledger.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
