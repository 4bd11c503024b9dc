package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// errConfig is wrapped by every configuration error.
var errConfig = errors.New("config")

// Plugin kinds accepted in CONNECTOR_LEDGERS.
const (
	pluginVirtual = "ilp-plugin-virtual"
	pluginLocal   = "local"
)

// Rate backends (CONNECTOR_BACKEND).
const (
	backendOneToOne = "one-to-one"
	backendFixerio  = "fixerio"
	backendFixed    = "fixed"
)

// Config is the whole configuration of one connector process.
type Config struct {
	Addr string // host:port of the HTTP listener

	Ledgers []LedgerConfig // sorted by prefix
	Peers   []string       // connector accounts to broadcast routes to
	Routes  []connector.StaticRoute

	AutoloadPeers bool

	Backend    string               // one-to-one, fixerio or fixed
	BackendURI string               // the rate document for fixerio
	Rates      connector.FixedRates // the table of the fixed backend

	Spread, Slippage  *big.Rat
	MinMessageWindow  time.Duration
	MaxHoldTime       time.Duration
	QuoteExpiry       time.Duration
	RouteExpiry       time.Duration
	BroadcastInterval time.Duration
	CleanupInterval   time.Duration
	BroadcastEnabled  bool
	BroadcastCurves   bool
	StoreCurves       bool

	// Secret keys the outgoing transfer ids.
	Secret []byte
	// PeeringSecret is the default secret of ilp-plugin-virtual ledgers.
	PeeringSecret string

	DBURI          string // "" keeps state in memory
	DebugEndpoints bool
	LogLevel       string
}

// LedgerConfig is one entry of CONNECTOR_LEDGERS.
type LedgerConfig struct {
	Prefix   string
	Currency string
	Plugin   string
	Virtual  *VirtualOptions
	Local    *LocalOptions
}

// VirtualOptions are the options of an ilp-plugin-virtual ledger, as ILP Kit
// 3 wrote them.
type VirtualOptions struct {
	Secret        string          `json:"secret"`
	PeerPublicKey string          `json:"peerPublicKey"`
	CurrencyCode  string          `json:"currencyCode"`
	CurrencyScale *int            `json:"currencyScale"`
	MaxBalance    json.RawMessage `json:"maxBalance"`
	RPCURI        string          `json:"rpcUri"`
	Prefix        string          `json:"prefix"`
	Info          struct {
		Connectors []string `json:"connectors"`
	} `json:"info"`

	maxBalance ledger.Bound
}

// LocalOptions are the options of an in-process local ledger: one account of
// a local user, on a trustline whose other end the connector holds.
type LocalOptions struct {
	// Account is the user's name under the prefix ("user").
	Account string `json:"account"`
	// CurrencyScale of the ledger (9).
	CurrencyScale *int `json:"currencyScale"`
	// MaxBalance is the credit the connector extends to the user: how much
	// the user may send (unlimited when absent).
	MaxBalance json.RawMessage `json:"maxBalance"`
	// UserMaxBalance is the credit the user extends to the connector: how
	// much the user may receive (unlimited when absent).
	UserMaxBalance json.RawMessage `json:"userMaxBalance"`
	// ReceiverSecret is the user's PSK receiver secret (random when absent).
	ReceiverSecret string `json:"receiverSecret"`

	maxBalance, userMaxBalance ledger.Bound
}

// setting is one configuration value: a flag, the environment variable of
// the same meaning, its default and what it means.
type setting struct {
	flag, env, def, help string
}

