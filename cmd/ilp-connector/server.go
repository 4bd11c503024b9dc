package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ilpkit/ilpkit/backend/memory"
	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/virtual"
)

// ratesPollInterval is how often the fixerio backend fetches its document.
const ratesPollInterval = 10 * time.Minute

// Main is one connector process: its plugins, the connector, the HTTP
// listener and the metrics. Set the exported fields, call Open, and Close
// when done. End-to-end tests run several in one process on port 0.
type Main struct {
	Config Config
	// Logger receives the log; nil discards.
	Logger *slog.Logger
	// Clock runs the plugins' and the connector's timers; nil is the system
	// clock.
	Clock ledger.Clock
	// HTTPClient sends the peer RPC calls; nil lets each plugin use its own.
	HTTPClient *http.Client
	// Listener, when set, is served instead of listening on Config.Addr
	// (tests bind it first to learn the port).
	Listener net.Listener

	ln      net.Listener
	srv     *http.Server
	serveWG sync.WaitGroup
	db      *sqlbackend.DB
	conn    *connector.Connector
	rpc     *virtual.Mux
	metrics *metrics
	ledgers []*ledgerRuntime
	cancel  context.CancelFunc
	bgWG    sync.WaitGroup
}

// ledgerRuntime is one configured ledger once built.
type ledgerRuntime struct {
	cfg     LedgerConfig
	plugin  connector.Plugin // what the connector holds
	virtual *virtual.Plugin
	local   *localLedger
	added   bool
	unwatch func()
}

// Open builds and connects the plugins, starts the connector and the HTTP
// listener. On error, call Close to release what was started.
func (m *Main) Open(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Clock == nil {
		m.Clock = ledger.SystemClock{}
	}
	cfg := m.Config
	if cfg.Secret == nil {
		cfg.Secret = make([]byte, 32)
		if _, err := rand.Read(cfg.Secret); err != nil {
			return fmt.Errorf("secret: %w", err)
		}
		m.Logger.Warn("no CONNECTOR_SECRET or CONNECTOR_ED25519_SECRET_KEY: outgoing transfer ids will differ after a restart")
	}
	m.metrics = newMetrics()
	m.rpc = virtual.NewMux()
	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel

	if cfg.DBURI != "" {
		db, err := sqlbackend.Open(ctx, cfg.DBURI, sqlbackend.WithLogger(m.Logger))
		if err != nil {
			return fmt.Errorf("open database: %w", err)
		}
		m.db = db
	}
	backend := func(prefix string) (ledger.Backend, error) {
		if m.db == nil {
			return memory.New(), nil
		}
		b, err := m.db.Backend(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("backend of %s: %w", prefix, err)
		}
		return b, nil
	}

	for _, l := range cfg.Ledgers {
		rt, err := m.buildLedger(l, backend)
		if err != nil {
			return err
		}
		m.ledgers = append(m.ledgers, rt)
	}

	var rates connector.Rates = connector.OneToOne{}
	if cfg.Backend == backendFixed {
		rates = cfg.Rates
	}
	if cfg.Backend == backendFixerio {
		h := &connector.HTTPRates{URL: cfg.BackendURI}
		rates = h
		m.bgWG.Add(1)
		go func() {
			defer m.bgWG.Done()
			h.Poll(bg, ratesPollInterval, func(err error) { m.Logger.Warn("rates", "err", err) })
		}()
	}
	conn, err := connector.New(connector.Config{
		Secret:            cfg.Secret,
		Rates:             rates,
		Spread:            cfg.Spread,
		Slippage:          cfg.Slippage,
		MinMessageWindow:  cfg.MinMessageWindow,
		MaxHoldTime:       cfg.MaxHoldTime,
		QuoteExpiry:       cfg.QuoteExpiry,
		RouteExpiry:       cfg.RouteExpiry,
		BroadcastInterval: cfg.BroadcastInterval,
		CleanupInterval:   cfg.CleanupInterval,
		DisableBroadcast:  !cfg.BroadcastEnabled,
		OmitCurves:        !cfg.BroadcastCurves,
		DropCurves:        !cfg.StoreCurves,
		StaticRoutes:      cfg.Routes,
		Clock:             m.Clock,
		Logger:            m.Logger,
	})
	if err != nil {
		return fmt.Errorf("connector: %w", err)
	}
	m.conn = conn

	for _, rt := range m.ledgers {
		rt.unwatch = m.metrics.watch(rt.cfg.Prefix, rt.plugin)
		if err := m.connectLedger(ctx, rt); err != nil {
			return err
		}
		var peers []string
		for _, p := range cfg.Peers {
			if ledgerOf(cfg.Ledgers, p) == rt.cfg.Prefix {
				peers = append(peers, p)
			}
		}
		opts := connector.PluginOptions{Peers: peers, NoAutoloadPeers: !cfg.AutoloadPeers}
		if err := conn.AddPlugin(ctx, meteredPlugin{Plugin: rt.plugin, prefix: rt.cfg.Prefix, m: m.metrics}, opts); err != nil {
			return fmt.Errorf("add ledger %s: %w", rt.cfg.Prefix, err)
		}
		rt.added = true
	}

	ln := m.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	m.ln = ln
	m.srv = &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.serveWG.Add(1)
	go func() {
		defer m.serveWG.Done()
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http", "err", err)
		}
	}()

	m.bgWG.Add(1)
	go func() {
		defer m.bgWG.Done()
		conn.Run(bg)
	}()
	m.Logger.Info("listening", "addr", ln.Addr().String(), "ledgers", conn.Ledgers(), "debug_endpoints", cfg.DebugEndpoints)
	return nil
}

