package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/web"
)

// setting is one configuration value: a flag whose default comes from an
// environment variable (the 2.x name where one existed).
type setting struct {
	flag, env, def, help string
	alias                []string // older environment names, read when env is unset
}

var serveSettings = []setting{
	{"data-dir", "ILPKIT_DATA_DIR", "data", "directory of the embedded database (when DB_URI is unset)", nil},
	{"db-uri", "DB_URI", "", "database: a SQLite file path or postgres://... (default <data-dir>/ilpkit.db)", []string{"API_DB_URI"}},
	{"hostname", "API_HOSTNAME", "localhost", "public host name of the kit (payment identifiers are user@hostname)", nil},
	{"port", "API_PORT", "3010", "port the HTTP server listens on", nil},
	{"bind", "API_BIND_IP", "127.0.0.1", "address the HTTP server listens on (0.0.0.0 for every interface)", nil},
	{"public-https", "API_PUBLIC_HTTPS", "", "whether the public URLs are https (default: true unless the hostname is localhost or an IP)", nil},
	{"public-port", "API_PUBLIC_PORT", "", "public port when it differs from the listening port (behind a proxy)", nil},
	{"public-path", "API_PUBLIC_PATH", "/api", "public path of the API", nil},
	{"trusted-proxies", "ILPKIT_TRUSTED_PROXIES", "", "comma-separated IPs and CIDRs of the reverse proxies whose X-Forwarded-For names the client for rate limits (default: none, the client is the socket's peer)", nil},
	{"secret", "API_SECRET", "", "root secret every other secret derives from (default: generated once and kept in the database)", nil},
	{"ilp-prefix", "LEDGER_ILP_PREFIX", "", "ILP prefix of the kit's ledger, such as us.usd.red. (default: generated once and kept)", nil},
	{"currency-code", "LEDGER_CURRENCY_CODE", "USD", "currency of the kit's ledger", nil},
	{"currency-scale", "LEDGER_CURRENCY_SCALE", "9", "decimal places of the kit's base unit", nil},
	{"admin-user", "API_LEDGER_ADMIN_USER", "admin", "user name of the admin", []string{"LEDGER_ADMIN_USER"}},
	{"admin-pass", "API_LEDGER_ADMIN_PASS", "", "password of the admin when it is created (default: generated and printed once)", []string{"LEDGER_ADMIN_PASS"}},
	{"registration", "API_REGISTRATION", "false", "let anyone register (otherwise an invite code is needed)", nil},
	{"max-hold-time", "CONNECTOR_MAX_HOLD_TIME", "100", "longest time, in seconds, a payment may hold money", nil},
	{"allow-http-peers", "ILPKIT_ALLOW_HTTP_PEERS", "false", "look other kits up over plain HTTP (only for tests on loopback)", nil},
	{"smtp-url", "ILPKIT_SMTP_URL", "", "SMTP server that emails the admin's password reset links: smtp://[user:password@]host[:port] (STARTTLS) or smtps://... (default: no email; the admin passes the link on)", nil},
	{"email-sender-address", "API_EMAIL_SENDER_ADDRESS", "", "sender address of the kit's email (needed with ILPKIT_SMTP_URL)", nil},
	{"email-sender-name", "API_EMAIL_SENDER_NAME", "", "sender name of the kit's email (default: CLIENT_TITLE)", nil},
	{"route-broadcast-interval", "CONNECTOR_ROUTE_BROADCAST_INTERVAL", "30000", "milliseconds between route broadcasts to peers", nil},
	{"route-expiry", "CONNECTOR_ROUTE_EXPIRY", "45000", "milliseconds a peer's routes live without a broadcast", nil},
	{"min-message-window", "CONNECTOR_MIN_MESSAGE_WINDOW", "1", "seconds by which a forwarded transfer expires before the one it pays for", nil},
	{"title", "CLIENT_TITLE", "ILP Kit", "name of the kit shown to users and peers", nil},
	{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error", []string{"CONNECTOR_LOG_LEVEL"}},
	{"log-format", "LOG_FORMAT", "json", "json or text", nil},
}

const serveUsage = `Usage: ilpkit serve [flags]

Runs the kit: the wallet API, the SPSP and WebFinger endpoints, the kit's
ledger (the ILP Kit Server plugin) and its connector, in one process. With no
settings it keeps everything in an embedded SQLite database under ./data.
Several processes may share one PostgreSQL database (the same DB_URI,
API_HOSTNAME, API_PUBLIC_PORT and API_SECRET) behind a load balancer: one of
them leads (GET /health answers Ilpkit-Role: leader or follower) and another
takes over within a second or so when it dies.

Every setting is a flag or an environment variable (the flag wins):

`

// serveConfig is what serve runs with.
type serveConfig struct {
	kit    kit.Config
	listen string
	title  string
	log    *slog.Logger
	// proxies are the trusted reverse proxies (ILPKIT_TRUSTED_PROXIES).
	proxies []netip.Prefix
}

func loadServeConfig(args []string, getenv func(string) string, stdout, stderr io.Writer) (serveConfig, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals := map[string]*string{}
	for _, s := range serveSettings {
		def := getenv(s.env)
		for _, a := range s.alias {
			if def == "" {
				def = getenv(a)
			}
		}
		if def == "" {
			def = s.def
		}
		vals[s.flag] = fs.String(s.flag, def, s.help)
	}
	fs.Usage = func() {
		fmt.Fprint(stdout, serveUsage)
		for _, s := range serveSettings {
			fmt.Fprintf(stdout, "  --%s, %s", s.flag, s.env)
			if len(s.alias) > 0 {
				fmt.Fprintf(stdout, " (or %s)", strings.Join(s.alias, ", "))
			}
			fmt.Fprintf(stdout, "\n      %s", s.help)
			if s.def != "" {
				fmt.Fprintf(stdout, " [%s]", s.def)
			}
			fmt.Fprintln(stdout)
		}
	}
	if err := fs.Parse(args); err != nil {
		return serveConfig{}, err
	}
	if fs.NArg() > 0 {
		return serveConfig{}, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	v := func(name string) string { return strings.TrimSpace(*vals[name]) }
	var c serveConfig
	var err error

	var level slog.Level
	if err := level.UnmarshalText([]byte(v("log-level"))); err != nil {
		return c, fmt.Errorf("%w: LOG_LEVEL %q", errUsage, v("log-level"))
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch v("log-format") {
	case "json":
		c.log = slog.New(slog.NewJSONHandler(stderr, hopts))
	case "text":
		c.log = slog.New(slog.NewTextHandler(stderr, hopts))
	default:
		return c, fmt.Errorf("%w: LOG_FORMAT must be json or text", errUsage)
	}

	k := &c.kit
	k.DBURI = v("db-uri")
	if k.DBURI == "" {
		dir := v("data-dir")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return c, fmt.Errorf("data directory: %w", err)
		}
		k.DBURI = filepath.Join(dir, "ilpkit.db")
	}
	k.Hostname = v("hostname")
	if k.Port, err = port(v("port"), "API_PORT"); err != nil {
		return c, err
	}
	if p := v("public-port"); p != "" {
		if k.PublicPort, err = port(p, "API_PUBLIC_PORT"); err != nil {
			return c, err
		}
	}
	local := k.Hostname == "localhost" || net.ParseIP(k.Hostname) != nil
	if k.PublicHTTPS, err = boolSetting(v("public-https"), !local, "API_PUBLIC_HTTPS"); err != nil {
		return c, err
	}
	k.PublicPath = v("public-path")
	if !strings.HasPrefix(k.PublicPath, "/") {
		return c, fmt.Errorf("%w: API_PUBLIC_PATH must start with /", errUsage)
	}
	if k.PublicPath != "/api" {
		return c, fmt.Errorf("%w: API_PUBLIC_PATH other than /api needs a proxy that maps it to /api", errUsage)
	}
	if c.proxies, err = web.ParseTrustedProxies(v("trusted-proxies")); err != nil {
		return c, fmt.Errorf("%w: ILPKIT_TRUSTED_PROXIES: %w", errUsage, err)
	}
	k.Secret = v("secret")
	k.Prefix = v("ilp-prefix")
	k.CurrencyCode = strings.ToUpper(v("currency-code"))
	scale, err := strconv.Atoi(v("currency-scale"))
	if err != nil || scale < 0 || scale > 19 {
		return c, fmt.Errorf("%w: LEDGER_CURRENCY_SCALE must be 0 to 19", errUsage)
	}
	k.CurrencyScale = &scale
	k.AdminUser = v("admin-user")
	k.AdminPass = *vals["admin-pass"]
	if k.Registration, err = boolSetting(v("registration"), false, "API_REGISTRATION"); err != nil {
		return c, err
	}
	hold, err := strconv.ParseFloat(v("max-hold-time"), 64)
	if err != nil || hold <= 0 || hold > 24*3600 {
		return c, fmt.Errorf("%w: CONNECTOR_MAX_HOLD_TIME must be a number of seconds", errUsage)
	}
	k.MaxHoldTime = time.Duration(hold * float64(time.Second))
	if k.AllowHTTPPeers, err = boolSetting(v("allow-http-peers"), false, "ILPKIT_ALLOW_HTTP_PEERS"); err != nil {
		return c, err
	}
	k.Mail = kit.MailConfig{SMTPURL: v("smtp-url"), From: v("email-sender-address"), FromName: v("email-sender-name")}
	if k.Mail.SMTPURL != "" && k.Mail.From == "" {
		return c, fmt.Errorf("%w: ILPKIT_SMTP_URL needs API_EMAIL_SENDER_ADDRESS", errUsage)
	}
	if k.Mail.FromName == "" {
		k.Mail.FromName = v("title")
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
		env  string
	}{{"route-broadcast-interval", &k.BroadcastInterval, "CONNECTOR_ROUTE_BROADCAST_INTERVAL"}, {"route-expiry", &k.RouteExpiry, "CONNECTOR_ROUTE_EXPIRY"}} {
		ms, err := strconv.ParseUint(v(d.name), 10, 32)
		if err != nil || ms == 0 {
			return c, fmt.Errorf("%w: %s must be a positive number of milliseconds", errUsage, d.env)
		}
		*d.dst = time.Duration(ms) * time.Millisecond
	}
	win, err := strconv.ParseFloat(v("min-message-window"), 64)
	if err != nil || win <= 0 || win > 60 {
		return c, fmt.Errorf("%w: CONNECTOR_MIN_MESSAGE_WINDOW must be a number of seconds", errUsage)
	}
	k.MinMessageWindow = time.Duration(win * float64(time.Second))
	if k.RouteExpiry <= k.BroadcastInterval {
		return c, fmt.Errorf("%w: CONNECTOR_ROUTE_EXPIRY must exceed CONNECTOR_ROUTE_BROADCAST_INTERVAL", errUsage)
	}
	k.Logger = c.log
	c.listen = net.JoinHostPort(v("bind"), strconv.Itoa(k.Port))
	c.title = v("title")
	return c, nil
}

func port(s, name string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("%w: %s must be a port number", errUsage, name)
	}
	return p, nil
}

func boolSetting(s string, def bool, name string) (bool, error) {
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%w: %s must be true or false", errUsage, name)
	}
	return b, nil
}

// runServe runs the kit until ctx is done, then shuts down gracefully.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := loadServeConfig(args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	// With port 0 the system chose one: the public URLs use it.
	if c.kit.Port == 0 {
		c.kit.Port = ln.Addr().(*net.TCPAddr).Port
	}
	k, err := kit.Open(ctx, c.kit)
	if err != nil {
		ln.Close()
		return err
	}
	if pw := k.GeneratedAdminPassword(); pw != "" {
		fmt.Fprintf(stdout, "Created the admin user %q with the password %s (shown once; change it after signing in).\n", c.kit.AdminUser, pw)
	}
	h := web.New(k, web.Options{Logger: c.log, Version: version, Title: c.title, TrustedProxies: c.proxies})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(c.log.Handler(), slog.LevelWarn)}
	srv.RegisterOnShutdown(h.Close) // ends the event streams, which Shutdown would wait for
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	c.log.Info("serving", "addr", ln.Addr().String(), "url", k.PublicURL(), "prefix", k.Prefix())
	fmt.Fprintf(stdout, "ILP Kit listening on http://%s (public URL %s)\n", ln.Addr(), k.PublicURL())
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	c.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	serr := srv.Shutdown(sctx)
	kerr := k.Close(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, serr, kerr)
}