// settings lists every setting in the order --help prints them.
func settings() []setting {
	return []setting{
		{"config", "CONNECTOR_CONFIG_FILE", "", "JSON file of settings keyed by their environment names (flags and the environment win over it)"},
		{"bind-ip", "CONNECTOR_BIND_IP", "0.0.0.0", "address the HTTP listener binds to"},
		{"port", "CONNECTOR_PORT", "3000", "port of the HTTP listener (0 picks a free one; the log says which)"},
		{"ledgers", "CONNECTOR_LEDGERS", "{}", `JSON map of ledger prefix to {"currency", "plugin", "options"}; plugin "ilp-plugin-virtual" (options secret, peerPublicKey, currencyCode, currencyScale, maxBalance, rpcUri, prefix, info.connectors; the key must be the derived peer prefix) or "local" (an in-process ledger with one user account; options account, currencyScale, maxBalance, userMaxBalance, receiverSecret)`},
		{"peers", "CONNECTOR_PEERS", "", "connector accounts to broadcast routes to, comma-separated or a JSON array"},
		{"routes", "CONNECTOR_ROUTES", "[]", `static routes, JSON [{"targetPrefix", "connectorLedger", "connectorAccount"}]`},
		{"autoload-peers", "CONNECTOR_AUTOLOAD_PEERS", "false", "also broadcast to each ledger's recommended connectors (ILP Kit set true)"},
		{"backend", "CONNECTOR_BACKEND", backendOneToOne, `rate source: "one-to-one", "fixerio" (a fixer.io JSON document at --backend-uri, polled every 10 minutes) or "fixed" (the table in --rates)`},
		{"rates", "CONNECTOR_RATES", "", `rate table of the fixed backend, as a fixer.io document: {"base": "USD", "rates": {"EUR": "0.9", ...}} (exact decimals)`},
		{"backend-uri", "CONNECTOR_BACKEND_URI", "", "URL of the rate document of the fixerio backend"},
		{"fx-spread", "CONNECTOR_FX_SPREAD", "0.002", "fraction taken off every rate, in [0, 1)"},
		{"slippage", "CONNECTOR_SLIPPAGE", "0.001", "how far below the packet amount the last hop may deliver, in [0, 1)"},
		{"min-message-window", "CONNECTOR_MIN_MESSAGE_WINDOW", "1", "seconds between the outgoing and the incoming transfer's expiry"},
		{"max-hold-time", "CONNECTOR_MAX_HOLD_TIME", "10", "seconds a transfer may be held at most"},
		{"quote-expiry", "CONNECTOR_QUOTE_EXPIRY", "45000", "milliseconds a quote stays valid"},
		{"route-expiry", "CONNECTOR_ROUTE_EXPIRY", "45000", "milliseconds a peer's routes live without a broadcast (the hold_down_time sent); must exceed the broadcast interval"},
		{"route-broadcast-interval", "CONNECTOR_ROUTE_BROADCAST_INTERVAL", "30000", "milliseconds between route broadcasts"},
		{"route-cleanup-interval", "CONNECTOR_ROUTE_CLEANUP_INTERVAL", "1000", "milliseconds between removals of expired routes"},
		{"route-broadcast-enabled", "CONNECTOR_ROUTE_BROADCAST_ENABLED", "true", "broadcast routes to peers"},
		{"broadcast-curves", "CONNECTOR_BROADCAST_CURVES", "true", "send liquidity curves in broadcasts"},
		{"store-curves", "CONNECTOR_STORE_CURVES", "true", "keep the curves peers broadcast (else quote them remotely)"},
		{"secret", "CONNECTOR_SECRET", "", "base64 secret (16 bytes or more) keying outgoing transfer ids; keep it across restarts (default: derived from the peering secret, else random)"},
		{"ed25519-secret-key", "CONNECTOR_ED25519_SECRET_KEY", "", "peering secret of ilp-plugin-virtual ledgers that set none (b64url)"},
		{"db", "DB_URI", "", "database of the plugins' state: a SQLite file path or sqlite:// URI, or a postgres:// URI (default: in memory)"},
		{"debug-endpoints", "CONNECTOR_DEBUG_ENDPOINTS", "false", "serve POST /debug/receiver, /debug/quote, /debug/pay and GET /debug/balances for local ledgers (testing and load only: they move money; off by default)"},
		{"log-level", "CONNECTOR_LOG_LEVEL", "info", "debug, info, warn or error"},
	}
}

