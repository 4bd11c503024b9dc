// Package kit owns the wallet: the users of a kit as accounts of its ILP Kit
// Server plugin, their passwords, sessions and tokens, the kit's identity
// (ILP prefix and root secret, chosen once and kept in its database), and
// the connector that joins the kit's ledger to its peers. It wires the
// pieces together; web serves it over HTTP and cmd/ilpkit starts it.
package kit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/kit/cluster"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
	"github.com/ilpkit/ilpkit/plugin/virtual"
	"github.com/ilpkit/ilpkit/spsp"
)

// Defaults of a kit started with no configuration.
const (
	DefaultCurrencyCode  = "USD"
	DefaultCurrencyScale = 9
	DefaultMaxHoldTime   = 100 * time.Second // CONNECTOR_MAX_HOLD_TIME of the 2017 kit
	DefaultAdminUser     = "admin"
	DefaultPublicPath    = "/api"
	// IssuerAccount is the kit's own account on its ledger (the
	// connector's), which no user can take.
	IssuerAccount = "connector"
)

// Config configures a kit. Empty fields take the defaults above.
type Config struct {
	// DBURI names the database: a SQLite file path (or sqlite:path) or a
	// postgres:// URL (required; cmd/ilpkit defaults it to a file in the
	// data directory).
	DBURI string
	// Hostname, Port, PublicHTTPS, PublicPort and PublicPath make the
	// kit's public URLs: <scheme>://<Hostname>[:<PublicPort>]<PublicPath>.
	Hostname    string
	Port        int
	PublicHTTPS bool
	PublicPort  int // 0: Port
	PublicPath  string
	// Secret is the root secret (API_SECRET); empty: generated once and
	// kept in the database. Every other secret derives from it.
	Secret string
	// Prefix is the kit's ILP prefix (LEDGER_ILP_PREFIX); empty: generated
	// once and kept.
	Prefix        string
	CurrencyCode  string
	CurrencyScale *int
	MaxHoldTime   time.Duration
	// AdminUser is the admin's user name; AdminPass its password when the
	// admin is created (empty: generated, see Kit.GeneratedAdminPassword).
	AdminUser string
	AdminPass string
	// Registration opens registration to anyone; otherwise an invite
	// code is needed.
	Registration bool
	// AllowHTTPPeers looks other kits up over plain HTTP (WebFinger,
	// SPSP): only for tests on loopback.
	AllowHTTPPeers bool
	// HTTPClient makes the kit's outgoing requests; nil: a client with
	// timeouts.
	HTTPClient *http.Client
	// BroadcastInterval and RouteExpiry tune the connector's route
	// broadcasts (CONNECTOR_ROUTE_BROADCAST_INTERVAL, CONNECTOR_ROUTE_EXPIRY);
	// zero: the 2017 defaults, 30 s and 45 s.
	BroadcastInterval time.Duration
	RouteExpiry       time.Duration
	// MinMessageWindow is how much sooner than the incoming transfer the
	// connector's outgoing transfer expires (CONNECTOR_MIN_MESSAGE_WINDOW):
	// the time the connector has to pass a fulfillment back, through a
	// restart if need be; zero: 1 s.
	MinMessageWindow time.Duration
	// LeaderInterval is how often a process sharing a PostgreSQL database
	// with others tries the leader's lock (and the leader checks it still
	// holds it): the leader's work moves to another process within about
	// this long after its process dies; zero: 1 s.
	LeaderInterval time.Duration
	// Clock and Logger are injected; nil: the system clock, discard.
	Clock  ledger.Clock
	Logger *slog.Logger
	// Random is the source of generated secrets; nil: crypto/rand.
	Random io.Reader
	// Mail sends the admin's password reset links by email, when set.
	Mail MailConfig
}