func (m *Main) buildLedger(l LedgerConfig, backend func(string) (ledger.Backend, error)) (*ledgerRuntime, error) {
	rt := &ledgerRuntime{cfg: l}
	switch {
	case l.Virtual != nil:
		v := l.Virtual
		id, err := virtual.NewIdentity(v.Secret)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: %w", l.Prefix, err)
		}
		peering, err := id.Peer(v.PeerPublicKey, l.Currency, *v.CurrencyScale)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: %w", l.Prefix, err)
		}
		if peering.Prefix != l.Prefix {
			return nil, fmt.Errorf("%w: CONNECTOR_LEDGERS: ledger %s: this peering's prefix is %s (from the two public keys, currency and scale)", errConfig, l.Prefix, peering.Prefix)
		}
		b, err := backend(l.Prefix)
		if err != nil {
			return nil, err
		}
		p, err := virtual.New(virtual.Options{
			Identity:      id,
			PeerPublicKey: v.PeerPublicKey,
			CurrencyCode:  l.Currency,
			CurrencyScale: *v.CurrencyScale,
			Prefix:        l.Prefix,
			MaxBalance:    v.maxBalance,
			RPCURI:        v.RPCURI,
			Backend:       b,
			HTTPClient:    m.HTTPClient,
			Connectors:    v.Info.Connectors,
			Logger:        m.Logger,
			Clock:         m.Clock,
		})
		if err != nil {
			return nil, fmt.Errorf("ledger %s: %w", l.Prefix, err)
		}
		rt.virtual, rt.plugin = p, p
		m.rpc.Add(p)
	case l.Local != nil:
		cb, err := backend(l.Prefix)
		if err != nil {
			return nil, err
		}
		ub, err := backend(l.Prefix + l.Local.Account + ".")
		if err != nil {
			return nil, err
		}
		ll, err := newLocalLedger(l, cb, ub, m.Clock, m.Logger)
		if err != nil {
			return nil, err
		}
		rt.local, rt.plugin = ll, ll.conn
	default:
		return nil, fmt.Errorf("%w: ledger %s has no plugin", errConfig, l.Prefix)
	}
	return rt, nil
}

func (m *Main) connectLedger(ctx context.Context, rt *ledgerRuntime) error {
	if rt.local != nil {
		return rt.local.connect(ctx)
	}
	if err := rt.virtual.Connect(ctx); err != nil {
		return fmt.Errorf("connect ledger %s: %w", rt.cfg.Prefix, err)
	}
	return nil
}

// Addr returns the address the HTTP listener is bound to.
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// URL returns the base URL of the HTTP listener.
func (m *Main) URL() string { return "http://" + m.Addr() }

// Close shuts the process down gracefully: the HTTP listener stops taking
// calls and waits for those in progress (until ctx), the connector stops and
// releases its plugins, the plugins disconnect and the database closes.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.srv != nil {
		if err := m.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		m.serveWG.Wait()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.bgWG.Wait()
	if m.conn != nil {
		for _, rt := range m.ledgers {
			if rt.added {
				if err := m.conn.RemovePlugin(ctx, rt.cfg.Prefix); err != nil {
					errs = append(errs, fmt.Errorf("remove %s: %w", rt.cfg.Prefix, err))
				}
			}
		}
		m.conn.Close()
	}
	for _, rt := range m.ledgers {
		if rt.unwatch != nil {
			rt.unwatch()
		}
		var err error
		switch {
		case rt.local != nil:
			err = rt.local.close(ctx)
		case rt.virtual != nil:
			m.rpc.Remove(rt.cfg.Prefix)
			err = rt.virtual.Disconnect(ctx)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("disconnect %s: %w", rt.cfg.Prefix, err))
		}
	}
	if m.db != nil {
		if err := m.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Handler returns the process's HTTP handler.
func (m *Main) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/rpc", m.rpc)
	mux.HandleFunc("GET /health", m.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{}))
	if m.Config.DebugEndpoints {
		mux.HandleFunc("POST /debug/receiver", m.serveReceiver)
		mux.HandleFunc("POST /debug/quote", m.serveQuote)
		mux.HandleFunc("POST /debug/pay", m.servePay)
		mux.HandleFunc("GET /debug/balances", m.serveBalances)
	}
	return mux
}

type healthLedger struct {
	Prefix    string `json:"prefix"`
	Plugin    string `json:"plugin"`
	Currency  string `json:"currency"`
	Account   string `json:"account"`
	Connected bool   `json:"connected"`
}

func (m *Main) serveHealth(w http.ResponseWriter, _ *http.Request) {
	out := struct {
		Status  string         `json:"status"`
		Ledgers []healthLedger `json:"ledgers"`
		// Destinations are the prefixes the connector can reach.
		Destinations []string `json:"destinations"`
	}{Status: "ok", Ledgers: []healthLedger{}, Destinations: []string{}}
	for _, rt := range m.ledgers {
		h := healthLedger{Prefix: rt.cfg.Prefix, Plugin: rt.cfg.Plugin, Currency: rt.cfg.Currency, Account: rt.plugin.Account()}
		if rt.local != nil {
			h.Connected = rt.local.conn.IsConnected()
		} else {
			h.Connected = rt.virtual.IsConnected()
		}
		out.Ledgers = append(out.Ledgers, h)
	}
	seen := map[string]bool{}
	for _, e := range m.conn.LocalTables().Routes() {
		if !seen[e.TargetPrefix] {
			seen[e.TargetPrefix] = true
			out.Destinations = append(out.Destinations, e.TargetPrefix)
		}
	}
	sort.Strings(out.Destinations)
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