// usage writes the --help text.
func usage(w io.Writer) {
	fmt.Fprintf(w, `ilp-connector: a standalone Interledger v1 connector (ILP Kit 3.0, mid-2017 wire protocols)

Usage:
  ilp-connector [flags]

It serves, on one HTTP listener:
  POST /rpc?method=&prefix=   ilp-plugin-virtual peer RPC (Authorization: Bearer <token>)
  GET  /health                200 JSON with the ledgers and whether each plugin is connected
  GET  /metrics               Prometheus metrics
  /debug/...                  only with --debug-endpoints (see below)

Every setting is a flag or an environment variable (the flag wins), or a key
of the --config file:

`)
	for _, s := range settings() {
		def := s.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%s, %s (default %s)\n      %s\n", s.flag, s.env, def, s.help)
	}
	fmt.Fprintf(w, `
Debug endpoints (--debug-endpoints; unauthenticated, they move the local users' money):
  POST /debug/receiver?ledger=P  PSK parameters {destination_account, shared_secret} of P's local user
  POST /debug/quote   {ledger, destinationAccount, sourceAmount | destinationAmount | liquidity: true,
                       destinationHoldDuration (ms)} -> the ILQP answer, or 422 {code, name, message}
  POST /debug/pay     {ledger, destinationAccount, sharedSecret, destinationAmount, sourceAmount (else
                       quoted once), destinationHoldDuration, data ("hold": the local receiver lets it
                       expire), count, concurrency} -> outcomes, payments/s and latency percentiles
  GET  /debug/balances  balance of every plugin the connector holds and of each local user
Amounts are decimal strings of base units.

Example: a local ledger and a peer
  CONNECTOR_LEDGERS='{"test.usd.alice.": {"currency": "USD", "plugin": "local",
     "options": {"account": "alice", "maxBalance": "1000000000000"}},
   "peer.NavKx.usd.9.": {"currency": "USD", "plugin": "ilp-plugin-virtual",
     "options": {"peerPublicKey": "...", "currencyScale": 9, "maxBalance": "1000000000000",
     "rpcUri": "https://peer.example/rpc"}}}' \
  CONNECTOR_ED25519_SECRET_KEY=... ilp-connector
`)
}

// loadConfig reads the configuration from args, then getenv, then the
// --config file, then the defaults.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("ilp-connector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr) }
	all := settings()
	vals := make(map[string]*string, len(all))
	for _, s := range all {
		vals[s.flag] = fs.String(s.flag, "", s.help)
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("%w: unexpected argument %q", errConfig, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	get := func(name string) string { return *vals[name] }
	for _, s := range all {
		if set[s.flag] {
			continue
		}
		if v, ok := lookupEnv(getenv, s.env); ok {
			*vals[s.flag] = v
		}
	}
	if path := get("config"); path != "" {
		file, err := readConfigFile(path)
		if err != nil {
			return Config{}, err
		}
		for _, s := range all {
			if set[s.flag] {
				continue
			}
			if _, ok := lookupEnv(getenv, s.env); ok {
				continue
			}
			if v, ok := file[s.env]; ok {
				*vals[s.flag] = v
			}
		}
	}
	for _, s := range all {
		if !set[s.flag] && *vals[s.flag] == "" {
			*vals[s.flag] = s.def
		}
	}
	return parseSettings(get)
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// readConfigFile reads a JSON object keyed by environment names; a value that
// is not a string is taken as its JSON text (so CONNECTOR_LEDGERS may be an
// object there).
func readConfigFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: config file: %w", errConfig, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: config file %s: %w", errConfig, path, err)
	}
	known := map[string]bool{}
	for _, s := range settings() {
		known[s.env] = true
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if !known[k] {
			return nil, fmt.Errorf("%w: config file %s: unknown setting %q", errConfig, path, k)
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(bytes.TrimSpace(v))
		}
	}
	return out, nil
}