// Kit is a running kit.
type Kit struct {
	cfg     Config
	log     *slog.Logger
	clock   ledger.Clock
	random  io.Reader
	st      *store.Store
	db      *sqlbackend.DB
	server  *trustline.Server
	issuer  ledger.Plugin
	conn    *connector.Connector
	hasher  *hasher
	secret  []byte
	prefix  string
	cancel  context.CancelFunc
	done    chan struct{}
	adminPw string // generated admin password, "" if none

	httpClient *http.Client
	hub        hub
	peers      peers

	limitsMu sync.RWMutex
	defaults DefaultLimits
	unsub    func()

	viewMu sync.Mutex
	views  map[string]ledger.Plugin

	bgMu     sync.Mutex
	bg       sync.WaitGroup
	bgClosed bool
	bgCtx    context.Context
	bgCancel context.CancelFunc
	closing  chan struct{}

	// The processes sharing the database (kit/cluster): shared when it is
	// PostgreSQL; leading while this process leads.
	bus     bus
	pg      *cluster.Postgres // when shared
	shared  bool
	leading atomic.Bool

	mail *mailer // nil: no email

	requests sync.Map // id -> chan replyMessage: requests asked of other processes
}

// Open opens the kit's database (migrating it), restores its identity,
// users and trustline state, and starts its connector.
func Open(ctx context.Context, cfg Config) (*Kit, error) {
	if cfg.DBURI == "" {
		return nil, errors.New("kit: no database")
	}
	if cfg.CurrencyCode == "" {
		cfg.CurrencyCode = DefaultCurrencyCode
	}
	if cfg.CurrencyScale == nil {
		s := DefaultCurrencyScale
		cfg.CurrencyScale = &s
	}
	if cfg.MaxHoldTime <= 0 {
		cfg.MaxHoldTime = DefaultMaxHoldTime
	}
	if cfg.AdminUser == "" {
		cfg.AdminUser = DefaultAdminUser
	}
	if cfg.PublicPath == "" {
		cfg.PublicPath = DefaultPublicPath
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.Clock == nil {
		cfg.Clock = ledger.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if err := validUsername(cfg.AdminUser); err != nil {
		return nil, fmt.Errorf("kit: admin user: %w", err)
	}
	m, err := newMailer(cfg.Mail)
	if err != nil {
		return nil, err
	}
	k := &Kit{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, random: cfg.Random, hasher: newHasher(),
		done: make(chan struct{}), closing: make(chan struct{}), httpClient: cfg.HTTPClient}
	k.mail = m
	k.peers.mux = virtual.NewMux()
	if k.httpClient == nil {
		k.httpClient = &http.Client{Timeout: 15 * time.Second}
	}
	k.bgCtx, k.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	ok := false
	defer func() {
		if !ok {
			_ = k.Close(context.WithoutCancel(ctx))
		}
	}()
	if k.st, err = store.Open(ctx, cfg.DBURI, store.Options{Now: cfg.Clock.Now, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if err := k.identity(ctx); err != nil {
		return nil, err
	}
	if err := k.openBus(ctx); err != nil {
		return nil, err
	}
	if k.db, err = sqlbackend.Open(ctx, cfg.DBURI, sqlbackend.WithLogger(cfg.Logger), sqlbackend.WithClock(cfg.Clock.Now)); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	be, err := k.db.Backend(ctx, k.prefix)
	if err != nil {
		return nil, fmt.Errorf("kit: ledger backend: %w", err)
	}
	tcfg := trustline.Config{
		Prefix: k.prefix, CurrencyCode: cfg.CurrencyCode, CurrencyScale: *cfg.CurrencyScale,
		Backend: be, Issuer: IssuerAccount, MaxHoldTime: cfg.MaxHoldTime, Clock: cfg.Clock, Logger: cfg.Logger,
	}
	if k.shared {
		tcfg.Relay = k.relayLedger
		tcfg.RemoteRequest = k.remoteRequest
	}
	k.server, err = trustline.New(tcfg)
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if err := k.loadDefaults(ctx); err != nil {
		return nil, err
	}
	if err := k.loadAccounts(ctx); err != nil {
		return nil, err
	}
	k.unsub = k.server.Subscribe(k.onEvent)
	if err := k.server.Connect(ctx); err != nil {
		return nil, fmt.Errorf("kit: ledger: %w", err)
	}
	if err := k.ensureAdmin(ctx); err != nil {
		return nil, err
	}
	if k.issuer, err = k.server.Plugin(IssuerAccount); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if err := k.issuer.Connect(ctx); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	ccfg := connector.Config{
		Secret:            k.derive("CONNECTOR_SECRET"),
		MaxHoldTime:       cfg.MaxHoldTime,
		BroadcastInterval: cfg.BroadcastInterval,
		RouteExpiry:       cfg.RouteExpiry,
		MinMessageWindow:  cfg.MinMessageWindow,
		Clock:             cfg.Clock,
		Logger:            cfg.Logger.With("component", "connector"),
	}
	if k.shared {
		ccfg.OnRoutes = k.relayRoutes
	}
	k.conn, err = connector.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if err := k.conn.AddPlugin(ctx, k.issuer, connector.PluginOptions{}); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if err := k.loadPeers(ctx); err != nil {
		return nil, err
	}
	// What the last run left half-done, now, before serving, when no other
	// process is present; otherwise the leader finishes what the dead left
	// (recoverLost), never touching what a live process may be doing.
	alone := !k.shared
	if k.shared {
		others, err := k.pg.Others(ctx)
		if err != nil {
			k.log.Warn("who is present", "err", err)
		}
		alone = err == nil && others == 0
	}
	if alone {
		k.recoverAll(ctx)
	}
	if err := k.reconcileWithdrawals(ctx); err != nil {
		k.log.Warn("reconciling withdrawals", "err", err)
	}
	if err := k.loadSettlementMethods(ctx); err != nil {
		return nil, fmt.Errorf("kit: settlement methods: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k.cancel = cancel
	go func() {
		defer close(k.done)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); k.conn.RunCleanup(runCtx) }()
		k.bus.Run(runCtx, cluster.Callbacks{Lead: k.lead, Resync: k.resync, Lost: k.recoverLost})
		wg.Wait()
	}()
	ok = true
	k.log.Info("kit open", "prefix", k.prefix, "currency", cfg.CurrencyCode, "scale", *cfg.CurrencyScale)
	return k, nil
}

// Close stops the connector and closes the ledger and the database.
func (k *Kit) Close(ctx context.Context) error {
	select {
	case <-k.closing:
	default:
		close(k.closing)
	}
	if k.unsub != nil {
		k.unsub()
	}
	k.bgMu.Lock()
	k.bgClosed = true
	k.bgMu.Unlock()
	k.bgCancel()
	k.bg.Wait()
	if k.cancel != nil {
		k.cancel()
		<-k.done
	}
	if k.conn != nil {
		k.closePeers(ctx)
		k.conn.Close()
	}
	k.closeViews(ctx)
	var errs []error
	if k.issuer != nil {
		errs = append(errs, k.issuer.Disconnect(ctx))
	}
	if k.server != nil {
		errs = append(errs, k.server.Close(ctx))
	}
	errs = append(errs, k.closeStores())
	if k.pg != nil {
		k.pg.Close()
	}
	return errors.Join(errs...)
}

func (k *Kit) closeStores() error {
	var errs []error
	if k.db != nil {
		errs = append(errs, k.db.Close())
		k.db = nil
	}
	if k.st != nil {
		errs = append(errs, k.st.Close())
		k.st = nil
	}
	return errors.Join(errs...)
}

// Settings keys of the kit's identity.
const (
	settingSecret = "api_secret"
	settingPrefix = "ilp_prefix"
)

// identity restores (or chooses, the first time) the root secret and the
// ILP prefix.
func (k *Kit) identity(ctx context.Context) error {
	secret := k.cfg.Secret
	if secret == "" {
		b := make([]byte, 33) // as ilp-kit-cli generated API_SECRET
		if _, err := io.ReadFull(k.random, b); err != nil {
			return fmt.Errorf("kit: secret: %w", err)
		}
		var err error
		if secret, err = k.st.InitSetting(ctx, settingSecret, base64.RawURLEncoding.EncodeToString(b)); err != nil {
			return fmt.Errorf("kit: %w", err)
		}
	}
	k.secret = []byte(secret)

	prefix := k.cfg.Prefix
	if prefix == "" {
		b := make([]byte, 8)
		if _, err := io.ReadFull(k.random, b); err != nil {
			return fmt.Errorf("kit: prefix: %w", err)
		}
		gen := "private.ilpkit." + strings.ToLower(strings.TrimRight(base32(b), "=")) + "."
		var err error
		if prefix, err = k.st.InitSetting(ctx, settingPrefix, gen); err != nil {
			return fmt.Errorf("kit: %w", err)
		}
	} else {
		if err := ilp.ValidatePrefix(prefix); err != nil {
			return fmt.Errorf("kit: LEDGER_ILP_PREFIX: %w", err)
		}
		if strings.HasPrefix(prefix, "peer.") {
			return errors.New("kit: LEDGER_ILP_PREFIX may not start with peer. (the peering prefixes)")
		}
		stored, err := k.st.InitSetting(ctx, settingPrefix, prefix)
		if err != nil {
			return fmt.Errorf("kit: %w", err)
		}
		if stored != prefix {
			k.log.Warn("the ILP prefix changed: balances stay with the old prefix's ledger", "was", stored, "now", prefix)
			if err := k.st.PutSetting(ctx, settingPrefix, prefix); err != nil {
				return fmt.Errorf("kit: %w", err)
			}
		}
	}
	k.prefix = prefix
	return nil
}

// base32 is lower-case RFC 4648 base32, which fits an ILP address segment.
func base32(b []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var sb strings.Builder
	var acc uint32
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			sb.WriteByte(alphabet[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		sb.WriteByte(alphabet[(acc<<(5-bits))&31])
	}
	return sb.String()
}

// derive is HMAC-SHA256(root secret, name), the derivation of ILP Kit 2.x.
func (k *Kit) derive(name string) []byte {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(name))
	return m.Sum(nil)
}

// PeeringSecret is CONNECTOR_ED25519_SECRET_KEY as 2.x derived it: the
// standard base64 of HMAC-SHA256(API_SECRET, "CONNECTOR_ED25519"), the seed
// of the kit's peering identity (plugin/virtual.NewIdentity).
func (k *Kit) PeeringSecret() string {
	return base64.StdEncoding.EncodeToString(k.derive("CONNECTOR_ED25519"))
}

// ReceiverSecret is the PSK receiver secret of a user, as 2.x derived it.
func (k *Kit) ReceiverSecret(username string) []byte {
	return spsp.ReceiverSecret(k.secret, k.prefix+username)
}

// Prefix is the kit's ILP prefix.
func (k *Kit) Prefix() string { return k.prefix }

// Server is the kit's ledger.
func (k *Kit) Server() *trustline.Server { return k.server }

// Connector is the kit's connector.
func (k *Kit) Connector() *connector.Connector { return k.conn }

// Store is the kit's database.
func (k *Kit) Store() *store.Store { return k.st }

// Currency returns the kit's currency code and scale.
func (k *Kit) Currency() (string, int) { return k.cfg.CurrencyCode, *k.cfg.CurrencyScale }

// GeneratedAdminPassword is the password generated for the admin when this
// start created the admin without API_LEDGER_ADMIN_PASS, "" otherwise: the
// caller prints it once.
func (k *Kit) GeneratedAdminPassword() string { return k.adminPw }

// PublicURL is the kit's public base URL, such as https://wallet.example.
func (k *Kit) PublicURL() string {
	scheme, def := "http", 80
	if k.cfg.PublicHTTPS {
		scheme, def = "https", 443
	}
	port := k.cfg.PublicPort
	if port == 0 {
		port = k.cfg.Port
	}
	host := k.cfg.Hostname
	if port != 0 && port != def {
		host += ":" + strconv.Itoa(port)
	}
	return scheme + "://" + host
}

// APIBase is the public URL of the API, such as https://wallet.example/api.
func (k *Kit) APIBase() string { return k.PublicURL() + strings.TrimSuffix(k.cfg.PublicPath, "/") }

// Host is the host of the kit's payment identifiers (user@host).
func (k *Kit) Host() string {
	return strings.TrimPrefix(strings.TrimPrefix(k.PublicURL(), "https://"), "http://")
}

// RegistrationOpen tells whether anyone may register without an invite.
func (k *Kit) RegistrationOpen() bool { return k.cfg.Registration }

// PeeringPublicKey is the kit's peering public key, which its host
// document publishes.
func (k *Kit) PeeringPublicKey() string {
	id, err := virtual.NewIdentity(k.PeeringSecret())
	if err != nil {
		return ""
	}
	return id.PublicKey()
}
