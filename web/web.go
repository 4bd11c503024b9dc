// Package web serves a kit over HTTP: the REST API under the public path
// (/api), WebFinger at /.well-known/webfinger, the SPSP endpoints of the
// users, the trustline interface for users' own programs, /health and
// Prometheus /metrics. Errors are JSON {"id": <stable machine-readable
// id>, "message": <text for people>}; internal details are logged, never
// sent. API.md in this directory documents the REST API for its clients.
package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/plugin/trustline"
	"github.com/ilpkit/ilpkit/spsp"
	"github.com/ilpkit/ilpkit/webfinger"
)

// Options configure the handler.
type Options struct {
	Logger  *slog.Logger
	Version string
	// Title is the kit's name, shown in its host document.
	Title string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For the
	// kit believes (ParseTrustedProxies); none: the client is always the
	// socket's peer. It only names the client (for the rate limits); the
	// public URL and the cookie's Secure flag come from the kit's
	// configuration, never from a header.
	TrustedProxies []netip.Prefix
}

// Server is the kit's HTTP handler.
type Server struct {
	k   *kit.Kit
	log *slog.Logger
	opt Options
	mux *http.ServeMux
	reg *prometheus.Registry
	api *api
	tl  *trustline.Handler
}

// New returns the HTTP handler of k.
func New(k *kit.Kit, o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Title == "" {
		o.Title = "ILP Kit"
	}
	s := &Server{k: k, log: o.Logger, opt: o, mux: http.NewServeMux(), reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ilpkit_leader",
			Help: "1 while this process leads the kit's processes (always, for a kit alone on its database), 0 otherwise."},
			func() float64 {
				if k.Leading() {
					return 1
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ilpkit_bus_dropped_total",
			Help: "Messages to the kit's other processes dropped because the queue was full."},
			func() float64 { return float64(k.BusDropped()) }))
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Registry is where the kit's metrics are registered.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func (s *Server) routes() {
	health := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// Which process leads the kit's processes (one, when they share a
		// PostgreSQL database): for operators and load balancer checks.
		role := "follower"
		if s.k.Leading() {
			role = "leader"
		}
		w.Header().Set("Ilpkit-Role", role)
		_, _ = w.Write([]byte("OK"))
	}
	s.mux.HandleFunc("GET /health", health)
	s.mux.HandleFunc("GET /api/health", health)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	s.mux.Handle(webfinger.Path, webfinger.Handler(s.webfinger))
	s.mux.HandleFunc("GET /api/config", s.config)
	s.mux.HandleFunc("GET /api/spsp/{user}", s.spspEndpoint)
	s.tl = trustline.NewHandler(s.k.Server(), s.k, trustline.HandlerOptions{Logger: s.log.With("component", "trustline")})
	s.mux.Handle("/api/trustline/", http.StripPrefix("/api/trustline", s.tl))
	s.mux.Handle("POST /api/peers/rpc", s.k.PeerRPC())
	s.api = newAPI(s)
	s.api.routes()
	s.mux.Handle("/", s.ui())
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFoundError", "no such endpoint")
	})
}

// apiError is the JSON of every error the API answers.
type apiError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, id, msg string) {
	writeJSON(w, status, apiError{ID: id, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// internal logs err and answers a generic 500.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "InternalServerError", "something went wrong on the kit")
}

// config is GET /api/config: what the UI and other kits need to know.
func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	code, scale := s.k.Currency()
	writeJSON(w, http.StatusOK, map[string]any{
		"clientUri":     s.k.PublicURL(),
		"ledgerUri":     s.k.PublicURL(),
		"ilpPrefix":     s.k.Prefix(),
		"currencyCode":  code,
		"currencyScale": scale,
		"registration":  s.k.RegistrationOpen(),
		"title":         s.opt.Title,
		"versions":      map[string]string{"current": s.opt.Version},
	})
}

// webfinger resolves the account documents of users and the host document.
func (s *Server) webfinger(ctx context.Context, resource string) (webfinger.Document, error) {
	base := s.k.PublicURL()
	if resource == base || resource == strings.TrimSuffix(base, "/")+"/" || resource == s.k.Host() {
		return webfinger.HostDocument(webfinger.Host{
			Subject: base, PublicKey: s.k.PeeringPublicKey(), Title: s.opt.Title,
			ProtocolVersion: "Compatible: ilp-kit v" + s.opt.Version, LedgerURI: base, APIBase: s.k.APIBase(),
		}), nil
	}
	user, host, err := webfinger.SplitIdentifier(resource)
	if err != nil || host != s.k.Host() {
		return webfinger.Document{}, webfinger.ErrNotFound
	}
	if _, err := s.k.Store().UserByName(ctx, user); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return webfinger.Document{}, webfinger.ErrNotFound
		}
		return webfinger.Document{}, err
	}
	return webfinger.AccountDocument(webfinger.Account{
		User: user, Host: host, APIBase: s.k.APIBase(), LedgerURI: base,
		ILPAddress: s.k.Prefix() + user, EventsURI: s.k.APIBase() + "/events",
	}), nil
}

// spspEndpoint is GET /api/spsp/{user}: a fresh PSK address and shared
// secret for paying the user.
func (s *Server) spspEndpoint(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	u, err := s.k.Store().UserByName(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		writeError(w, http.StatusNotFound, "NotFoundError", "no such user")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	code, scale := s.k.Currency()
	resp, err := spsp.NewResponse(rand.Reader, spsp.Setup{
		Account: s.k.Prefix() + u.Username, ReceiverSecret: s.k.ReceiverSecret(u.Username),
		CurrencyCode: code, CurrencyScale: scale,
		Info: spsp.ReceiverInfo{
			Name: u.Name, Identifier: u.Username + "@" + s.k.Host(),
			ImageURL: s.k.APIBase() + "/users/" + u.Username + "/profilepic",
		},
	})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