func parseSettings(get func(string) string) (Config, error) {
	var c Config
	var errs []error
	bad := func(env string, err error) {
		errs = append(errs, fmt.Errorf("%w: %s: %w", errConfig, env, err))
	}

	port, err := strconv.ParseUint(get("port"), 10, 16)
	if err != nil {
		bad("CONNECTOR_PORT", err)
	}
	c.Addr = net.JoinHostPort(get("bind-ip"), strconv.FormatUint(port, 10))

	if c.Ledgers, err = parseLedgers(get("ledgers")); err != nil {
		bad("CONNECTOR_LEDGERS", err)
	}
	if c.Peers, err = parsePeers(get("peers")); err != nil {
		bad("CONNECTOR_PEERS", err)
	}
	if c.Routes, err = parseRoutes(get("routes")); err != nil {
		bad("CONNECTOR_ROUTES", err)
	}
	boolean := func(flag, env string) bool {
		v, err := strconv.ParseBool(get(flag))
		if err != nil {
			bad(env, err)
		}
		return v
	}
	c.AutoloadPeers = boolean("autoload-peers", "CONNECTOR_AUTOLOAD_PEERS")
	c.BroadcastEnabled = boolean("route-broadcast-enabled", "CONNECTOR_ROUTE_BROADCAST_ENABLED")
	c.BroadcastCurves = boolean("broadcast-curves", "CONNECTOR_BROADCAST_CURVES")
	c.StoreCurves = boolean("store-curves", "CONNECTOR_STORE_CURVES")
	c.DebugEndpoints = boolean("debug-endpoints", "CONNECTOR_DEBUG_ENDPOINTS")

	c.Backend = strings.ToLower(get("backend"))
	c.BackendURI = get("backend-uri")
	switch c.Backend {
	case backendOneToOne, "onetoone":
		c.Backend = backendOneToOne
	case backendFixerio, "fixer":
		c.Backend = backendFixerio
		if c.BackendURI == "" {
			bad("CONNECTOR_BACKEND_URI", errors.New("required by the fixerio backend"))
		}
	case backendFixed:
		if get("rates") == "" {
			bad("CONNECTOR_RATES", errors.New("required by the fixed backend"))
		} else if r, err := connector.ParseRates([]byte(get("rates"))); err != nil {
			bad("CONNECTOR_RATES", err)
		} else {
			c.Rates = r
		}
	default:
		bad("CONNECTOR_BACKEND", fmt.Errorf("unknown backend %q (one-to-one, fixerio or fixed)", c.Backend))
	}

	fraction := func(flag, env string) *big.Rat {
		r, ok := new(big.Rat).SetString(get(flag))
		if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) >= 0 {
			bad(env, fmt.Errorf("%q is not a number in [0, 1)", get(flag)))
			return nil
		}
		return r
	}
	c.Spread = fraction("fx-spread", "CONNECTOR_FX_SPREAD")
	c.Slippage = fraction("slippage", "CONNECTOR_SLIPPAGE")

	duration := func(flag, env string, unit time.Duration) time.Duration {
		r, ok := new(big.Rat).SetString(get(flag))
		if !ok || r.Sign() <= 0 {
			bad(env, fmt.Errorf("%q is not a positive number", get(flag)))
			return 0
		}
		r.Mul(r, new(big.Rat).SetInt64(int64(unit)))
		n := new(big.Int).Quo(r.Num(), r.Denom())
		if !n.IsInt64() || n.Int64() <= 0 {
			bad(env, fmt.Errorf("%q is out of range", get(flag)))
			return 0
		}
		return time.Duration(n.Int64())
	}
	c.MinMessageWindow = duration("min-message-window", "CONNECTOR_MIN_MESSAGE_WINDOW", time.Second)
	c.MaxHoldTime = duration("max-hold-time", "CONNECTOR_MAX_HOLD_TIME", time.Second)
	c.QuoteExpiry = duration("quote-expiry", "CONNECTOR_QUOTE_EXPIRY", time.Millisecond)
	c.RouteExpiry = duration("route-expiry", "CONNECTOR_ROUTE_EXPIRY", time.Millisecond)
	c.BroadcastInterval = duration("route-broadcast-interval", "CONNECTOR_ROUTE_BROADCAST_INTERVAL", time.Millisecond)
	c.CleanupInterval = duration("route-cleanup-interval", "CONNECTOR_ROUTE_CLEANUP_INTERVAL", time.Millisecond)
	if c.RouteExpiry > 0 && c.BroadcastInterval > 0 && c.RouteExpiry <= c.BroadcastInterval {
		bad("CONNECTOR_ROUTE_EXPIRY", errors.New("must exceed CONNECTOR_ROUTE_BROADCAST_INTERVAL"))
	}

	c.PeeringSecret = get("ed25519-secret-key")
	switch s := get("secret"); {
	case s != "":
		// 2017 read it as base64.
		b, err := ilp.DecodeBase64(s)
		switch {
		case err != nil:
			bad("CONNECTOR_SECRET", fmt.Errorf("not base64: %w", err))
		case len(b) < 16:
			bad("CONNECTOR_SECRET", errors.New("must decode to at least 16 bytes"))
		default:
			c.Secret = b
		}
	case c.PeeringSecret != "":
		sum := sha256.Sum256([]byte("ilp-connector transfer ids\x00" + c.PeeringSecret))
		c.Secret = sum[:]
	}

	for i := range c.Ledgers {
		l := &c.Ledgers[i]
		if l.Virtual != nil && l.Virtual.Secret == "" {
			if c.PeeringSecret == "" {
				bad("CONNECTOR_LEDGERS", fmt.Errorf("ledger %s: no options.secret and no CONNECTOR_ED25519_SECRET_KEY", l.Prefix))
			}
			l.Virtual.Secret = c.PeeringSecret
		}
	}
	for _, r := range c.Routes {
		if !hasLedger(c.Ledgers, r.Ledger) {
			bad("CONNECTOR_ROUTES", fmt.Errorf("route to %s: connectorLedger %s is not in CONNECTOR_LEDGERS", r.TargetPrefix, r.Ledger))
		}
	}
	for _, p := range c.Peers {
		if ledgerOf(c.Ledgers, p) == "" {
			bad("CONNECTOR_PEERS", fmt.Errorf("peer %s is on none of CONNECTOR_LEDGERS", p))
		}
	}

	c.DBURI = get("db")
	c.LogLevel = strings.ToLower(get("log-level"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("CONNECTOR_LOG_LEVEL", fmt.Errorf("unknown level %q", c.LogLevel))
	}
	return c, errors.Join(errs...)
}

func hasLedger(ls []LedgerConfig, prefix string) bool {
	for _, l := range ls {
		if l.Prefix == prefix {
			return true
		}
	}
	return false
}

// ledgerOf returns the prefix of the ledger an account is on (the longest
// matching prefix), or "".
func ledgerOf(ls []LedgerConfig, account string) string {
	best := ""
	for _, l := range ls {
		if strings.HasPrefix(account, l.Prefix) && len(l.Prefix) > len(best) {
			best = l.Prefix
		}
	}
	return best
}

// ledgerEntry is the 2017 shape of one CONNECTOR_LEDGERS value. Unknown
// fields (such as "store", which every ILP Kit peer set) are ignored.
type ledgerEntry struct {
	Currency string          `json:"currency"`
	Plugin   string          `json:"plugin"`
	Options  json.RawMessage `json:"options"`
}

func parseLedgers(s string) ([]LedgerConfig, error) {
	var m map[string]ledgerEntry
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("not a JSON object of ledgers: %w", err)
	}
	out := make([]LedgerConfig, 0, len(m))
	for prefix, e := range m {
		l, err := parseLedger(prefix, e)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: %w", prefix, err)
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out, nil
}

func parseLedger(prefix string, e ledgerEntry) (LedgerConfig, error) {
	if err := ilp.ValidatePrefix(prefix); err != nil {
		return LedgerConfig{}, err
	}
	if !strings.HasSuffix(prefix, ".") {
		return LedgerConfig{}, errors.New(`a ledger prefix ends with "."`)
	}
	l := LedgerConfig{Prefix: prefix, Currency: strings.ToUpper(e.Currency), Plugin: e.Plugin}
	opts := e.Options
	if len(opts) == 0 || string(opts) == "null" {
		opts = []byte("{}")
	}
	// The options of a 2017 plugin may carry fields this one does not use;
	// those of the local kind, new here, must all be known.
	dec := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(opts))
		if e.Plugin == pluginLocal {
			d.DisallowUnknownFields()
		}
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("options: %w", err)
		}
		return nil
	}
	switch e.Plugin {
	case pluginVirtual:
		v := new(VirtualOptions)
		if err := dec(v); err != nil {
			return l, err
		}
		if v.PeerPublicKey == "" {
			return l, errors.New("options.peerPublicKey is required")
		}
		if v.RPCURI == "" {
			return l, errors.New("options.rpcUri is required")
		}
		if v.CurrencyCode == "" {
			v.CurrencyCode = l.Currency
		}
		if l.Currency == "" {
			l.Currency = strings.ToUpper(v.CurrencyCode)
		}
		if !strings.EqualFold(v.CurrencyCode, l.Currency) {
			return l, fmt.Errorf("currency %s and options.currencyCode %s differ", l.Currency, v.CurrencyCode)
		}
		if v.CurrencyScale == nil {
			return l, errors.New("options.currencyScale is required (both peers derive the prefix from it)")
		}
		if v.Prefix != "" && v.Prefix != prefix {
			return l, fmt.Errorf("options.prefix %s differs from the key", v.Prefix)
		}
		var err error
		if v.maxBalance, err = parseBound(v.MaxBalance); err != nil {
			return l, fmt.Errorf("options.maxBalance: %w", err)
		}
		l.Virtual = v
	case pluginLocal:
		o := new(LocalOptions)
		if err := dec(o); err != nil {
			return l, err
		}
		if o.Account == "" {
			o.Account = "user"
		}
		if o.Account == "connector" || strings.ContainsAny(o.Account, ".") || ilp.ValidateAddress(prefix+o.Account) != nil {
			return l, fmt.Errorf("options.account %q is not a usable account name", o.Account)
		}
		if o.CurrencyScale == nil {
			nine := 9
			o.CurrencyScale = &nine
		}
		var err error
		if o.maxBalance, err = parseBound(o.MaxBalance); err != nil {
			return l, fmt.Errorf("options.maxBalance: %w", err)
		}
		if o.userMaxBalance, err = parseBound(o.UserMaxBalance); err != nil {
			return l, fmt.Errorf("options.userMaxBalance: %w", err)
		}
		l.Local = o
	case "":
		return l, errors.New("plugin is required")
	default:
		return l, fmt.Errorf("plugin %q is not supported (%s or %s)", e.Plugin, pluginVirtual, pluginLocal)
	}
	if l.Currency == "" {
		return l, errors.New("currency is required")
	}
	if s := scaleOf(l); s < 0 || s > 30 {
		return l, fmt.Errorf("currency scale %d out of range", s)
	}
	return l, nil
}

func scaleOf(l LedgerConfig) int {
	switch {
	case l.Virtual != nil:
		return *l.Virtual.CurrencyScale
	case l.Local != nil:
		return *l.Local.CurrencyScale
	}
	return 0
}

// parseBound reads a limit given as a JSON string or number of base units
// (2017 wrote maxBalance as a string); absent means unlimited.
func parseBound(raw json.RawMessage) (ledger.Bound, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return ledger.Unlimited(), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	if s == "Infinity" {
		return ledger.Unlimited(), nil
	}
	v, err := ledger.ParseInt128(s)
	if err != nil {
		return ledger.Bound{}, fmt.Errorf("%q is not an integer amount: %w", s, err)
	}
	return ledger.Limit(v), nil
}

func parsePeers(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []string
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("not a JSON array of accounts: %w", err)
		}
	} else {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	for _, p := range out {
		if err := ilp.ValidateAddress(p); err != nil {
			return nil, fmt.Errorf("peer %q: %w", p, err)
		}
	}
	return out, nil
}

// routeEntry is the 2017 shape of one CONNECTOR_ROUTES item.
type routeEntry struct {
	TargetPrefix     string `json:"targetPrefix"`
	ConnectorLedger  string `json:"connectorLedger"`
	ConnectorAccount string `json:"connectorAccount"`
}

func parseRoutes(s string) ([]connector.StaticRoute, error) {
	var rs []routeEntry
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(&rs); err != nil {
		return nil, fmt.Errorf(`not a JSON array of {"targetPrefix", "connectorLedger", "connectorAccount"}: %w`, err)
	}
	out := make([]connector.StaticRoute, 0, len(rs))
	for i, r := range rs {
		if r.TargetPrefix == "" || r.ConnectorLedger == "" || r.ConnectorAccount == "" {
			return nil, fmt.Errorf("route %d: targetPrefix, connectorLedger and connectorAccount are required", i)
		}
		if !strings.HasPrefix(r.ConnectorAccount, r.ConnectorLedger) {
			return nil, fmt.Errorf("route %d: connectorAccount %s is not on connectorLedger %s", i, r.ConnectorAccount, r.ConnectorLedger)
		}
		out = append(out, connector.StaticRoute{TargetPrefix: r.TargetPrefix, Ledger: r.ConnectorLedger, Account: r.ConnectorAccount})
	}
	return out, nil
}
